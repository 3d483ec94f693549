// RUN: tele-opt %s -split-input-file -verify-diagnostics

// 0-d operands of the gradient ops whose verifiers read a feature (last)
// dimension: tele.linear_grad_weight and tele.embed_grad reject them with an
// error instead of indexing an empty shape.

// A 0-d gradient and input have no feature dimension.
func.func @scalars(%dy: tensor<f32>, %x: tensor<f32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'tele.linear_grad_weight' op gradient and input must have rank >= 1}}
  %dw = tele.linear_grad_weight %dy, %x : tensor<f32>, tensor<f32> -> tensor<1x1xf32>
  return %dw : tensor<1x1xf32>
}

// -----

// A 0-d gradient alone is rejected.
func.func @scalar_grad(%dy: tensor<f32>, %x: tensor<8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{'tele.linear_grad_weight' op gradient and input must have rank >= 1}}
  %dw = tele.linear_grad_weight %dy, %x : tensor<f32>, tensor<8xf32> -> tensor<1x8xf32>
  return %dw : tensor<1x8xf32>
}

// -----

// A 0-d input alone is rejected.
func.func @scalar_input(%dy: tensor<12xf32>, %x: tensor<f32>) -> tensor<12x1xf32> {
  // expected-error @+1 {{'tele.linear_grad_weight' op gradient and input must have rank >= 1}}
  %dw = tele.linear_grad_weight %dy, %x : tensor<12xf32>, tensor<f32> -> tensor<12x1xf32>
  return %dw : tensor<12x1xf32>
}

// -----

// Rank 1 is the smallest valid rank: one position, no batch dimensions.
// (No diagnostic expected.)
func.func @vectors(%dy: tensor<12xf32>, %x: tensor<8xf32>) -> tensor<12x8xf32> {
  %dw = tele.linear_grad_weight %dy, %x : tensor<12xf32>, tensor<8xf32> -> tensor<12x8xf32>
  return %dw : tensor<12x8xf32>
}

// -----

// tele.embed_grad: a 0-d gradient has no hidden dimension (with 0-d tokens).
func.func @embed_grad_scalar(%dy: tensor<f32>, %tokens: tensor<i32>) -> tensor<16x1xf32> {
  // expected-error @+1 {{'tele.embed_grad' op gradient must have rank >= 1}}
  %dt = tele.embed_grad %dy, %tokens : tensor<f32>, tensor<i32> -> tensor<16x1xf32>
  return %dt : tensor<16x1xf32>
}

// -----

// tele.embed_grad: a 0-d gradient is rejected whatever the tokens' shape.
func.func @embed_grad_scalar_batch(%dy: tensor<f32>, %tokens: tensor<2x4xi32>) -> tensor<16x8xf32> {
  // expected-error @+1 {{'tele.embed_grad' op gradient must have rank >= 1}}
  %dt = tele.embed_grad %dy, %tokens : tensor<f32>, tensor<2x4xi32> -> tensor<16x8xf32>
  return %dt : tensor<16x8xf32>
}
