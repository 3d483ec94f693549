// RUN: tele-opt %s --tele-training-step="model=tiny stage=s0 batch=4" | FileCheck %s

// The tele-training-step pipeline end to end: tele-expand-model (the model
// and batch of stage=), tele-autodiff, tele-optimizer (stage=) and CSE,
// giving the loss, gradient and training-step functions of one model at
// batch 4.

// The plan and models are kept.
// CHECK: tele.model @tiny
// CHECK: tele.model @wide
// CHECK: tele.plan @p

// The forward loss at batch 4.
// CHECK-LABEL: func.func @tiny_loss(
// CHECK-SAME: %{{[^:]+}}: tensor<4x4xi32>, %{{[^:]+}}: tensor<4x4xi32>) -> tensor<f32>
// CHECK: tele.embed {{.+}} -> tensor<4x4x8xf32>
// CHECK: tele.cross_entropy {{.+}} : tensor<4x4x16xf32>, tensor<4x4xi32> -> tensor<f32>

// Its gradient function: loss plus 12 parameter gradients.
// CHECK-LABEL: func.func @tiny_loss_grad(
// CHECK-SAME: %{{[^:]+}}: tensor<4x4xi32>, %{{[^:]+}}: tensor<4x4xi32>)
// CHECK-SAME: -> (tensor<f32>, tensor<16x8xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<8x12xf32>, tensor<8xf32>, tensor<16x8xf32>)
// CHECK: tele.embed_grad {{.+}} : tensor<4x4x8xf32>, tensor<4x4xi32> -> tensor<16x8xf32>

// The training step with stage @s0's schedule. Both groups have the same
// schedule here, so CSE leaves a single tele.lr_schedule for both.
// CHECK-LABEL: func.func @tiny_step(
// CHECK-SAME: %{{[^:]+}}: tensor<4x4xi32>, %{{[^:]+}}: tensor<4x4xi32>, %[[STAGE:[^:]+]]: tensor<i64>, %[[ADAM:[^:]+]]: tensor<i64>)
// CHECK-SAME: -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>)
// CHECK: %[[LOSS:.+]] = tele.cross_entropy {{.+}} : tensor<4x4x16xf32>, tensor<4x4xi32> -> tensor<f32>
// CHECK: %[[NORM:.+]] = tele.global_norm
// CHECK: %[[CLIP:.+]] = tele.clip_scale %[[NORM]] {max_norm = 1.000000e+00 : f64}
// CHECK: %[[LR:.+]] = tele.lr_schedule %[[STAGE]] {decay = #tele.decay<cosine>, min = 0.000000e+00 : f64, peak = 2.000000e-03 : f64, total = 40 : i64, warmup = 4 : i64}
// CHECK-NOT: tele.lr_schedule
// CHECK-COUNT-12: tele.adamw {{.+}}, %[[LR]], %[[CLIP]], %[[ADAM]]
// CHECK-NOT: tele.adamw
// CHECK: return %[[LOSS]], %[[NORM]], %[[LR]], %[[LR]]

// Only the selected model is compiled.
// CHECK-NOT: func.func @wide

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 40, batch = 4, lr_matrix = 2.0e-3, lr_vector = 2.0e-3, warmup = 4>
  tele.grow.width @tiny -> @wide {transition_steps = 5}
  tele.stage @s1 on @wide <steps = 40, batch = 4, lr_matrix = 1.6e-3, lr_vector = 2.0e-3, warmup = 4>
}
