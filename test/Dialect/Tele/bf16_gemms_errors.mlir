// RUN: tele-opt %s --tele-bf16-gemms=reuse-window=-1 --verify-diagnostics

// expected-error @+1 {{tele-bf16-gemms: reuse-window must be >= 0}}
func.func @f(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) -> tensor<2x4xf32> {
  %y = tele.linear %x, %w : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
