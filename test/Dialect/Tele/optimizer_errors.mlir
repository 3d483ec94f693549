// RUN: tele-opt %s -split-input-file -verify-diagnostics --tele-optimizer

// Diagnostics of tele-optimizer on malformed gradient functions (functions
// carrying tele.params, as tele-autodiff produces them).

// tele.params names one parameter per gradient result.
// expected-error @+1 {{'func.func' op tele.params does not match the gradient results}}
func.func @m_loss_grad(%t: tensor<2x4xi32>) -> (tensor<f32>, tensor<8xf32>) attributes {tele.params = ["a", "b"]} {
  %a = tele.param "a" {group = #tele.group<vector>} : tensor<8xf32>
  %l = arith.constant dense<0.0> : tensor<f32>
  return %l, %a : tensor<f32>, tensor<8xf32>
}

// -----

// Every named parameter must be read in the function.
// expected-error @+1 {{'func.func' op no tele.param read of 'b'}}
func.func @m_loss_grad(%t: tensor<2x4xi32>) -> (tensor<f32>, tensor<8xf32>) attributes {tele.params = ["b"]} {
  %a = tele.param "a" {group = #tele.group<vector>} : tensor<8xf32>
  %l = arith.constant dense<0.0> : tensor<f32>
  return %l, %a : tensor<f32>, tensor<8xf32>
}

// -----

// The step function's name must be free.
// expected-error @+1 {{'func.func' op tele-optimizer: @m_step already exists}}
func.func @m_loss_grad(%t: tensor<2x4xi32>) -> (tensor<f32>, tensor<8xf32>) attributes {tele.params = ["a"]} {
  %a = tele.param "a" {group = #tele.group<vector>} : tensor<8xf32>
  %l = arith.constant dense<0.0> : tensor<f32>
  return %l, %a : tensor<f32>, tensor<8xf32>
}
func.func private @m_step()
