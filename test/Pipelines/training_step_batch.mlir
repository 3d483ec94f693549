// RUN: tele-opt %s --tele-training-step="model=tiny stage=s0" | FileCheck %s
// RUN: tele-opt %s --tele-training-step="stage=s0 batch=4" | FileCheck %s
// RUN: tele-opt %s --tele-training-step="model=tiny batch=4" | FileCheck %s --check-prefix=NOSTAGE

// tele-training-step passes its `stage` to tele-expand-model, so the token
// shapes use the stage's batch (8 here) rather than the pipeline's `batch`
// option (default 2, or 4 on the second RUN line). Without stage= the batch
// option applies (third RUN line).

// With stage=, the stage's batch sets the token shapes.
// CHECK-LABEL: func.func @tiny_loss(
// CHECK-SAME: %{{[^:]+}}: tensor<8x4xi32>, %{{[^:]+}}: tensor<8x4xi32>) -> tensor<f32>
// CHECK: tele.cross_entropy {{.+}} : tensor<8x4x16xf32>, tensor<8x4xi32> -> tensor<f32>
// CHECK-LABEL: func.func @tiny_loss_grad(
// CHECK-SAME: %{{[^:]+}}: tensor<8x4xi32>, %{{[^:]+}}: tensor<8x4xi32>)
// CHECK-LABEL: func.func @tiny_step(
// CHECK-SAME: %{{[^:]+}}: tensor<8x4xi32>, %{{[^:]+}}: tensor<8x4xi32>,

// Without stage=, batch= sets them.
// NOSTAGE-LABEL: func.func @tiny_loss(
// NOSTAGE-SAME: %{{[^:]+}}: tensor<4x4xi32>, %{{[^:]+}}: tensor<4x4xi32>) -> tensor<f32>
// NOSTAGE-LABEL: func.func @tiny_step(
// NOSTAGE-SAME: %{{[^:]+}}: tensor<4x4xi32>, %{{[^:]+}}: tensor<4x4xi32>,

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 40, batch = 8, lr_matrix = 2.0e-3, lr_vector = 2.0e-3>
}
