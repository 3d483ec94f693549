// RUN: tele-opt %s --tele-training-step="stage=s1 dtype=f64" | FileCheck %s
// RUN: tele-opt %s --tele-training-step="model=tiny stage=s1 batch=5 dtype=f64" | FileCheck %s

// tele-training-step with stage=: the stage picks the model and the batch
// (overriding model= and batch=, second RUN line) as well as the optimizer
// settings. @s1 trains @wide (after a width growth) at batch 3 with two
// learning rates; only @wide is expanded, differentiated and stepped; f64.
// Its matrix LR 1.6e-3 is stated at the first stage's width and scaled by
// d0/d = 8/12 (muP), as tele train runs it.

// CHECK-NOT: func.func @tiny_loss
// CHECK-LABEL: func.func @wide_loss(
// CHECK-SAME: %{{[^:]+}}: tensor<3x4xi32>, %{{[^:]+}}: tensor<3x4xi32>) -> tensor<f64>
// CHECK: tele.embed {{.+}} -> tensor<3x4x12xf64>
// CHECK-LABEL: func.func @wide_loss_grad(
// CHECK-SAME: %{{[^:]+}}: tensor<3x4xi32>, %{{[^:]+}}: tensor<3x4xi32>)
// CHECK-SAME: -> (tensor<f64>, tensor<16x12xf64>,
// CHECK-LABEL: func.func @wide_step(
// CHECK-SAME: %{{[^:]+}}: tensor<3x4xi32>, %{{[^:]+}}: tensor<3x4xi32>, %{{[^:]+}}: tensor<i64>, %{{[^:]+}}: tensor<i64>)
// CHECK-SAME: -> (tensor<f64>, tensor<f64>, tensor<f64>, tensor<f64>)
// CHECK: %[[LRM:.+]] = tele.lr_schedule %{{.+}} {decay = #tele.decay<cosine>, min = 0.000000e+00 : f64, peak = 0.0010666666666666667 : f64, total = 40 : i64, warmup = 4 : i64} : tensor<i64> -> tensor<f64>
// CHECK: %[[LRV:.+]] = tele.lr_schedule %{{.+}} {decay = #tele.decay<cosine>, min = 0.000000e+00 : f64, peak = 2.000000e-03 : f64, total = 40 : i64, warmup = 4 : i64} : tensor<i64> -> tensor<f64>
// CHECK: tele.adamw {{.+}}, %[[LRV]], {{.+}} : tensor<16x12xf64>, tensor<f64>, tensor<i64>
// CHECK: tele.adamw {{.+}}, %[[LRM]], {{.+}} : tensor<12x12xf64>, tensor<f64>, tensor<i64>
// CHECK: return %{{.+}}, %{{.+}}, %[[LRM]], %[[LRV]]
// CHECK-NOT: func.func @tiny

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 40, batch = 2, lr_matrix = 2.0e-3, lr_vector = 2.0e-3, warmup = 4>
  tele.grow.width @tiny -> @wide {transition_steps = 5}
  tele.stage @s1 on @wide <steps = 40, batch = 3, lr_matrix = 1.6e-3, lr_vector = 2.0e-3, warmup = 4>
}
