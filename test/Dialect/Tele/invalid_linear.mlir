// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifiers of tele.linear and its gradients: y[..., n] = sum_k x[..., k] W[n, k]
// with W stored [out, in].

// The input's last dimension is the weight's input dimension.
func.func @input_weight(%x: tensor<2x4x8xf32>, %w: tensor<8x12xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.linear' op input 'tensor<2x4x8xf32>' does not match weight 'tensor<8x12xf32>': the last dimension must be 12}}
  %y = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<8x12xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The result's last dimension is the weight's output dimension.
func.func @result_shape(%x: tensor<2x4x8xf32>, %w: tensor<12x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.linear' op result has type 'tensor<2x4x8xf32>' but expected 'tensor<2x4x12xf32>'}}
  %y = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<12x8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The result keeps the input's leading dimensions.
func.func @result_batch(%x: tensor<2x4x8xf32>, %w: tensor<12x8xf32>) -> tensor<8x12xf32> {
  // expected-error @+1 {{'tele.linear' op result has type 'tensor<8x12xf32>' but expected 'tensor<2x4x12xf32>'}}
  %y = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<12x8xf32> -> tensor<8x12xf32>
  return %y : tensor<8x12xf32>
}

// -----

// The weight is a matrix.
func.func @weight_rank(%x: tensor<2x4x8xf32>, %w: tensor<8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.linear' op weight must be [out, in], got 'tensor<8xf32>'}}
  %y = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<8xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// Input and weight share the element type.
func.func @element_types(%x: tensor<2x4x8xbf16>, %w: tensor<12x8xf32>) -> tensor<2x4x12xbf16> {
  // expected-error @+1 {{'tele.linear' op operand element types differ ('bf16' vs 'f32')}}
  %y = tele.linear %x, %w : tensor<2x4x8xbf16>, tensor<12x8xf32> -> tensor<2x4x12xbf16>
  return %y : tensor<2x4x12xbf16>
}

// -----

// A 0-d input has no feature dimension.
func.func @scalar_input(%x: tensor<f32>, %w: tensor<12x8xf32>) -> tensor<12xf32> {
  // expected-error @+1 {{'tele.linear' op input 'tensor<f32>' does not match weight 'tensor<12x8xf32>': the last dimension must be 8}}
  %y = tele.linear %x, %w : tensor<f32>, tensor<12x8xf32> -> tensor<12xf32>
  return %y : tensor<12xf32>
}

// -----

// Integer operands are rejected by the operand constraint.
func.func @integer_input(%x: tensor<2x4x8xi32>, %w: tensor<12x8xf32>) -> tensor<2x4x12xf32> {
  // expected-error @+1 {{'tele.linear' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2x4x8xi32>'}}
  %y = tele.linear %x, %w : tensor<2x4x8xi32>, tensor<12x8xf32> -> tensor<2x4x12xf32>
  return %y : tensor<2x4x12xf32>
}

// -----

// tele.linear_grad_input: dx = dy W, so dy's last dimension is W's output dimension.
func.func @grad_input_dy(%dy: tensor<2x4x8xf32>, %w: tensor<12x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.linear_grad_input' op result has type 'tensor<2x4x8xf32>' but expected 'tensor<2x4x12xf32>'}}
  %dx = tele.linear_grad_input %dy, %w : tensor<2x4x8xf32>, tensor<12x8xf32> -> tensor<2x4x8xf32>
  return %dx : tensor<2x4x8xf32>
}

// -----

// tele.linear_grad_input: dx's last dimension is W's input dimension.
func.func @grad_input_dx(%dy: tensor<2x4x12xf32>, %w: tensor<12x8xf32>) -> tensor<2x4x12xf32> {
  // expected-error @+1 {{'tele.linear_grad_input' op input 'tensor<2x4x12xf32>' does not match weight 'tensor<12x8xf32>': the last dimension must be 8}}
  %dx = tele.linear_grad_input %dy, %w : tensor<2x4x12xf32>, tensor<12x8xf32> -> tensor<2x4x12xf32>
  return %dx : tensor<2x4x12xf32>
}

// -----

// tele.linear_grad_weight: gradient and input agree on the leading dimensions.
func.func @grad_weight_batch(%dy: tensor<2x4x12xf32>, %x: tensor<2x5x8xf32>) -> tensor<12x8xf32> {
  // expected-error @+1 {{'tele.linear_grad_weight' op gradient 'tensor<2x4x12xf32>' and input 'tensor<2x5x8xf32>' must agree on all but the last dimension}}
  %dw = tele.linear_grad_weight %dy, %x : tensor<2x4x12xf32>, tensor<2x5x8xf32> -> tensor<12x8xf32>
  return %dw : tensor<12x8xf32>
}

// -----

// tele.linear_grad_weight: the result is [out, in] = [dy features, x features].
func.func @grad_weight_result(%dy: tensor<2x4x12xf32>, %x: tensor<2x4x8xf32>) -> tensor<8x12xf32> {
  // expected-error @+1 {{'tele.linear_grad_weight' op result has type 'tensor<8x12xf32>' but expected 'tensor<12x8xf32>'}}
  %dw = tele.linear_grad_weight %dy, %x : tensor<2x4x12xf32>, tensor<2x4x8xf32> -> tensor<8x12xf32>
  return %dw : tensor<8x12xf32>
}

// -----

// tele.linear_grad_weight: gradient and input have one element type.
func.func @grad_weight_element_types(%dy: tensor<2x4x12xf32>, %x: tensor<2x4x8xf64>) -> tensor<12x8xf64> {
  // expected-error @+1 {{'tele.linear_grad_weight' op operand element types differ ('f32' vs 'f64')}}
  %dw = tele.linear_grad_weight %dy, %x : tensor<2x4x12xf32>, tensor<2x4x8xf64> -> tensor<12x8xf64>
  return %dw : tensor<12x8xf64>
}

// -----

// tele.linear_grad_weight: the element-type check also covers half types.
func.func @grad_weight_half_types(%dy: tensor<2x4x12xbf16>, %x: tensor<2x4x8xf16>) -> tensor<12x8xf16> {
  // expected-error @+1 {{'tele.linear_grad_weight' op operand element types differ ('bf16' vs 'f16')}}
  %dw = tele.linear_grad_weight %dy, %x : tensor<2x4x12xbf16>, tensor<2x4x8xf16> -> tensor<12x8xf16>
  return %dw : tensor<12x8xf16>
}

// -----

// Shapes are static: a dynamic batch dimension is rejected.
func.func @dynamic_input(%x: tensor<?x4x8xf32>, %w: tensor<12x8xf32>) -> tensor<?x4x12xf32> {
  // expected-error @+1 {{'tele.linear' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x4x8xf32>'}}
  %y = tele.linear %x, %w : tensor<?x4x8xf32>, tensor<12x8xf32> -> tensor<?x4x12xf32>
  return %y : tensor<?x4x12xf32>
}

// -----

// A dynamic weight dimension is rejected too.
func.func @dynamic_weight(%x: tensor<2x4x8xf32>, %w: tensor<?x8xf32>) -> tensor<2x4x12xf32> {
  // expected-error @+1 {{'tele.linear' op operand #1 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x8xf32>'}}
  %y = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<?x8xf32> -> tensor<2x4x12xf32>
  return %y : tensor<2x4x12xf32>
}

// -----

// And so is a dynamic result.
func.func @dynamic_result(%x: tensor<2x4x8xf32>, %w: tensor<12x8xf32>) -> tensor<2x?x12xf32> {
  // expected-error @+1 {{'tele.linear' op result #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2x?x12xf32>'}}
  %y = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<12x8xf32> -> tensor<2x?x12xf32>
  return %y : tensor<2x?x12xf32>
}

// -----

// bf16 operands may write an f32 result (tele-bf16-gemms), not an f16 one.
func.func @narrow_result(%x: tensor<2x4x8xbf16>, %w: tensor<12x8xbf16>) -> tensor<2x4x12xf16> {
  // expected-error @+1 {{'tele.linear' op result element type 'f16' does not fit 'bf16' operands (expected 'bf16', or f32 for 16-bit operands)}}
  %y = tele.linear %x, %w : tensor<2x4x8xbf16>, tensor<12x8xbf16> -> tensor<2x4x12xf16>
  return %y : tensor<2x4x12xf16>
}

// -----

// f32 operands do not widen to f64 either.
func.func @wide_grad_input(%dy: tensor<2x4x12xf32>, %w: tensor<12x8xf32>) -> tensor<2x4x8xf64> {
  // expected-error @+1 {{'tele.linear_grad_input' op result element type 'f64' does not fit 'f32' operands}}
  %dx = tele.linear_grad_input %dy, %w : tensor<2x4x12xf32>, tensor<12x8xf32> -> tensor<2x4x8xf64>
  return %dx : tensor<2x4x8xf64>
}

// -----

// A conversion keeps the shape.
func.func @convert_shape(%x: tensor<2x4xf32>) -> tensor<8xbf16> {
  // expected-error @+1 {{'tele.convert' op requires the same shape for all operands and results}}
  %y = tele.convert %x : tensor<2x4xf32> -> tensor<8xbf16>
  return %y : tensor<8xbf16>
}

// -----

// The epilogue's addend has the result's type.
func.func @addend_type(%x: tensor<2x4x8xf32>, %w: tensor<12x8xf32>, %r: tensor<2x4x8xf32>) -> tensor<2x4x12xf32> {
  // expected-error @+1 {{'tele.linear' op addend has type 'tensor<2x4x8xf32>' but expected 'tensor<2x4x12xf32>'}}
  %y = tele.linear %x, %w plus %r : tensor<2x4x8xf32>, tensor<12x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x12xf32>
  return %y : tensor<2x4x12xf32>
}
