// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifiers of the MSG mask ops: tele.mask_vector, tele.mask_mul, tele.lerp
// and tele.lerp_grad.

// kept may not exceed the mask length.
func.func @kept_too_large(%c: tensor<f32>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.mask_vector' op kept (9) must be in [0, 8]}}
  %m = tele.mask_vector %c {kept = 9} : tensor<f32> -> tensor<8xf32>
  return %m : tensor<8xf32>
}

// -----

// The mask value has the element type of the mask.
func.func @mask_vector_element_type(%c: tensor<f64>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.mask_vector' op mask value element type 'f64' differs from 'f32'}}
  %m = tele.mask_vector %c {kept = 4} : tensor<f64> -> tensor<8xf32>
  return %m : tensor<8xf32>
}

// -----

// A mask vector is 1-D.
func.func @mask_vector_rank(%c: tensor<f32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'tele.mask_vector' op result must be a vector, got 'tensor<2x4xf32>'}}
  %m = tele.mask_vector %c {kept = 4} : tensor<f32> -> tensor<2x4xf32>
  return %m : tensor<2x4xf32>
}

// -----

// The mask value is a scalar.
func.func @mask_vector_of_vector(%c: tensor<1xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.mask_vector' op operand #0 must be 0D tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<1xf32>'}}
  %m = tele.mask_vector %c {kept = 4} : tensor<1xf32> -> tensor<8xf32>
  return %m : tensor<8xf32>
}

// -----

// kept is required.
func.func @mask_vector_no_kept(%c: tensor<f32>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.mask_vector' op requires attribute 'kept'}}
  %m = tele.mask_vector %c : tensor<f32> -> tensor<8xf32>
  return %m : tensor<8xf32>
}

// -----

// The mask of tele.mask_mul matches the last dimension of the input.
func.func @mask_mul_size(%x: tensor<2x4x8xf32>, %m: tensor<6xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.mask_mul' op mask must have shape [8] to match the last dimension of the input, got 'tensor<6xf32>'}}
  %y = tele.mask_mul %x, %m : tensor<2x4x8xf32>, tensor<6xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The mask is a vector, not a tensor of the input's shape.
func.func @mask_mul_full(%x: tensor<2x4x8xf32>, %m: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.mask_mul' op mask must have shape [8] to match the last dimension of the input, got 'tensor<2x4x8xf32>'}}
  %y = tele.mask_mul %x, %m : tensor<2x4x8xf32>, tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The mask has the input's element type.
func.func @mask_mul_element_type(%x: tensor<2x4x8xf32>, %m: tensor<8xf16>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.mask_mul' op mask element type 'f16' differs from the input's 'f32'}}
  %y = tele.mask_mul %x, %m : tensor<2x4x8xf32>, tensor<8xf16>
  return %y : tensor<2x4x8xf32>
}

// -----

// The input of tele.mask_mul has at least one dimension.
func.func @mask_mul_scalar(%x: tensor<f32>, %m: tensor<1xf32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.mask_mul' op input must have rank >= 1}}
  %y = tele.mask_mul %x, %m : tensor<f32>, tensor<1xf32>
  return %y : tensor<f32>
}

// -----

// The result of tele.mask_mul has the input's type.
func.func @mask_mul_result(%x: tensor<2x4x8xf32>, %m: tensor<8xf32>) -> tensor<2x4x8xf64> {
  // expected-error @+1 {{'tele.mask_mul' op failed to verify that all of {input, result} have same type}}
  %y = "tele.mask_mul"(%x, %m) : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf64>
  return %y : tensor<2x4x8xf64>
}

// -----

// The interpolation weight of tele.lerp has the element type of its ends.
func.func @lerp_weight(%x: tensor<2x4x8xf32>, %b: tensor<2x4x8xf32>, %c: tensor<f64>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.lerp' op weight element type 'f64' differs from 'f32'}}
  %y = tele.lerp %x, %b, %c : tensor<2x4x8xf32>, tensor<f64>
  return %y : tensor<2x4x8xf32>
}

// -----

// The ends of tele.lerp have the same type.
func.func @lerp_ends(%x: tensor<2x4x8xf32>, %b: tensor<2x4x4xf32>, %c: tensor<f32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.lerp' op failed to verify that all of {start, end, result} have same type}}
  %y = "tele.lerp"(%x, %b, %c) : (tensor<2x4x8xf32>, tensor<2x4x4xf32>, tensor<f32>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The weight of tele.lerp is a scalar (per-layer mask value).
func.func @lerp_vector_weight(%x: tensor<2x4x8xf32>, %b: tensor<2x4x8xf32>, %c: tensor<8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.lerp' op operand #2 must be 0D tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<8xf32>'}}
  %y = tele.lerp %x, %b, %c : tensor<2x4x8xf32>, tensor<8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// tele.lerp_grad checks the weight's element type too.
func.func @lerp_grad_weight(%dy: tensor<2x4x8xf64>, %c: tensor<f32>) -> tensor<2x4x8xf64> {
  // expected-error @+1 {{'tele.lerp_grad' op weight element type 'f32' differs from 'f64'}}
  %dx, %db = tele.lerp_grad %dy, %c : tensor<2x4x8xf64>, tensor<f32>
  return %dx : tensor<2x4x8xf64>
}

// -----

// Both gradients of tele.lerp_grad have the incoming gradient's type.
func.func @lerp_grad_results(%dy: tensor<2x4x8xf32>, %c: tensor<f32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.lerp_grad' op failed to verify that all of {grad, start_grad, end_grad} have same type}}
  %dx, %db = "tele.lerp_grad"(%dy, %c) : (tensor<2x4x8xf32>, tensor<f32>) -> (tensor<2x4x8xf32>, tensor<2x4x4xf32>)
  return %dx : tensor<2x4x8xf32>
}

// -----

// tele.mask_mul works on statically shaped tensors.
func.func @mask_mul_dynamic(%x: tensor<?x4x8xf32>, %m: tensor<8xf32>) -> tensor<?x4x8xf32> {
  // expected-error @+1 {{'tele.mask_mul' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x4x8xf32>'}}
  %y = tele.mask_mul %x, %m : tensor<?x4x8xf32>, tensor<8xf32>
  return %y : tensor<?x4x8xf32>
}

// -----

// tele.lerp works on statically shaped tensors.
func.func @lerp_dynamic(%x: tensor<2x?x8xf32>, %c: tensor<f32>) -> tensor<2x?x8xf32> {
  // expected-error @+1 {{'tele.lerp' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2x?x8xf32>'}}
  %y = tele.lerp %x, %x, %c : tensor<2x?x8xf32>, tensor<f32>
  return %y : tensor<2x?x8xf32>
}
