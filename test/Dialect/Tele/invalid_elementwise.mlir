// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifiers of the elementwise ops tele.swiglu, tele.swiglu_grad, tele.add
// and tele.scale: operands and results share one type (SwiGLU results may
// be bf16 for f32 operands, see element_types.mlir).

// gate and up have one type.
func.func @swiglu_up(%g: tensor<2x4x12xf32>, %u: tensor<2x4x8xf32>) -> tensor<2x4x12xf32> {
  // expected-error @+1 {{'tele.swiglu' op failed to verify that all of {gate, up} have same type}}
  %h = "tele.swiglu"(%g, %u) : (tensor<2x4x12xf32>, tensor<2x4x8xf32>) -> tensor<2x4x12xf32>
  return %h : tensor<2x4x12xf32>
}

// -----

// SwiGLU works on float tensors.
func.func @swiglu_integer(%g: tensor<2x4x12xi32>) -> tensor<2x4x12xi32> {
  // expected-error @+1 {{'tele.swiglu' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2x4x12xi32>'}}
  %h = tele.swiglu %g, %g : tensor<2x4x12xi32>
  return %h : tensor<2x4x12xi32>
}

// -----

// tele.swiglu_grad ties every operand and result to one type.
func.func @swiglu_grad(%g: tensor<2x4x12xf32>, %dy: tensor<2x4x12xf64>) -> tensor<2x4x12xf32> {
  // expected-error @+1 {{'tele.swiglu_grad' op failed to verify that all of {gate, up, grad} have same type}}
  %dg, %du = "tele.swiglu_grad"(%g, %g, %dy) : (tensor<2x4x12xf32>, tensor<2x4x12xf32>, tensor<2x4x12xf64>) -> (tensor<2x4x12xf32>, tensor<2x4x12xf32>)
  return %dg : tensor<2x4x12xf32>
}

// -----

// tele.add does not broadcast.
func.func @add_broadcast(%x: tensor<2x4x8xf32>, %b: tensor<8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.add' op failed to verify that all of {lhs, rhs, result} have same type}}
  %y = "tele.add"(%x, %b) : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// tele.add does not convert element types.
func.func @add_result(%x: tensor<2x4x8xbf16>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.add' op failed to verify that all of {lhs, rhs, result} have same type}}
  %y = "tele.add"(%x, %x) : (tensor<2x4x8xbf16>, tensor<2x4x8xbf16>) -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The factor of tele.scale is required.
func.func @scale_no_factor(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.scale' op requires attribute 'factor'}}
  %y = tele.scale %x : tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The factor of tele.scale is an f64 attribute.
func.func @scale_integer_factor(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.scale' op attribute 'factor' failed to satisfy constraint: 64-bit float attribute}}
  %y = tele.scale %x {factor = 2 : i64} : tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// tele.scale keeps the input type.
func.func @scale_result(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf64> {
  // expected-error @+1 {{'tele.scale' op failed to verify that all of {input, result} have same type}}
  %y = "tele.scale"(%x) <{factor = 2.0 : f64}> : (tensor<2x4x8xf32>) -> tensor<2x4x8xf64>
  return %y : tensor<2x4x8xf64>
}

// -----

// Elementwise operands are statically shaped.
func.func @add_dynamic(%x: tensor<2x?x8xf32>) -> tensor<2x?x8xf32> {
  // expected-error @+1 {{'tele.add' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2x?x8xf32>'}}
  %y = tele.add %x, %x : tensor<2x?x8xf32>
  return %y : tensor<2x?x8xf32>
}

// -----

// Unranked tensors are not statically shaped either.
func.func @scale_unranked(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'tele.scale' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<*xf32>'}}
  %y = "tele.scale"(%x) <{factor = 2.0 : f64}> : (tensor<*xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// A narrowed result keeps the shape and may only be bf16.
func.func @swiglu_narrow_shape(%g: tensor<2x4x12xf32>) -> tensor<2x4x8xbf16> {
  // expected-error @+1 {{'tele.swiglu' op failed to verify that all of {gate, result} have same shape}}
  %h = tele.swiglu %g, %g : tensor<2x4x12xf32> -> tensor<2x4x8xbf16>
  return %h : tensor<2x4x8xbf16>
}

// -----

func.func @swiglu_grad_narrow_f16(%g: tensor<2x4x12xf32>) -> tensor<2x4x12xf16> {
  // expected-error @+1 {{'tele.swiglu_grad' op operands and results must be f32 or bf16 (copies of f32 values), or all of one element type}}
  %dg, %du = tele.swiglu_grad %g, %g, %g : tensor<2x4x12xf32> -> (tensor<2x4x12xf16>, tensor<2x4x12xf32>)
  return %dg : tensor<2x4x12xf16>
}
