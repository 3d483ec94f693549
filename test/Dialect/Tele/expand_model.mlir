// RUN: tele-opt %s -split-input-file --tele-expand-model="batch=2" | FileCheck %s

// tele-expand-model: every tele.model becomes @<model>_loss(%tokens, %targets)
// computing the mean next-token cross-entropy of a Llama-style decoder over
// tele.param reads with Hugging Face names.

// One layer, in full: embedding, pre-norm attention, pre-norm SwiGLU MLP,
// final norm, LM head, alpha_out and cross-entropy.
// CHECK-LABEL: func.func @tiny_loss
// CHECK-SAME: (%[[TOK:[^:]+]]: tensor<2x4xi32>, %[[TGT:[^:]+]]: tensor<2x4xi32>) -> tensor<f32>
// CHECK-SAME: attributes {tele.model_config = #tele.config<vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, alpha_out = 3.125000e-02>}
// CHECK: %[[EMB:.+]] = tele.param "model.embed_tokens.weight" {group = #tele.group<vector>} : tensor<16x8xf32>
// CHECK: %[[X:.+]] = tele.embed %[[EMB]], %[[TOK]] : tensor<16x8xf32>, tensor<2x4xi32> -> tensor<2x4x8xf32>
// CHECK: %[[G1:.+]] = tele.param "model.layers.0.input_layernorm.weight" {group = #tele.group<vector>, init = #tele.init<ones>} : tensor<8xf32>
// CHECK: %[[N1:.+]] = tele.rms_norm %[[X]], %[[G1]] {eps = 1.000000e-05 : f64}
// CHECK: %[[WQ:.+]] = tele.param "model.layers.0.self_attn.q_proj.weight" : tensor<8x8xf32>
// CHECK: %[[Q:.+]] = tele.linear %[[N1]], %[[WQ]]
// CHECK: %[[WK:.+]] = tele.param "model.layers.0.self_attn.k_proj.weight" : tensor<8x8xf32>
// CHECK: %[[K:.+]] = tele.linear %[[N1]], %[[WK]]
// CHECK: %[[WV:.+]] = tele.param "model.layers.0.self_attn.v_proj.weight" : tensor<8x8xf32>
// CHECK: %[[V:.+]] = tele.linear %[[N1]], %[[WV]]
// CHECK: %[[QR:.+]] = tele.rope %[[Q]] {head_dim = 4 : i64, theta = 1.000000e+04 : f64}
// CHECK: %[[KR:.+]] = tele.rope %[[K]] {head_dim = 4 : i64, theta = 1.000000e+04 : f64}
// CHECK: %[[ATT:.+]] = tele.attention %[[QR]], %[[KR]], %[[V]] {head_dim = 4 : i64} : tensor<2x4x8xf32>
// CHECK: %[[WO:.+]] = tele.param "model.layers.0.self_attn.o_proj.weight" : tensor<8x8xf32>
// CHECK: %[[O:.+]] = tele.linear %[[ATT]], %[[WO]]
// CHECK: %[[H:.+]] = tele.add %[[X]], %[[O]]
// CHECK: %[[G2:.+]] = tele.param "model.layers.0.post_attention_layernorm.weight" {group = #tele.group<vector>, init = #tele.init<ones>} : tensor<8xf32>
// CHECK: %[[N2:.+]] = tele.rms_norm %[[H]], %[[G2]]
// CHECK: %[[WG:.+]] = tele.param "model.layers.0.mlp.gate_proj.weight" : tensor<12x8xf32>
// CHECK: %[[GATE:.+]] = tele.linear %[[N2]], %[[WG]] : tensor<2x4x8xf32>, tensor<12x8xf32> -> tensor<2x4x12xf32>
// CHECK: %[[WU:.+]] = tele.param "model.layers.0.mlp.up_proj.weight" : tensor<12x8xf32>
// CHECK: %[[UP:.+]] = tele.linear %[[N2]], %[[WU]]
// CHECK: %[[S:.+]] = tele.swiglu %[[GATE]], %[[UP]] : tensor<2x4x12xf32>
// CHECK: %[[WD:.+]] = tele.param "model.layers.0.mlp.down_proj.weight" : tensor<8x12xf32>
// CHECK: %[[D:.+]] = tele.linear %[[S]], %[[WD]] : tensor<2x4x12xf32>, tensor<8x12xf32> -> tensor<2x4x8xf32>
// CHECK: %[[OUT:.+]] = tele.add %[[H]], %[[D]]
// CHECK: %[[GF:.+]] = tele.param "model.norm.weight" {group = #tele.group<vector>, init = #tele.init<ones>} : tensor<8xf32>
// CHECK: %[[NF:.+]] = tele.rms_norm %[[OUT]], %[[GF]]
// CHECK: %[[WLM:.+]] = tele.param "lm_head.weight" : tensor<16x8xf32>
// CHECK: %[[LOGITS:.+]] = tele.linear %[[NF]], %[[WLM]] : tensor<2x4x8xf32>, tensor<16x8xf32> -> tensor<2x4x16xf32>
// CHECK: %[[SCALED:.+]] = tele.scale %[[LOGITS]] {factor = 3.125000e-02 : f64}
// CHECK: %[[LOSS:.+]] = tele.cross_entropy %[[SCALED]], %[[TGT]] : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
// CHECK: return %[[LOSS]] : tensor<f32>
// CHECK-NOT: tele.mask
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, alpha_out = 0.03125>

// -----

// Two layers: layer 1 has its own parameters and reads layer 0's output.
// CHECK-LABEL: func.func @two_loss
// CHECK: tele.param "model.layers.0.input_layernorm.weight"
// CHECK: tele.param "model.layers.0.mlp.down_proj.weight"
// CHECK: %[[L0:.+]] = tele.add
// CHECK-NOT: model.layers.0.
// CHECK: %[[G:.+]] = tele.param "model.layers.1.input_layernorm.weight"
// CHECK: tele.rms_norm %[[L0]], %[[G]]
// CHECK: tele.param "model.layers.1.self_attn.q_proj.weight" : tensor<8x8xf32>
// CHECK: tele.param "model.layers.1.self_attn.k_proj.weight" : tensor<8x8xf32>
// CHECK: tele.param "model.layers.1.self_attn.v_proj.weight" : tensor<8x8xf32>
// CHECK: tele.param "model.layers.1.self_attn.o_proj.weight" : tensor<8x8xf32>
// CHECK: tele.add %[[L0]], %{{.+}}
// CHECK: tele.param "model.layers.1.post_attention_layernorm.weight"
// CHECK: tele.param "model.layers.1.mlp.gate_proj.weight" : tensor<12x8xf32>
// CHECK: tele.param "model.layers.1.mlp.up_proj.weight" : tensor<12x8xf32>
// CHECK: tele.param "model.layers.1.mlp.down_proj.weight" : tensor<8x12xf32>
// CHECK-NOT: model.layers.2.
// CHECK: tele.param "model.norm.weight"
// CHECK: tele.param "lm_head.weight"
tele.model @two <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>

// -----

// Config values other than shapes flow into the ops: eps into every RMSNorm,
// rope_theta into RoPE; alpha_out at its default 1.0 adds no logit scale.
// CHECK-LABEL: func.func @custom_loss
// CHECK: tele.rms_norm {{.+}} {eps = 9.9999999999999995E-7 : f64}
// CHECK-COUNT-2: tele.rope {{.+}} {head_dim = 8 : i64, theta = 5.000000e+05 : f64} : tensor<2x3x16xf32>
// CHECK: tele.attention {{.+}} {head_dim = 8 : i64} : tensor<2x3x16xf32>
// CHECK: tele.rms_norm {{.+}} {eps = 9.9999999999999995E-7 : f64}
// CHECK: tele.rms_norm {{.+}} {eps = 9.9999999999999995E-7 : f64}
// CHECK-NOT: tele.scale
// CHECK: tele.cross_entropy
tele.model @custom <vocab = 32, hidden = 16, heads = 2, head_dim = 8, ffn = 24, layers = 1, seq_len = 3, eps = 1.0e-6, rope_theta = 5.0e5>

// -----

// Every model is expanded, in module order; the model ops and plans stay.
// CHECK-LABEL: tele.model @a <
// CHECK-NEXT: tele.model @b <
// CHECK-NEXT: tele.plan @p
// CHECK: tele.grow.depth @a -> @b
// CHECK-LABEL: func.func @a_loss
// CHECK-SAME: tensor<2x4xi32>
// CHECK-LABEL: func.func @b_loss
// CHECK-SAME: tensor<2x4xi32>
// CHECK: tele.param "model.layers.2.mlp.down_proj.weight"
tele.model @a <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @b <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 3, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @a <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.depth @a -> @b {transition_steps = 5}
  tele.stage @s1 on @b <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
