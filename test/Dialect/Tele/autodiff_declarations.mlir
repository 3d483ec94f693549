// RUN: tele-opt %s --tele-autodiff | FileCheck %s
// RUN: not tele-opt %s --tele-autodiff="func=extern_loss" 2>&1 | FileCheck %s --check-prefix=NAMED

// tele-autodiff and function declarations. Without func= a body-less *_loss
// declaration is skipped (nothing to differentiate) while the other *_loss
// functions are still differentiated; naming a declaration with func= is an
// error, reported at the declaration.

// The declarations are kept as they are and get no gradient function.
// CHECK-LABEL: func.func private @extern_loss(tensor<2x4xi32>) -> tensor<f32>
// CHECK-NOT: @extern_loss_grad
// CHECK-LABEL: func.func private @other_loss(tensor<2x4xi32>) -> tensor<f32>
// CHECK-NOT: @other_loss_grad

// The defined loss next to them is differentiated as usual.
// CHECK-LABEL: func.func @real_loss(
// CHECK-LABEL: func.func @real_loss_grad(
// CHECK-SAME: %{{[^:]+}}: tensor<2x4xi32>) -> (tensor<f32>, tensor<2x4x16xf32>)
// CHECK-SAME: tele.params = ["logits"]
// CHECK: %[[DL:.+]] = tele.cross_entropy_grad
// CHECK: return %{{.+}}, %[[DL]] : tensor<f32>, tensor<2x4x16xf32>
// CHECK-NOT: _grad

// A declaration named by func= cannot be differentiated.
// NAMED: autodiff_declarations.mlir:[[@LINE+2]]:1: error: 'func.func' op tele-autodiff needs a single-block function
// NAMED-NOT: error:
func.func private @extern_loss(tensor<2x4xi32>) -> tensor<f32>
func.func private @other_loss(tensor<2x4xi32>) -> tensor<f32>
func.func @real_loss(%t: tensor<2x4xi32>) -> tensor<f32> {
  %l = tele.param "logits" : tensor<2x4x16xf32>
  %loss = tele.cross_entropy %l, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}
