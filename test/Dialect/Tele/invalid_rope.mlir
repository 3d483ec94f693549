// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifier of tele.rope: [batch, seq, heads * head_dim] input, even head_dim,
// positive theta.

// The feature size is a whole number of heads.
func.func @not_multiple(%x: tensor<2x4x10xf32>) -> tensor<2x4x10xf32> {
  // expected-error @+1 {{'tele.rope' op feature size 10 is not a multiple of head_dim 4}}
  %y = tele.rope %x {head_dim = 4 : i64, theta = 1.0e4 : f64} : tensor<2x4x10xf32>
  return %y : tensor<2x4x10xf32>
}

// -----

// Rotate-half pairs features: head_dim is even.
func.func @odd_head_dim(%x: tensor<2x4x9xf32>) -> tensor<2x4x9xf32> {
  // expected-error @+1 {{'tele.rope' op head_dim must be positive and even, got 3}}
  %y = tele.rope %x {head_dim = 3 : i64, theta = 1.0e4 : f64} : tensor<2x4x9xf32>
  return %y : tensor<2x4x9xf32>
}

// -----

// head_dim is positive.
func.func @zero_head_dim(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rope' op head_dim must be positive and even, got 0}}
  %y = tele.rope %x {head_dim = 0 : i64, theta = 1.0e4 : f64} : tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// A negative head_dim is reported as written.
func.func @negative_head_dim(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rope' op head_dim must be positive and even, got -4}}
  %y = tele.rope %x {head_dim = -4 : i64, theta = 1.0e4 : f64} : tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The input is [batch, seq, features].
func.func @rank2(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'tele.rope' op expects [batch, seq, heads * head_dim] operands, got 'tensor<4x8xf32>'}}
  %y = tele.rope %x {head_dim = 4 : i64, theta = 1.0e4 : f64} : tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Heads are not a separate dimension.
func.func @rank4(%x: tensor<2x4x2x4xf32>) -> tensor<2x4x2x4xf32> {
  // expected-error @+1 {{'tele.rope' op expects [batch, seq, heads * head_dim] operands, got 'tensor<2x4x2x4xf32>'}}
  %y = tele.rope %x {head_dim = 4 : i64, theta = 1.0e4 : f64} : tensor<2x4x2x4xf32>
  return %y : tensor<2x4x2x4xf32>
}

// -----

// theta is positive.
func.func @theta(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rope' op theta must be positive}}
  %y = tele.rope %x {head_dim = 4 : i64, theta = 0.0 : f64} : tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// theta is an f64 attribute.
func.func @theta_type(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rope' op attribute 'theta' failed to satisfy constraint: 64-bit float attribute}}
  %y = tele.rope %x {head_dim = 4 : i64, theta = 1.0e4 : f32} : tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// inverse is a unit attribute.
func.func @inverse_type(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.rope' op attribute 'inverse' failed to satisfy constraint: unit attribute}}
  %y = tele.rope %x {head_dim = 4 : i64, theta = 1.0e4 : f64, inverse = true} : tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The input is statically shaped.
func.func @dynamic_features(%x: tensor<2x4x?xf32>) -> tensor<2x4x?xf32> {
  // expected-error @+1 {{'tele.rope' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2x4x?xf32>'}}
  %y = tele.rope %x {head_dim = 4 : i64, theta = 1.0e4 : f64} : tensor<2x4x?xf32>
  return %y : tensor<2x4x?xf32>
}
