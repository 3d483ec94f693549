// RUN: tele-opt %s -split-input-file --tele-lower-growth="batch=2" | FileCheck %s
// RUN: tele-opt %s -split-input-file --tele-lower-growth="batch=2" | FileCheck %s --check-prefix=ORDER
// RUN: tele-opt %s -split-input-file --tele-lower-growth="batch=2 moments=false" | FileCheck %s --check-prefix=NOMOM
// RUN: tele-opt %s -split-input-file --tele-lower-growth="batch=3 dtype=f64" | FileCheck %s --check-prefix=F64

// tele-lower-growth turns each growth op of a plan into a parameter map
// @grow_<source>_to_<target> (reads of every source tensor, then assigns of
// every target tensor) and the MSG-masked loss @<target>_loss of the grown
// model (docs/growth.md section 3). The ORDER prefix checks that the
// map reads everything before it assigns anything (depth growth renumbers
// layers in place), NOMOM that moments=false maps parameters only, F64 the
// dtype and batch options.

// Width growth of hidden (8 -> 12, hence heads 2 -> 3) and ffn (12 -> 16).
// Every tensor is padded top-left: new weight entries N(0, init_std), new
// norm gains 1, new first and second moments 0.
// CHECK-LABEL: func.func @grow_small_to_wide()
// CHECK-SAME: attributes {tele.model_config = #tele.config<vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>, tele.param_map}
// CHECK: %[[E:.+]] = tele.param "model.embed_tokens.weight" {group = #tele.group<vector>, init = #tele.init<zeros>} : tensor<16x8xf32>
// CHECK-NEXT: %[[E1:.+]] = tele.grow.pad %[[E]] {fill = #tele.fill<normal>, seed = {{[0-9]+}} : i64} : tensor<16x8xf32> -> tensor<16x12xf32>
// CHECK-NEXT: %[[EM:.+]] = tele.param "optim.m.model.embed_tokens.weight" {group = #tele.group<vector>, init = #tele.init<zeros>} : tensor<16x8xf32>
// CHECK-NEXT: %[[EM1:.+]] = tele.grow.pad %[[EM]] {fill = #tele.fill<zeros>, seed = {{[0-9]+}} : i64} : tensor<16x8xf32> -> tensor<16x12xf32>
// CHECK-NEXT: %[[EV:.+]] = tele.param "optim.v.model.embed_tokens.weight" {group = #tele.group<vector>, init = #tele.init<zeros>} : tensor<16x8xf32>
// CHECK-NEXT: %[[EV1:.+]] = tele.grow.pad %[[EV]] {fill = #tele.fill<zeros>, seed = {{[0-9]+}} : i64} : tensor<16x8xf32> -> tensor<16x12xf32>
// CHECK-NEXT: %[[G:.+]] = tele.param "model.layers.0.input_layernorm.weight" {group = #tele.group<vector>, init = #tele.init<zeros>} : tensor<8xf32>
// CHECK-NEXT: %[[G1:.+]] = tele.grow.pad %[[G]] {fill = #tele.fill<ones>, seed = {{[0-9]+}} : i64} : tensor<8xf32> -> tensor<12xf32>
// CHECK: %[[Q:.+]] = tele.param "model.layers.0.self_attn.q_proj.weight" {init = #tele.init<zeros>} : tensor<8x8xf32>
// CHECK-NEXT: %[[Q1:.+]] = tele.grow.pad %[[Q]] {fill = #tele.fill<normal>, seed = {{[0-9]+}} : i64} : tensor<8x8xf32> -> tensor<12x12xf32>
// CHECK: %[[O:.+]] = tele.param "model.layers.0.self_attn.o_proj.weight"
// CHECK-NEXT: %[[O1:.+]] = tele.grow.pad %[[O]] {fill = #tele.fill<normal>, {{.+}} : tensor<8x8xf32> -> tensor<12x12xf32>
// CHECK: %[[GATE:.+]] = tele.param "model.layers.0.mlp.gate_proj.weight" {init = #tele.init<zeros>} : tensor<12x8xf32>
// CHECK-NEXT: %[[GATE1:.+]] = tele.grow.pad %[[GATE]] {fill = #tele.fill<normal>, {{.+}} : tensor<12x8xf32> -> tensor<16x12xf32>
// CHECK: %[[DOWN:.+]] = tele.param "model.layers.0.mlp.down_proj.weight" {init = #tele.init<zeros>} : tensor<8x12xf32>
// CHECK-NEXT: %[[DOWN1:.+]] = tele.grow.pad %[[DOWN]] {fill = #tele.fill<normal>, {{.+}} : tensor<8x12xf32> -> tensor<12x16xf32>
// CHECK-NEXT: %[[DOWNM:.+]] = tele.param "optim.m.model.layers.0.mlp.down_proj.weight"
// CHECK-NEXT: %[[DOWNM1:.+]] = tele.grow.pad %[[DOWNM]] {fill = #tele.fill<zeros>, {{.+}} : tensor<8x12xf32> -> tensor<12x16xf32>
// CHECK: %[[NORM:.+]] = tele.param "model.norm.weight" {group = #tele.group<vector>, init = #tele.init<zeros>} : tensor<8xf32>
// CHECK-NEXT: %[[NORM1:.+]] = tele.grow.pad %[[NORM]] {fill = #tele.fill<ones>, {{.+}} : tensor<8xf32> -> tensor<12xf32>
// CHECK: %[[HEAD:.+]] = tele.param "lm_head.weight" {init = #tele.init<zeros>} : tensor<16x8xf32>
// CHECK-NEXT: %[[HEAD1:.+]] = tele.grow.pad %[[HEAD]] {fill = #tele.fill<normal>, {{.+}} : tensor<16x8xf32> -> tensor<16x12xf32>
// CHECK: tele.assign "model.embed_tokens.weight", %[[E1]] : tensor<16x12xf32>
// CHECK-NEXT: tele.assign "optim.m.model.embed_tokens.weight", %[[EM1]] : tensor<16x12xf32>
// CHECK-NEXT: tele.assign "optim.v.model.embed_tokens.weight", %[[EV1]] : tensor<16x12xf32>
// CHECK-NEXT: tele.assign "model.layers.0.input_layernorm.weight", %[[G1]] : tensor<12xf32>
// CHECK: tele.assign "model.layers.0.self_attn.q_proj.weight", %[[Q1]] : tensor<12x12xf32>
// CHECK: tele.assign "model.layers.0.self_attn.o_proj.weight", %[[O1]] : tensor<12x12xf32>
// CHECK: tele.assign "model.layers.0.mlp.gate_proj.weight", %[[GATE1]] : tensor<16x12xf32>
// CHECK: tele.assign "model.layers.0.mlp.down_proj.weight", %[[DOWN1]] : tensor<12x16xf32>
// CHECK-NEXT: tele.assign "optim.m.model.layers.0.mlp.down_proj.weight", %[[DOWNM1]] : tensor<12x16xf32>
// CHECK: tele.assign "model.norm.weight", %[[NORM1]] : tensor<12xf32>
// CHECK: tele.assign "lm_head.weight", %[[HEAD1]] : tensor<16x12xf32>
// CHECK: return

// 12 parameters and their two moments: 36 reads, then 36 assigns.
// ORDER-LABEL: func.func @grow_small_to_wide()
// ORDER-COUNT-36: = tele.param "
// ORDER-NOT: tele.param
// ORDER-COUNT-36: tele.assign "
// ORDER-NOT: tele.param
// ORDER-NOT: tele.assign
// ORDER: return

// Without moments only the 12 parameters are read and assigned.
// NOMOM-LABEL: func.func @grow_small_to_wide()
// NOMOM-NOT: optim.
// NOMOM-COUNT-12: = tele.param "
// NOMOM-NOT: tele.param
// NOMOM-NOT: optim.
// NOMOM-COUNT-12: tele.assign "
// NOMOM-NOT: optim.
// NOMOM: return

// The masked loss: mask vectors [1]*old ++ [c]*new for the hidden size, the
// attention features and the FFN width, read once up front.
// CHECK-LABEL: func.func @wide_loss(
// CHECK-SAME: %[[TOK:[^:]+]]: tensor<2x4xi32>, %[[TGT:[^:]+]]: tensor<2x4xi32>) -> tensor<f32>
// CHECK-SAME: attributes {tele.model_config = #tele.config<vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>}
// CHECK-NEXT: %[[CH:.+]] = tele.mask_value "mask.hidden" : tensor<f32>
// CHECK-NEXT: %[[MH:.+]] = tele.mask_vector %[[CH]] {kept = 8 : i64} : tensor<f32> -> tensor<12xf32>
// CHECK-NEXT: %[[CA:.+]] = tele.mask_value "mask.attention" : tensor<f32>
// CHECK-NEXT: %[[MA:.+]] = tele.mask_vector %[[CA]] {kept = 8 : i64} : tensor<f32> -> tensor<12xf32>
// CHECK-NEXT: %[[CF:.+]] = tele.mask_value "mask.ffn" : tensor<f32>
// CHECK-NEXT: %[[MF:.+]] = tele.mask_vector %[[CF]] {kept = 12 : i64} : tensor<f32> -> tensor<16xf32>
// The embedding output is a residual write: masked by the hidden mask.
// CHECK: %[[EMB:.+]] = tele.embed %{{.+}}, %[[TOK]] : tensor<16x12xf32>, tensor<2x4xi32> -> tensor<2x4x12xf32>
// CHECK-NEXT: %[[X:.+]] = tele.mask_mul %[[EMB]], %[[MH]] : tensor<2x4x12xf32>, tensor<12xf32>
// Every RMSNorm uses the masked statistic.
// CHECK: %[[N1:.+]] = tele.rms_norm %[[X]], %{{.+}} mask %[[MH]] {eps = 1.000000e-05 : f64} : tensor<2x4x12xf32>, tensor<12xf32>, tensor<12xf32>
// q, k and v are masked per attention feature.
// CHECK: %[[Q:.+]] = tele.linear %[[N1]], %{{.+}} : tensor<2x4x12xf32>, tensor<12x12xf32> -> tensor<2x4x12xf32>
// CHECK-NEXT: %[[QM:.+]] = tele.mask_mul %[[Q]], %[[MA]]
// CHECK: %[[K:.+]] = tele.linear %[[N1]]
// CHECK-NEXT: %[[KM:.+]] = tele.mask_mul %[[K]], %[[MA]]
// CHECK: %[[V:.+]] = tele.linear %[[N1]]
// CHECK-NEXT: %[[VM:.+]] = tele.mask_mul %[[V]], %[[MA]]
// CHECK-NEXT: %[[QR:.+]] = tele.rope %[[QM]]
// CHECK-NEXT: %[[KR:.+]] = tele.rope %[[KM]]
// CHECK-NEXT: %[[ATT:.+]] = tele.attention %[[QR]], %[[KR]], %[[VM]]
// The o_proj output is a residual write.
// CHECK: %[[O:.+]] = tele.linear %[[ATT]]
// CHECK-NEXT: %[[OM:.+]] = tele.mask_mul %[[O]], %[[MH]]
// CHECK-NEXT: %[[H:.+]] = tele.add %[[X]], %[[OM]]
// CHECK: %[[N2:.+]] = tele.rms_norm %[[H]], %{{.+}} mask %[[MH]]
// CHECK: %[[GATE:.+]] = tele.linear %[[N2]], %{{.+}} : tensor<2x4x12xf32>, tensor<16x12xf32> -> tensor<2x4x16xf32>
// CHECK: %[[UP:.+]] = tele.linear %[[N2]]
// The SwiGLU product is masked per FFN channel before down_proj.
// CHECK-NEXT: %[[S:.+]] = tele.swiglu %[[GATE]], %[[UP]]
// CHECK-NEXT: %[[SM:.+]] = tele.mask_mul %[[S]], %[[MF]] : tensor<2x4x16xf32>, tensor<16xf32>
// CHECK: %[[DOWN:.+]] = tele.linear %[[SM]], %{{.+}} : tensor<2x4x16xf32>, tensor<12x16xf32> -> tensor<2x4x12xf32>
// CHECK-NEXT: %[[DM:.+]] = tele.mask_mul %[[DOWN]], %[[MH]]
// CHECK-NEXT: %[[Y:.+]] = tele.add %[[H]], %[[DM]]
// The final norm is masked too; the LM head and alpha_out are not.
// CHECK: %[[NF:.+]] = tele.rms_norm %[[Y]], %{{.+}} mask %[[MH]]
// CHECK-NOT: tele.mask_mul
// CHECK: %[[LOGITS:.+]] = tele.linear %[[NF]]
// CHECK-NEXT: %[[LOSS:.+]] = tele.cross_entropy %[[LOGITS]], %[[TGT]]
// CHECK-NEXT: return %[[LOSS]] : tensor<f32>

// The dtype and batch options shape both functions.
// F64-LABEL: func.func @grow_small_to_wide()
// F64: tele.param "model.embed_tokens.weight" {{.+}} : tensor<16x8xf64>
// F64-NEXT: tele.grow.pad {{.+}} : tensor<16x8xf64> -> tensor<16x12xf64>
// F64-LABEL: func.func @wide_loss(
// F64-SAME: tensor<3x4xi32>, %{{[^:]+}}: tensor<3x4xi32>) -> tensor<f64>
// F64: tele.mask_value "mask.hidden" : tensor<f64>
// F64: tele.cross_entropy {{.+}} : tensor<3x4x16xf64>, tensor<3x4xi32> -> tensor<f64>
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @wide {transition_steps = 20}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Width growth of the FFN only (12 -> 24) with init_std 0.01 and new second
// moments seeded with the mean of the old ones: only gate/up/down are padded,
// the other tensors are assigned as read, and only mask.ffn exists.
// CHECK-LABEL: func.func @grow_small_to_fat()
// CHECK: %[[E:.+]] = tele.param "model.embed_tokens.weight"
// CHECK-NOT: tele.grow.pad
// CHECK: %[[GATE:.+]] = tele.param "model.layers.0.mlp.gate_proj.weight" {init = #tele.init<zeros>} : tensor<12x8xf32>
// CHECK-NEXT: %[[GATE1:.+]] = tele.grow.pad %[[GATE]] {fill = #tele.fill<normal>, seed = {{[0-9]+}} : i64, std = 1.000000e-02 : f64} : tensor<12x8xf32> -> tensor<24x8xf32>
// CHECK-NEXT: %[[GATEM:.+]] = tele.param "optim.m.model.layers.0.mlp.gate_proj.weight"
// CHECK-NEXT: %[[GATEM1:.+]] = tele.grow.pad %[[GATEM]] {fill = #tele.fill<zeros>, {{.+}} : tensor<12x8xf32> -> tensor<24x8xf32>
// CHECK-NEXT: %[[GATEV:.+]] = tele.param "optim.v.model.layers.0.mlp.gate_proj.weight"
// CHECK-NEXT: %[[GATEV1:.+]] = tele.grow.pad %[[GATEV]] {fill = #tele.fill<mean>, {{.+}} : tensor<12x8xf32> -> tensor<24x8xf32>
// CHECK: %[[UP:.+]] = tele.param "model.layers.0.mlp.up_proj.weight"
// CHECK-NEXT: %[[UP1:.+]] = tele.grow.pad %[[UP]] {fill = #tele.fill<normal>, {{.+}} : tensor<12x8xf32> -> tensor<24x8xf32>
// CHECK: %[[DOWN:.+]] = tele.param "model.layers.0.mlp.down_proj.weight"
// CHECK-NEXT: %[[DOWN1:.+]] = tele.grow.pad %[[DOWN]] {fill = #tele.fill<normal>, {{.+}} : tensor<8x12xf32> -> tensor<8x24xf32>
// CHECK-NEXT: tele.param "optim.m.model.layers.0.mlp.down_proj.weight"
// CHECK-NEXT: tele.grow.pad
// CHECK-NEXT: tele.param "optim.v.model.layers.0.mlp.down_proj.weight"
// CHECK-NEXT: tele.grow.pad
// CHECK-NOT: tele.grow.pad
// CHECK: tele.assign "model.embed_tokens.weight", %[[E]] : tensor<16x8xf32>
// CHECK: tele.assign "model.layers.0.mlp.gate_proj.weight", %[[GATE1]] : tensor<24x8xf32>
// CHECK-NEXT: tele.assign "optim.m.model.layers.0.mlp.gate_proj.weight", %[[GATEM1]] : tensor<24x8xf32>
// CHECK-NEXT: tele.assign "optim.v.model.layers.0.mlp.gate_proj.weight", %[[GATEV1]] : tensor<24x8xf32>
// CHECK-NEXT: tele.assign "model.layers.0.mlp.up_proj.weight", %[[UP1]]
// CHECK: tele.assign "model.layers.0.mlp.down_proj.weight", %[[DOWN1]] : tensor<8x24xf32>
// CHECK: return

// ORDER-LABEL: func.func @grow_small_to_fat()
// ORDER-COUNT-36: = tele.param "
// ORDER-NOT: tele.param
// ORDER-COUNT-36: tele.assign "
// ORDER-NOT: tele.param
// ORDER-NOT: tele.assign
// ORDER: return

// NOMOM-LABEL: func.func @grow_small_to_fat()
// NOMOM-NOT: optim.
// NOMOM-COUNT-12: = tele.param "
// NOMOM-NOT: optim.
// NOMOM: return

// Only the FFN is masked: no hidden or attention mask, plain RMSNorm.
// CHECK-LABEL: func.func @fat_loss(
// CHECK-NOT: mask.hidden
// CHECK-NOT: mask.attention
// CHECK: %[[CF:.+]] = tele.mask_value "mask.ffn" : tensor<f32>
// CHECK-NEXT: %[[MF:.+]] = tele.mask_vector %[[CF]] {kept = 12 : i64} : tensor<f32> -> tensor<24xf32>
// CHECK-NOT: tele.mask_value
// CHECK: %[[EMB:.+]] = tele.embed
// CHECK-NEXT: %{{.+}} = tele.param "model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %{{.+}} = tele.rms_norm %[[EMB]], %{{.+}} {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
// CHECK: %[[S:.+]] = tele.swiglu
// CHECK-NEXT: %[[SM:.+]] = tele.mask_mul %[[S]], %[[MF]] : tensor<2x4x24xf32>, tensor<24xf32>
// CHECK: tele.linear %[[SM]], %{{.+}} : tensor<2x4x24xf32>, tensor<8x24xf32> -> tensor<2x4x8xf32>
// CHECK-NOT: tele.mask_mul
// CHECK: return
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @fat <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 24, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @fat {transition_steps = 20, init_std = 0.01, moment_init = #tele.moment_init<mean>}
  tele.stage @s1 on @fat <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Depth growth 2 -> 4 layers copying layers 0 and 1: the grown stack is
// [L0, copy of L0, L1, copy of L1], so source layer 1 becomes layer 2. New
// layers get their source layer's parameters and fresh (zero) moments.
// Layer-independent tensors (embedding, final norm, LM head) are not mapped.
// CHECK-LABEL: func.func @grow_small_to_deep()
// CHECK-SAME: attributes {tele.model_config = #tele.config<vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>, tele.param_map}
// CHECK-NOT: embed_tokens
// Target layer 0: layer 0 with its moments.
// CHECK: %[[A:.+]] = tele.param "model.layers.0.input_layernorm.weight" {group = #tele.group<vector>, init = #tele.init<zeros>} : tensor<8xf32>
// CHECK-NEXT: %[[AM:.+]] = tele.param "optim.m.model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %[[AV:.+]] = tele.param "optim.v.model.layers.0.input_layernorm.weight"
// CHECK-NOT: tele.grow.fill
// Target layer 1: layer 0 again, its moments replaced by zeros.
// CHECK: %[[B:.+]] = tele.param "model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %[[BM:.+]] = tele.param "optim.m.model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %[[BV:.+]] = tele.param "optim.v.model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %[[BM1:.+]] = tele.grow.fill %[[BM]] {fill = #tele.fill<zeros>, seed = {{[0-9]+}} : i64} : tensor<8xf32>
// CHECK-NEXT: %[[BV1:.+]] = tele.grow.fill %[[BV]] {fill = #tele.fill<zeros>, seed = {{[0-9]+}} : i64} : tensor<8xf32>
// CHECK: %[[BD:.+]] = tele.param "model.layers.0.mlp.down_proj.weight" {init = #tele.init<zeros>} : tensor<8x12xf32>
// Target layer 2: layer 1.
// CHECK: %[[C:.+]] = tele.param "model.layers.1.input_layernorm.weight"
// CHECK-NEXT: %[[CM:.+]] = tele.param "optim.m.model.layers.1.input_layernorm.weight"
// CHECK-NEXT: %[[CV:.+]] = tele.param "optim.v.model.layers.1.input_layernorm.weight"
// CHECK-NEXT: %[[CQ:.+]] = tele.param "model.layers.1.self_attn.q_proj.weight"
// Target layer 3: layer 1 again.
// CHECK: %[[D:.+]] = tele.param "model.layers.1.input_layernorm.weight"
// CHECK: %[[DQ:.+]] = tele.param "model.layers.1.self_attn.q_proj.weight" {init = #tele.init<zeros>} : tensor<8x8xf32>
// CHECK-NEXT: %[[DQM:.+]] = tele.param "optim.m.model.layers.1.self_attn.q_proj.weight"
// CHECK-NEXT: %[[DQV:.+]] = tele.param "optim.v.model.layers.1.self_attn.q_proj.weight"
// CHECK-NEXT: %[[DQM1:.+]] = tele.grow.fill %[[DQM]] {fill = #tele.fill<zeros>, {{.+}} : tensor<8x8xf32>
// CHECK-NEXT: %[[DQV1:.+]] = tele.grow.fill %[[DQV]] {fill = #tele.fill<zeros>, {{.+}} : tensor<8x8xf32>
// The assigns, renumbered.
// CHECK: tele.assign "model.layers.0.input_layernorm.weight", %[[A]] : tensor<8xf32>
// CHECK-NEXT: tele.assign "optim.m.model.layers.0.input_layernorm.weight", %[[AM]]
// CHECK-NEXT: tele.assign "optim.v.model.layers.0.input_layernorm.weight", %[[AV]]
// CHECK: tele.assign "model.layers.1.input_layernorm.weight", %[[B]] : tensor<8xf32>
// CHECK-NEXT: tele.assign "optim.m.model.layers.1.input_layernorm.weight", %[[BM1]]
// CHECK-NEXT: tele.assign "optim.v.model.layers.1.input_layernorm.weight", %[[BV1]]
// CHECK: tele.assign "model.layers.1.mlp.down_proj.weight", %[[BD]] : tensor<8x12xf32>
// CHECK: tele.assign "model.layers.2.input_layernorm.weight", %[[C]]
// CHECK-NEXT: tele.assign "optim.m.model.layers.2.input_layernorm.weight", %[[CM]]
// CHECK-NEXT: tele.assign "optim.v.model.layers.2.input_layernorm.weight", %[[CV]]
// CHECK-NEXT: tele.assign "model.layers.2.self_attn.q_proj.weight", %[[CQ]]
// CHECK: tele.assign "model.layers.3.input_layernorm.weight", %[[D]]
// CHECK: tele.assign "model.layers.3.self_attn.q_proj.weight", %[[DQ]]
// CHECK-NEXT: tele.assign "optim.m.model.layers.3.self_attn.q_proj.weight", %[[DQM1]]
// CHECK-NEXT: tele.assign "optim.v.model.layers.3.self_attn.q_proj.weight", %[[DQV1]]
// CHECK-NOT: model.layers.4.
// CHECK-NOT: lm_head
// CHECK: return

// 4 target layers x 9 tensors x 3 (parameter and moments).
// ORDER-LABEL: func.func @grow_small_to_deep()
// ORDER-COUNT-108: = tele.param "{{(optim\.[mv]\.)?}}model.layers.
// ORDER-NOT: tele.param
// ORDER-COUNT-108: tele.assign "
// ORDER-NOT: tele.param
// ORDER-NOT: tele.assign
// ORDER: return

// Without moments: no moment reads and no fills.
// NOMOM-LABEL: func.func @grow_small_to_deep()
// NOMOM-NOT: optim.
// NOMOM-NOT: tele.grow.fill
// NOMOM-COUNT-36: = tele.param "model.layers.
// NOMOM-NOT: optim.
// NOMOM-NOT: tele.grow.fill
// NOMOM-COUNT-36: tele.assign "model.layers.
// NOMOM-NOT: optim.
// NOMOM: return

// The masked loss: layers 1 and 3 are new and compute lerp(x, Block(x), c)
// with their own mask value; no width mask.
// CHECK-LABEL: func.func @deep_loss(
// CHECK-NOT: tele.mask_vector
// CHECK-NOT: mask.layer.0
// CHECK: %[[X0:.+]] = tele.embed
// CHECK: %[[H0:.+]] = tele.add %[[X0]],
// CHECK: %[[X1:.+]] = tele.add %[[H0]],
// CHECK-NEXT: tele.param "model.layers.1.input_layernorm.weight"
// CHECK-NEXT: tele.rms_norm %[[X1]], %{{.+}} {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
// CHECK: %[[H1:.+]] = tele.add %[[X1]],
// CHECK: %[[B1:.+]] = tele.add %[[H1]],
// CHECK-NEXT: %[[C1:.+]] = tele.mask_value "mask.layer.1" : tensor<f32>
// CHECK-NEXT: %[[X2:.+]] = tele.lerp %[[X1]], %[[B1]], %[[C1]] : tensor<2x4x8xf32>, tensor<f32>
// CHECK-NEXT: tele.param "model.layers.2.input_layernorm.weight"
// CHECK-NEXT: tele.rms_norm %[[X2]],
// CHECK: %[[H2:.+]] = tele.add %[[X2]],
// CHECK: %[[X3:.+]] = tele.add %[[H2]],
// CHECK-NEXT: tele.param "model.layers.3.input_layernorm.weight"
// CHECK: %[[H3:.+]] = tele.add %[[X3]],
// CHECK: %[[B3:.+]] = tele.add %[[H3]],
// CHECK-NEXT: %[[C3:.+]] = tele.mask_value "mask.layer.3" : tensor<f32>
// CHECK-NEXT: %[[X4:.+]] = tele.lerp %[[X3]], %[[B3]], %[[C3]]
// CHECK-NEXT: tele.param "model.norm.weight"
// CHECK-NEXT: tele.rms_norm %[[X4]], %{{.+}} {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
// CHECK-NOT: tele.lerp
// CHECK: return
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.depth @small -> @deep {transition_steps = 20, copy_layers = array<i64: 0, 1>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Depth growth by more than 2x, 2 -> 5 layers with copy_layers [0, 0, 1]:
// [L0, L0', L0'', L1, L1']. New second moments use the old mean.
// CHECK-LABEL: func.func @grow_small_to_deeper()
// Targets 0, 1 and 2 read layer 0; only 1 and 2 get fresh moments.
// CHECK: %[[A:.+]] = tele.param "model.layers.0.mlp.down_proj.weight"
// CHECK-NOT: tele.grow.fill
// CHECK: %[[B:.+]] = tele.param "model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %[[BM:.+]] = tele.param "optim.m.model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %[[BV:.+]] = tele.param "optim.v.model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %[[BM1:.+]] = tele.grow.fill %[[BM]] {fill = #tele.fill<zeros>, {{.+}} : tensor<8xf32>
// CHECK-NEXT: %[[BV1:.+]] = tele.grow.fill %[[BV]] {fill = #tele.fill<mean>, {{.+}} : tensor<8xf32>
// CHECK: %[[C:.+]] = tele.param "model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %[[CM:.+]] = tele.param "optim.m.model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %[[CV:.+]] = tele.param "optim.v.model.layers.0.input_layernorm.weight"
// CHECK-NEXT: %[[CM1:.+]] = tele.grow.fill %[[CM]] {fill = #tele.fill<zeros>, {{.+}} : tensor<8xf32>
// CHECK-NEXT: %[[CV1:.+]] = tele.grow.fill %[[CV]] {fill = #tele.fill<mean>, {{.+}} : tensor<8xf32>
// Targets 3 and 4 read layer 1.
// CHECK: %[[D:.+]] = tele.param "model.layers.1.input_layernorm.weight"
// CHECK-NEXT: %[[DM:.+]] = tele.param "optim.m.model.layers.1.input_layernorm.weight"
// CHECK-NEXT: %[[DV:.+]] = tele.param "optim.v.model.layers.1.input_layernorm.weight"
// CHECK-NEXT: tele.param "model.layers.1.self_attn.q_proj.weight"
// CHECK: %[[E:.+]] = tele.param "model.layers.1.input_layernorm.weight"
// CHECK-NEXT: %[[EM:.+]] = tele.param "optim.m.model.layers.1.input_layernorm.weight"
// CHECK-NEXT: %[[EV:.+]] = tele.param "optim.v.model.layers.1.input_layernorm.weight"
// CHECK-NEXT: %[[EM1:.+]] = tele.grow.fill %[[EM]] {fill = #tele.fill<zeros>
// CHECK-NEXT: %[[EV1:.+]] = tele.grow.fill %[[EV]] {fill = #tele.fill<mean>
// CHECK: tele.assign "model.layers.0.mlp.down_proj.weight", %[[A]]
// CHECK: tele.assign "model.layers.1.input_layernorm.weight", %[[B]]
// CHECK-NEXT: tele.assign "optim.m.model.layers.1.input_layernorm.weight", %[[BM1]]
// CHECK-NEXT: tele.assign "optim.v.model.layers.1.input_layernorm.weight", %[[BV1]]
// CHECK: tele.assign "model.layers.2.input_layernorm.weight", %[[C]]
// CHECK-NEXT: tele.assign "optim.m.model.layers.2.input_layernorm.weight", %[[CM1]]
// CHECK-NEXT: tele.assign "optim.v.model.layers.2.input_layernorm.weight", %[[CV1]]
// CHECK: tele.assign "model.layers.3.input_layernorm.weight", %[[D]]
// CHECK-NEXT: tele.assign "optim.m.model.layers.3.input_layernorm.weight", %[[DM]]
// CHECK-NEXT: tele.assign "optim.v.model.layers.3.input_layernorm.weight", %[[DV]]
// CHECK: tele.assign "model.layers.4.input_layernorm.weight", %[[E]]
// CHECK-NEXT: tele.assign "optim.m.model.layers.4.input_layernorm.weight", %[[EM1]]
// CHECK-NEXT: tele.assign "optim.v.model.layers.4.input_layernorm.weight", %[[EV1]]
// CHECK-NOT: model.layers.5.
// CHECK: return

// 5 target layers x 9 tensors x 3.
// ORDER-LABEL: func.func @grow_small_to_deeper()
// ORDER-COUNT-135: = tele.param "{{(optim\.[mv]\.)?}}model.layers.
// ORDER-NOT: tele.param
// ORDER-COUNT-135: tele.assign "
// ORDER-NOT: tele.param
// ORDER-NOT: tele.assign
// ORDER: return

// New layers 1, 2 and 4, each with its own mask value.
// CHECK-LABEL: func.func @deeper_loss(
// CHECK-NOT: mask.layer.0
// CHECK: tele.param "model.layers.1.input_layernorm.weight"
// CHECK: %[[C1:.+]] = tele.mask_value "mask.layer.1" : tensor<f32>
// CHECK-NEXT: tele.lerp %{{.+}}, %{{.+}}, %[[C1]]
// CHECK-NEXT: tele.param "model.layers.2.input_layernorm.weight"
// CHECK: %[[C2:.+]] = tele.mask_value "mask.layer.2" : tensor<f32>
// CHECK-NEXT: tele.lerp %{{.+}}, %{{.+}}, %[[C2]]
// CHECK-NEXT: tele.param "model.layers.3.input_layernorm.weight"
// CHECK-NOT: mask.layer.3
// CHECK: tele.param "model.layers.4.input_layernorm.weight"
// CHECK: %[[C4:.+]] = tele.mask_value "mask.layer.4" : tensor<f32>
// CHECK-NEXT: tele.lerp %{{.+}}, %{{.+}}, %[[C4]]
// CHECK-NEXT: tele.param "model.norm.weight"
// CHECK-NOT: tele.lerp
// CHECK: return
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deeper <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 5, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.depth @small -> @deeper {transition_steps = 20, copy_layers = array<i64: 0, 0, 1>, moment_init = #tele.moment_init<mean>}
  tele.stage @s1 on @deeper <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
