// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifiers of tele.rms_norm and tele.rms_norm_grad: gain and mask are
// per-feature vectors of the input's last dimension and element type.

// The gain has one entry per feature.
func.func @gain_size(%x: tensor<2x4x8xf32>, %g: tensor<6xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm' op gain must have shape [8] to match the last dimension of the input, got 'tensor<6xf32>'}}
  %y = tele.rms_norm %x, %g {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<6xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The gain is a vector.
func.func @gain_rank(%x: tensor<2x4x8xf32>, %g: tensor<1x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm' op gain must have shape [8] to match the last dimension of the input, got 'tensor<1x8xf32>'}}
  %y = tele.rms_norm %x, %g {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<1x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The gain has the input's element type.
func.func @gain_element_type(%x: tensor<2x4x8xf32>, %g: tensor<8xbf16>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm' op gain element type 'bf16' differs from the input's 'f32'}}
  %y = tele.rms_norm %x, %g {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xbf16>
  return %y : tensor<2x4x8xf32>
}

// -----

// The MSG width mask has the input's element type.
func.func @mask_element_type(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %m: tensor<8xf64>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm' op mask element type 'f64' differs from the input's 'f32'}}
  %y = tele.rms_norm %x, %g mask %m {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf64>
  return %y : tensor<2x4x8xf32>
}

// -----

// The mask has one entry per feature.
func.func @mask_size(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %m: tensor<12xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm' op mask must have shape [8] to match the last dimension of the input, got 'tensor<12xf32>'}}
  %y = tele.rms_norm %x, %g mask %m {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<12xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// eps must be positive.
func.func @eps_zero(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm' op eps must be positive}}
  %y = tele.rms_norm %x, %g {eps = 0.0 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// eps is required.
func.func @eps_missing(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm' op requires attribute 'eps'}}
  %y = tele.rms_norm %x, %g : tensor<2x4x8xf32>, tensor<8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// A 0-d input has no feature dimension.
func.func @scalar_input(%x: tensor<f32>, %g: tensor<1xf32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.rms_norm' op input must have rank >= 1}}
  %y = tele.rms_norm %x, %g {eps = 1.0e-5 : f64} : tensor<f32>, tensor<1xf32>
  return %y : tensor<f32>
}

// -----

// The result has the input's type.
func.func @result_type(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>) -> tensor<2x4x8xf64> {
  // expected-error @+1 {{'tele.rms_norm' op result element type 'f64' must be the input's ('f32'), or bf16 for an f32 input}}
  %y = "tele.rms_norm"(%x, %g) <{eps = 1.0e-5 : f64}> : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf64>
  return %y : tensor<2x4x8xf64>
}

// -----

// tele.rms_norm_grad checks its gain like the forward op.
func.func @grad_gain(%x: tensor<2x4x8xf32>, %g: tensor<4xf32>, %dy: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm_grad' op gain must have shape [8] to match the last dimension of the input, got 'tensor<4xf32>'}}
  %dx, %dg = tele.rms_norm_grad %x, %g, %dy {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<4xf32>
  return %dx : tensor<2x4x8xf32>
}

// -----

// tele.rms_norm_grad checks its mask like the forward op.
func.func @grad_mask(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x4x8xf32>, %m: tensor<8xf16>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm_grad' op mask element type 'f16' differs from the input's 'f32'}}
  %dx, %dg = tele.rms_norm_grad %x, %g, %dy mask %m {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf16>
  return %dx : tensor<2x4x8xf32>
}

// -----

// tele.rms_norm_grad checks eps.
func.func @grad_eps(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm_grad' op eps must be positive}}
  %dx, %dg = tele.rms_norm_grad %x, %g, %dy {eps = -1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  return %dx : tensor<2x4x8xf32>
}

// -----

// The incoming gradients have the input's type (or are bf16 copies of f32).
func.func @grad_type(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x4x8xf64>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm_grad' op grad has type 'tensor<2x4x8xf64>' but expected 'tensor<2x4x8xf32>' (or its bf16 copy for f32)}}
  %dx, %dg = "tele.rms_norm_grad"(%x, %g, %dy) <{eps = 1.0e-5 : f64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}> : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<2x4x8xf64>) -> (tensor<2x4x8xf32>, tensor<8xf32>)
  return %dx : tensor<2x4x8xf32>
}

// -----

// A second gradient of another shape.
func.func @grad_shape(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x4x8xbf16>, %dz: tensor<2x8x4xbf16>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm_grad' op grad has type 'tensor<2x8x4xbf16>' but expected 'tensor<2x4x8xf32>' (or its bf16 copy for f32)}}
  %dx, %dg = tele.rms_norm_grad %x, %g, %dy, %dz {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32> grads (tensor<2x4x8xbf16>, tensor<2x8x4xbf16>)
  return %dx : tensor<2x4x8xf32>
}

// -----

// At least one incoming gradient.
func.func @no_grads(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm_grad' op needs at least one output gradient}}
  %dx, %dg = "tele.rms_norm_grad"(%x, %g) <{eps = 1.0e-5 : f64, operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>)
  return %dx : tensor<2x4x8xf32>
}

// -----

// The input gradient's copy is bf16.
func.func @copy_type(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x4x8xf32>) -> tensor<2x4x8xf16> {
  // expected-error @+1 {{'tele.rms_norm_grad' op input_grad_copy has type 'tensor<2x4x8xf16>' but expected 'tensor<2x4x8xbf16>'}}
  %dx, %dg, %c = tele.rms_norm_grad %x, %g, %dy {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32> copy tensor<2x4x8xf16>
  return %c : tensor<2x4x8xf16>
}

// -----

// Only an f32 input gradient has a bf16 copy.
func.func @copy_of_f64(%x: tensor<2x4x8xf64>, %g: tensor<8xf64>, %dy: tensor<2x4x8xf64>) -> tensor<2x4x8xbf16> {
  // expected-error @+1 {{'tele.rms_norm_grad' op a bf16 copy of the input gradient needs an f32 input}}
  %dx, %dg, %c = tele.rms_norm_grad %x, %g, %dy {eps = 1.0e-5 : f64} : tensor<2x4x8xf64>, tensor<8xf64> copy tensor<2x4x8xbf16>
  return %c : tensor<2x4x8xbf16>
}

// -----

// The input is statically shaped.
func.func @dynamic_input(%x: tensor<?x4x8xf32>, %g: tensor<8xf32>) -> tensor<?x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x4x8xf32>'}}
  %y = tele.rms_norm %x, %g {eps = 1.0e-5 : f64} : tensor<?x4x8xf32>, tensor<8xf32>
  return %y : tensor<?x4x8xf32>
}

// -----

// The mask is statically shaped.
func.func @dynamic_mask(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %m: tensor<?xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm' op operand #2 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?xf32>'}}
  %y = tele.rms_norm %x, %g mask %m {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<?xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The residual gradient added to dx has the input's type.
func.func @addend_type(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %r: tensor<2x4x4xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rms_norm_grad' op addend has type 'tensor<2x4x4xf32>' but expected 'tensor<2x4x8xf32>'}}
  %dx, %dg = tele.rms_norm_grad %x, %g, %x plus %r {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32> plus tensor<2x4x4xf32>
  return %dx : tensor<2x4x8xf32>
}
