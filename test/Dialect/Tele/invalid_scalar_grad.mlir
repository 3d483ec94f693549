// RUN: tele-opt %s -split-input-file -verify-diagnostics

// 0-d operands of tele.linear_grad_weight. Its verifier calls
// getShape().drop_back() and getShape().back() without checking the rank
// first; with 0-d operands tele-opt crashes in LinearGradWeightOp::verify
// (memcmp on an out-of-range ArrayRef) instead of reporting an error.
// XFAIL: *

// A 0-d gradient and input have no feature dimension.
func.func @scalars(%dy: tensor<f32>, %x: tensor<f32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'tele.linear_grad_weight' op}}
  %dw = tele.linear_grad_weight %dy, %x : tensor<f32>, tensor<f32> -> tensor<1x1xf32>
  return %dw : tensor<1x1xf32>
}
