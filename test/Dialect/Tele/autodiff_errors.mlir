// RUN: tele-opt %s -split-input-file -verify-diagnostics --tele-autodiff

// Diagnostics of tele-autodiff: ops without a gradient rule on the path to
// the loss, functions that do not return one scalar loss, and name clashes.

// A call cannot be differentiated through.
func.func private @helper(tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
func.func @call_loss(%t: tensor<2x4xi32>) -> tensor<f32> {
  %l = tele.param "logits" : tensor<2x4x16xf32>
  // expected-error @+1 {{'func.call' op has no gradient rule (tele-autodiff supports the tensor-level forward ops of the tele dialect)}}
  %c = func.call @helper(%l) : (tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %loss = tele.cross_entropy %c, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Optimizer ops have no gradient rule either.
func.func @adamw_loss(%t: tensor<2x4xi32>, %lr: tensor<f32>, %s: tensor<i64>) -> tensor<f32> {
  %p = tele.param "logits" : tensor<2x4x16xf32>
  // expected-error @+1 {{'tele.adamw' op has no gradient rule}}
  %p1, %m1, %v1 = tele.adamw %p, %p, %p, %p, %lr, %lr, %s {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<2x4x16xf32>, tensor<f32>, tensor<i64>
  %loss = tele.cross_entropy %p1, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Nor do gradient ops (no second derivatives).
func.func @second_order_loss(%x: tensor<2x4x8xf32>, %t: tensor<2x4xi32>) -> tensor<f32> {
  %w = tele.param "w" : tensor<8x8xf32>
  // expected-error @+1 {{'tele.linear_grad_input' op has no gradient rule}}
  %dx = tele.linear_grad_input %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %loss = tele.cross_entropy %dx, %t : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A loss function returns exactly one value.
// expected-error @+1 {{'func.func' op tele-autodiff needs a function returning one scalar loss}}
func.func @pair_loss(%t: tensor<2x4xi32>) -> (tensor<f32>, tensor<2x4x16xf32>) {
  %l = tele.param "logits" : tensor<2x4x16xf32>
  %loss = tele.cross_entropy %l, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss, %l : tensor<f32>, tensor<2x4x16xf32>
}

// -----

// The loss is a 0-d tensor.
// expected-error @+1 {{'func.func' op tele-autodiff needs a function returning one scalar loss}}
func.func @vector_loss() -> tensor<4xf32> {
  %l = tele.param "logits" : tensor<4xf32>
  return %l : tensor<4xf32>
}

// -----

// A declaration named *_loss has no body: without func= it is skipped, no
// diagnostic (autodiff_declarations.mlir checks that nothing is added).
func.func private @extern_loss(tensor<2x4xi32>) -> tensor<f32>

// -----

// The gradient function's name must be free.
// expected-error @+1 {{'func.func' op tele-autodiff: @taken_loss_grad already exists}}
func.func @taken_loss(%t: tensor<2x4xi32>) -> tensor<f32> {
  %l = tele.param "logits" : tensor<2x4x16xf32>
  %loss = tele.cross_entropy %l, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}
func.func private @taken_loss_grad()
