// RUN: tele-opt %s --tele-autodiff="func=objective" | FileCheck %s
// RUN: not tele-opt %s --tele-autodiff="func=missing" 2>&1 | FileCheck %s --check-prefix=MISSING

// tele-autodiff with func=: only the named function is differentiated,
// whatever its name; other *_loss functions are left alone.

// The named function gets @objective_grad; @aux_loss gets nothing.
// CHECK-LABEL: func.func @objective(
// CHECK-LABEL: func.func @objective_grad
// CHECK-SAME: -> (tensor<f32>, tensor<2x4x16xf32>)
// CHECK-SAME: tele.params = ["logits"]
// CHECK: tele.cross_entropy_grad
// CHECK-LABEL: func.func @aux_loss(
// CHECK-NOT: func.func @aux_loss_grad

// A name that is not a function of the module is an error.
// MISSING: error: tele-autodiff: no function named @missing

func.func @objective(%t: tensor<2x4xi32>) -> tensor<f32> {
  %l = tele.param "logits" : tensor<2x4x16xf32>
  %loss = tele.cross_entropy %l, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}
func.func @aux_loss(%t: tensor<2x4xi32>) -> tensor<f32> {
  %l = tele.param "aux" : tensor<2x4x16xf32>
  %loss = tele.cross_entropy %l, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}
