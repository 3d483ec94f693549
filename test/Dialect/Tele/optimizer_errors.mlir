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

// -----

// A loss that reads no parameter has no gradients to apply (it used to give
// a tele.global_norm of nothing, which does not verify; found by
// tele-ir-fuzzer).
// expected-error @+1 {{'func.func' op tele-optimizer: no gradients to apply (the loss reads no tele.param)}}
func.func @m_loss_grad(%l: tensor<f32>) -> tensor<f32> attributes {tele.params = []} {
  return %l : tensor<f32>
}

// -----

// The gradient function returns the scalar loss first.
// expected-error @+1 {{'func.func' op tele-optimizer: expected a body returning the scalar loss first}}
func.func private @m_loss_grad(tensor<f32>) -> tensor<f32> attributes {tele.params = []}

// -----

// expected-error @+1 {{'func.func' op tele-optimizer: expected a body returning the scalar loss first}}
func.func @m_loss_grad() attributes {tele.params = []} {
  return
}
