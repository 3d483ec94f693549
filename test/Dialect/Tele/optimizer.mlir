// RUN: tele-opt %s --tele-expand-model --tele-autodiff --tele-optimizer="stage=s0" | FileCheck %s

// tele-optimizer with stage=: @tiny_step takes the schedule and AdamW
// settings of plan stage @s0. Matrix-like parameters (projections, LM head)
// get the matrix LR and the stage's weight decay; vector-like ones (norm
// gains, the embedding) the vector LR and no decay. Moments are read as
// optim.m.<name> / optim.v.<name> (zero-initialised) and written back.

// CHECK-LABEL: func.func @tiny_step
// CHECK-SAME: (%[[TOK:[^:]+]]: tensor<2x4xi32>, %[[TGT:[^:]+]]: tensor<2x4xi32>, %[[STAGE:[^:]+]]: tensor<i64>, %[[ADAM:[^:]+]]: tensor<i64>)
// CHECK-SAME: -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>)
// CHECK-SAME: tele.params = ["model.embed_tokens.weight",
// CHECK: %[[EMB:.+]] = tele.param "model.embed_tokens.weight" {group = #tele.group<vector>} : tensor<16x8xf32>
// CHECK: %[[WQ:.+]] = tele.param "model.layers.0.self_attn.q_proj.weight" : tensor<8x8xf32>
// CHECK: %[[GF:.+]] = tele.param "model.norm.weight" {group = #tele.group<vector>, init = #tele.init<ones>} : tensor<8xf32>
// CHECK: %[[WLM:.+]] = tele.param "lm_head.weight" : tensor<16x8xf32>
// CHECK: %[[LOSS:.+]] = tele.cross_entropy
// CHECK: %[[DWLM:.+]] = tele.linear_grad_weight {{.+}} -> tensor<16x8xf32>
// CHECK: %{{[^ ,]+}}, %[[DGF:[^ ,]+]] = tele.rms_norm_grad %{{.+}}, %[[GF]],
// CHECK: %[[DEMB:.+]] = tele.embed_grad

// Global-norm clipping over all 12 gradients, at the stage's clip.
// CHECK: %[[NORM:.+]] = tele.global_norm %[[DEMB]], {{.+}}, %[[DGF]], %[[DWLM]] : tensor<16x8xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>, tensor<8xf32>, tensor<16x8xf32> -> tensor<f32>
// CHECK: %[[CLIP:.+]] = tele.clip_scale %[[NORM]] {max_norm = 5.000000e-01 : f64} : tensor<f32>

// One schedule per group, both over the stage's steps, warmup and decay.
// CHECK: %[[LRM:.+]] = tele.lr_schedule %[[STAGE]] {decay = #tele.decay<linear>, min = 3.000000e-04 : f64, peak = 3.000000e-03 : f64, total = 100 : i64, warmup = 10 : i64} : tensor<i64> -> tensor<f32>
// CHECK: %[[LRV:.+]] = tele.lr_schedule %[[STAGE]] {decay = #tele.decay<linear>, min = 1.000000e-04 : f64, peak = 2.000000e-03 : f64, total = 100 : i64, warmup = 10 : i64} : tensor<i64> -> tensor<f32>

// The embedding is vector-like: vector LR, no weight decay.
// CHECK: %[[MEMB:.+]] = tele.param "optim.m.model.embed_tokens.weight" {group = #tele.group<vector>, init = #tele.init<zeros>} : tensor<16x8xf32>
// CHECK: %[[VEMB:.+]] = tele.param "optim.v.model.embed_tokens.weight" {group = #tele.group<vector>, init = #tele.init<zeros>} : tensor<16x8xf32>
// CHECK: %[[P0:[^ ,]+]], %[[M0:[^ ,]+]], %[[V0:[^ ,]+]] = tele.adamw %[[EMB]], %[[DEMB]], %[[MEMB]], %[[VEMB]], %[[LRV]], %[[CLIP]], %[[ADAM]]
// CHECK-SAME: {beta1 = 8.000000e-01 : f64, beta2 = 0.98999999999999999 : f64, eps = 9.9999999999999995E-7 : f64, weight_decay = 0.000000e+00 : f64} : tensor<16x8xf32>, tensor<f32>, tensor<i64>
// CHECK-NEXT: tele.assign "model.embed_tokens.weight", %[[P0]] : tensor<16x8xf32>
// CHECK-NEXT: tele.assign "optim.m.model.embed_tokens.weight", %[[M0]] : tensor<16x8xf32>
// CHECK-NEXT: tele.assign "optim.v.model.embed_tokens.weight", %[[V0]] : tensor<16x8xf32>

// A projection is matrix-like: matrix LR, the stage's weight decay.
// CHECK: %[[MQ:.+]] = tele.param "optim.m.model.layers.0.self_attn.q_proj.weight" {init = #tele.init<zeros>} : tensor<8x8xf32>
// CHECK: %[[VQ:.+]] = tele.param "optim.v.model.layers.0.self_attn.q_proj.weight" {init = #tele.init<zeros>} : tensor<8x8xf32>
// CHECK: %[[PQ:[^ ,]+]], %{{[^ ,]+}}, %{{[^ ,]+}} = tele.adamw %[[WQ]], %{{.+}}, %[[MQ]], %[[VQ]], %[[LRM]], %[[CLIP]], %[[ADAM]]
// CHECK-SAME: weight_decay = 5.000000e-02 : f64
// CHECK-NEXT: tele.assign "model.layers.0.self_attn.q_proj.weight", %[[PQ]]

// Norm gains are vector-like.
// CHECK: tele.adamw %[[GF]], %[[DGF]], %{{.+}}, %{{.+}}, %[[LRV]], %[[CLIP]], %[[ADAM]]
// CHECK-SAME: weight_decay = 0.000000e+00 : f64
// CHECK-NEXT: tele.assign "model.norm.weight"

// The LM head is matrix-like.
// CHECK: tele.param "optim.m.lm_head.weight" {init = #tele.init<zeros>} : tensor<16x8xf32>
// CHECK: tele.param "optim.v.lm_head.weight" {init = #tele.init<zeros>} : tensor<16x8xf32>
// CHECK: tele.adamw %[[WLM]], %[[DWLM]], %{{.+}}, %{{.+}}, %[[LRM]], %[[CLIP]], %[[ADAM]]
// CHECK-SAME: weight_decay = 5.000000e-02 : f64
// CHECK-NEXT: tele.assign "lm_head.weight"
// CHECK-NEXT: tele.assign "optim.m.lm_head.weight"
// CHECK-NEXT: tele.assign "optim.v.lm_head.weight"

// Results: loss, gradient norm and the two learning rates.
// CHECK-NEXT: return %[[LOSS]], %[[NORM]], %[[LRM]], %[[LRV]] : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 100, batch = 2, lr_matrix = 3.0e-3, lr_vector = 2.0e-3, min_lr_matrix = 3.0e-4, min_lr_vector = 1.0e-4, warmup = 10, decay = linear, weight_decay = 0.05, clip = 0.5, beta1 = 0.8, beta2 = 0.99, adam_eps = 1.0e-6>
}
