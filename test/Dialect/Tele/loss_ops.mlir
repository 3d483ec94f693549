// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s

// Round trip of tele.cross_entropy and tele.cross_entropy_grad, with and
// without the optional loss mask.

// Mean next-token cross-entropy.
// CHECK-LABEL: func.func @loss
// CHECK-SAME: (%[[L:.+]]: tensor<2x4x16xf32>, %[[T:.+]]: tensor<2x4xi32>)
// CHECK: %[[X:.+]] = tele.cross_entropy %[[L]], %[[T]] : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
// CHECK: return %[[X]]
func.func @loss(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>) -> tensor<f32> {
  %l = tele.cross_entropy %logits, %targets : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// An SFT loss with prompt tokens masked out.
// CHECK-LABEL: func.func @masked_loss
// CHECK-SAME: (%[[L:.+]]: tensor<2x4x16xf32>, %[[T:.+]]: tensor<2x4xi32>, %[[M:.+]]: tensor<2x4xf32>)
// CHECK: tele.cross_entropy %[[L]], %[[T]] mask %[[M]] : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<2x4xf32> -> tensor<f32>
func.func @masked_loss(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>, %mask: tensor<2x4xf32>) -> tensor<f32> {
  %l = tele.cross_entropy %logits, %targets mask %mask : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<2x4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Flat [positions, vocab] logits.
// CHECK-LABEL: func.func @flat_loss
// CHECK: tele.cross_entropy %{{.+}}, %{{.+}} : tensor<8x16xf64>, tensor<8xi32> -> tensor<f64>
func.func @flat_loss(%logits: tensor<8x16xf64>, %targets: tensor<8xi32>) -> tensor<f64> {
  %l = tele.cross_entropy %logits, %targets : tensor<8x16xf64>, tensor<8xi32> -> tensor<f64>
  return %l : tensor<f64>
}

// -----

// The logit gradient, unmasked and masked.
// CHECK-LABEL: func.func @loss_grad
// CHECK-SAME: (%[[L:.+]]: tensor<2x4x16xf32>, %[[T:.+]]: tensor<2x4xi32>, %[[D:.+]]: tensor<f32>, %[[M:.+]]: tensor<2x4xf32>)
// CHECK: %[[G0:.+]] = tele.cross_entropy_grad %[[L]], %[[T]], %[[D]] : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
// CHECK: %[[G1:.+]] = tele.cross_entropy_grad %[[L]], %[[T]], %[[D]] mask %[[M]] : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>, tensor<2x4xf32>
// CHECK: return %[[G0]], %[[G1]]
func.func @loss_grad(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>, %dl: tensor<f32>, %mask: tensor<2x4xf32>) -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  %g0 = tele.cross_entropy_grad %logits, %targets, %dl : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
  %g1 = tele.cross_entropy_grad %logits, %targets, %dl mask %mask : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>, tensor<2x4xf32>
  return %g0, %g1 : tensor<2x4x16xf32>, tensor<2x4x16xf32>
}
