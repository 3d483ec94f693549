// RUN: tele-opt %s --split-input-file --verify-diagnostics --tele-fuse | FileCheck %s

// The loss and its gradient on the same logits and targets become one op
// placed at the loss; both results are used where the old ones were.
// CHECK-LABEL: func.func @fused
// CHECK-NEXT: %[[ONE:.+]] = arith.constant
// CHECK-NEXT: %[[LOSS:.+]], %[[GRAD:.+]] = tele.cross_entropy_fused %arg0, %arg1, %[[ONE]] : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
// CHECK-NOT: tele.cross_entropy
// CHECK: return %[[LOSS]], %[[GRAD]]
func.func @fused(%x: tensor<2x4x16xf32>, %t: tensor<2x4xi32>) -> (tensor<f32>, tensor<2x4x16xf32>) {
  %one = arith.constant dense<1.0> : tensor<f32>
  %l = tele.cross_entropy %x, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  %g = tele.cross_entropy_grad %x, %t, %one : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
  return %l, %g : tensor<f32>, tensor<2x4x16xf32>
}

// -----

// Not fused: a gradient that depends on the loss, other targets, a mask.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: tele.cross_entropy_fused
// CHECK: return
func.func @kept(%x: tensor<2x4x16xf32>, %t: tensor<2x4xi32>, %u: tensor<2x4xi32>, %m: tensor<2x4xf32>)
    -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  %l = tele.cross_entropy %x, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  %dep = tele.cross_entropy_grad %x, %t, %l : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
  %l2 = tele.cross_entropy %x, %u : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  %other = tele.cross_entropy_grad %x, %t, %l2 : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
  %lm = tele.cross_entropy %x, %t mask %m : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<2x4xf32> -> tensor<f32>
  %masked = tele.cross_entropy_grad %x, %t, %lm mask %m : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>, tensor<2x4xf32>
  return %dep, %other, %masked : tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>
}

// -----

// The fused op checks its operands like the ops it replaces.
func.func @bad_targets(%x: tensor<2x4x16xf32>, %t: tensor<2x5xi32>, %g: tensor<f32>) {
  // expected-error @+1 {{'tele.cross_entropy_fused' op}}
  %l, %d = tele.cross_entropy_fused %x, %t, %g : tensor<2x4x16xf32>, tensor<2x5xi32>, tensor<f32>
  return
}
