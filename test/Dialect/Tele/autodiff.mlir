// RUN: tele-opt %s --tele-expand-model --tele-autodiff | FileCheck %s

// tele-autodiff on an expanded one-layer model: @tiny_loss_grad returns the
// loss and one gradient per parameter in order of first read, records the
// parameter names in tele.params, emits the gradient rule of every forward op
// in reverse order, and sums the adjoints of values used more than once.

// The forward function is kept as is.
// CHECK-LABEL: func.func @tiny_loss(
// CHECK-SAME: -> tensor<f32>
// CHECK-NOT: _grad
// CHECK: return

// The gradient function: loss, then 12 gradients shaped like their parameters.
// CHECK-LABEL: func.func @tiny_loss_grad
// CHECK-SAME: (%[[TOK:[^:]+]]: tensor<2x4xi32>, %[[TGT:[^:]+]]: tensor<2x4xi32>)
// CHECK-SAME: -> (tensor<f32>, tensor<16x8xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>, tensor<8xf32>, tensor<16x8xf32>)
// CHECK-SAME: tele.params = ["model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
// CHECK-SAME: "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight",
// CHECK-SAME: "model.layers.0.self_attn.o_proj.weight", "model.layers.0.post_attention_layernorm.weight",
// CHECK-SAME: "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
// CHECK-SAME: "model.norm.weight", "lm_head.weight"]

// Forward pass (a copy of the loss function); capture what the rules use.
// CHECK: %[[X:.+]] = tele.embed
// CHECK: %[[G1:.+]] = tele.param "model.layers.0.input_layernorm.weight"
// CHECK: %[[N1:.+]] = tele.rms_norm %[[X]], %[[G1]]
// CHECK: %[[WQ:.+]] = tele.param "model.layers.0.self_attn.q_proj.weight"
// CHECK: %[[WK:.+]] = tele.param "model.layers.0.self_attn.k_proj.weight"
// CHECK: %[[WV:.+]] = tele.param "model.layers.0.self_attn.v_proj.weight"
// CHECK: %[[V:.+]] = tele.linear %[[N1]], %[[WV]]
// CHECK: %[[QR:.+]] = tele.rope
// CHECK: %[[KR:.+]] = tele.rope
// CHECK: %[[H:.+]] = tele.add %[[X]], %{{.+}}
// CHECK: %[[GATE:.+]] = tele.linear
// CHECK: %[[UP:.+]] = tele.linear
// CHECK: %[[WD:.+]] = tele.param "model.layers.0.mlp.down_proj.weight"
// CHECK: %[[OUT:.+]] = tele.add %[[H]], %{{.+}}
// CHECK: %[[GF:.+]] = tele.param "model.norm.weight"
// CHECK: %[[NF:.+]] = tele.rms_norm %[[OUT]], %[[GF]]
// CHECK: %[[WLM:.+]] = tele.param "lm_head.weight"
// alpha_out is 1: no logit scale.
// CHECK: %[[SC:.+]] = tele.linear %[[NF]], %[[WLM]]
// CHECK: %[[LOSS:.+]] = tele.cross_entropy %[[SC]], %[[TGT]]

// Reverse sweep: dloss = 1, then the rules from the loss back to the embedding.
// CHECK: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[DLOG:.+]] = tele.cross_entropy_grad %[[SC]], %[[TGT]], %[[ONE]]
// CHECK: %[[DNF:.+]] = tele.linear_grad_input %[[DLOG]], %[[WLM]]
// CHECK: %[[DWLM:.+]] = tele.linear_grad_weight %[[DLOG]], %[[NF]]
// CHECK: %[[DOUT:[^ ,]+]], %[[DGF:[^ ,]+]] = tele.rms_norm_grad %[[OUT]], %[[GF]], %[[DNF]]
// CHECK: %[[DS:.+]] = tele.linear_grad_input %[[DOUT]], %[[WD]]
// CHECK: %[[DWD:.+]] = tele.linear_grad_weight %[[DOUT]]
// CHECK: %[[DGATE:[^ ,]+]], %[[DUP:[^ ,]+]] = tele.swiglu_grad %[[GATE]], %[[UP]], %[[DS]]
// The post-attention norm input gets its gradient from gate and up: summed.
// CHECK: %[[DN2A:.+]] = tele.linear_grad_input %[[DUP]]
// CHECK: %[[DN2B:.+]] = tele.linear_grad_input %[[DGATE]]
// CHECK: %[[DN2:.+]] = tele.add %[[DN2A]], %[[DN2B]]
// CHECK: %[[DH1:[^ ,]+]], %{{[^ ,]+}} = tele.rms_norm_grad %[[H]], %{{.+}}, %[[DN2]]
// The residual stream h is used by the norm and by the residual add: summed.
// CHECK: %[[DH:.+]] = tele.add %[[DOUT]], %[[DH1]]
// CHECK: tele.linear_grad_input %[[DH]]
// CHECK: %[[DQ:[^ ,]+]], %[[DK:[^ ,]+]], %[[DV:[^ ,]+]] = tele.attention_grad %[[QR]], %[[KR]], %[[V]]
// RoPE rotates back: its gradient is the inverse rotation.
// CHECK: %[[DKR:.+]] = tele.rope %[[DK]] {head_dim = 4 : i64, inverse, theta = 1.000000e+04 : f64}
// CHECK: %[[DQR:.+]] = tele.rope %[[DQ]] {head_dim = 4 : i64, inverse, theta = 1.000000e+04 : f64}
// The first norm's output feeds q, k and v: three gradients, two adds.
// CHECK: %[[DNV:.+]] = tele.linear_grad_input %[[DV]], %[[WV]]
// CHECK: %[[DNK:.+]] = tele.linear_grad_input %[[DKR]], %[[WK]]
// CHECK: %[[DNVK:.+]] = tele.add %[[DNV]], %[[DNK]]
// CHECK: %[[DNQ:.+]] = tele.linear_grad_input %[[DQR]], %[[WQ]]
// CHECK: %[[DN1:.+]] = tele.add %[[DNVK]], %[[DNQ]]
// CHECK: %[[DX1:[^ ,]+]], %[[DG1:[^ ,]+]] = tele.rms_norm_grad %[[X]], %[[G1]], %[[DN1]]
// CHECK: %[[DX:.+]] = tele.add %[[DH]], %[[DX1]]
// CHECK: %[[DEMB:.+]] = tele.embed_grad %[[DX]], %[[TOK]] : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<16x8xf32>
// CHECK: return %[[LOSS]], %[[DEMB]], %[[DG1]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[DWD]], %[[DGF]], %[[DWLM]] :
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
