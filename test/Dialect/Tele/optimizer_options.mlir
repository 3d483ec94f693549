// RUN: tele-opt %s --tele-expand-model --tele-autodiff --tele-optimizer="lr-matrix=4.0e-3 lr-vector=2.0e-3 steps=50 warmup=5" | FileCheck %s
// RUN: tele-opt %s --tele-expand-model --tele-autodiff --tele-optimizer | FileCheck %s --check-prefix=DEFAULT

// tele-optimizer without stage=: the schedule comes from the pass options
// (cosine decay to 0, AdamW 0.9 / 0.95 / 1e-8, weight decay 0.1, clip 1.0)
// and every gradient function of the module gets a step function.

// Options set the peaks, the stage length and the warmup.
// CHECK-LABEL: func.func @a_step
// CHECK-SAME: (%{{[^:]+}}: tensor<2x4xi32>, %{{[^:]+}}: tensor<2x4xi32>, %[[STAGE:[^:]+]]: tensor<i64>, %[[ADAM:[^:]+]]: tensor<i64>)
// CHECK: %[[NORM:.+]] = tele.global_norm
// CHECK: %[[CLIP:.+]] = tele.clip_scale %[[NORM]] {max_norm = 1.000000e+00 : f64}
// CHECK: %[[LRM:.+]] = tele.lr_schedule %[[STAGE]] {decay = #tele.decay<cosine>, min = 0.000000e+00 : f64, peak = 4.000000e-03 : f64, total = 50 : i64, warmup = 5 : i64}
// CHECK: %[[LRV:.+]] = tele.lr_schedule %[[STAGE]] {decay = #tele.decay<cosine>, min = 0.000000e+00 : f64, peak = 2.000000e-03 : f64, total = 50 : i64, warmup = 5 : i64}
// CHECK: tele.adamw {{.+}}, %[[LRV]], %[[CLIP]], %[[ADAM]] {beta1 = 9.000000e-01 : f64, beta2 = 0.94999999999999996 : f64, eps = 1.000000e-08 : f64, weight_decay = 0.000000e+00 : f64} : tensor<16x8xf32>
// CHECK: tele.adamw {{.+}}, %[[LRM]], %[[CLIP]], %[[ADAM]] {beta1 = 9.000000e-01 : f64, beta2 = 0.94999999999999996 : f64, eps = 1.000000e-08 : f64, weight_decay = 1.000000e-01 : f64} : tensor<8x8xf32>
// CHECK: return

// The second model gets its own step function with the same settings.
// CHECK-LABEL: func.func @b_step
// CHECK: tele.lr_schedule {{.+}} peak = 4.000000e-03 : f64, total = 50 : i64, warmup = 5 : i64
// CHECK: tele.param "optim.m.model.layers.1.mlp.down_proj.weight"
// CHECK: tele.assign "model.layers.1.mlp.down_proj.weight"

// Defaults: 100 steps, no warmup, both peaks 1e-3.
// DEFAULT-LABEL: func.func @a_step
// DEFAULT: tele.lr_schedule %{{.+}} {decay = #tele.decay<cosine>, min = 0.000000e+00 : f64, peak = 1.000000e-03 : f64, total = 100 : i64, warmup = 0 : i64}
// DEFAULT: tele.lr_schedule %{{.+}} {decay = #tele.decay<cosine>, min = 0.000000e+00 : f64, peak = 1.000000e-03 : f64, total = 100 : i64, warmup = 0 : i64}
// DEFAULT-LABEL: func.func @b_step

tele.model @a <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @b <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
