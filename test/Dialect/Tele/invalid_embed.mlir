// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifiers of tele.embed and its gradient tele.embed_grad.

// The result is the tokens' shape plus the hidden dimension.
func.func @result_shape(%table: tensor<16x8xf32>, %tokens: tensor<2x4xi32>) -> tensor<2x4x16xf32> {
  // expected-error @+1 {{'tele.embed' op result has type 'tensor<2x4x16xf32>' but expected 'tensor<2x4x8xf32>'}}
  %x = tele.embed %table, %tokens : tensor<16x8xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
  return %x : tensor<2x4x16xf32>
}

// -----

// The result has the table's element type.
func.func @result_element_type(%table: tensor<16x8xf32>, %tokens: tensor<2x4xi32>) -> tensor<2x4x8xf64> {
  // expected-error @+1 {{'tele.embed' op result has type 'tensor<2x4x8xf64>' but expected 'tensor<2x4x8xf32>'}}
  %x = tele.embed %table, %tokens : tensor<16x8xf32>, tensor<2x4xi32> -> tensor<2x4x8xf64>
  return %x : tensor<2x4x8xf64>
}

// -----

// The table is [vocab, hidden].
func.func @table_rank(%table: tensor<16x8x2xf32>, %tokens: tensor<2x4xi32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.embed' op table must be [vocab, hidden], got 'tensor<16x8x2xf32>'}}
  %x = tele.embed %table, %tokens : tensor<16x8x2xf32>, tensor<2x4xi32> -> tensor<2x4x8xf32>
  return %x : tensor<2x4x8xf32>
}

// -----

// Tokens are i32.
func.func @token_type(%table: tensor<16x8xf32>, %tokens: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.embed' op operand #1 must be statically shaped tensor of 32-bit signless integer values, but got 'tensor<2x4xi64>'}}
  %x = tele.embed %table, %tokens : tensor<16x8xf32>, tensor<2x4xi64> -> tensor<2x4x8xf32>
  return %x : tensor<2x4x8xf32>
}

// -----

// The table is a float tensor.
func.func @integer_table(%table: tensor<16x8xi32>, %tokens: tensor<2x4xi32>) -> tensor<2x4x8xi32> {
  // expected-error @+1 {{'tele.embed' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<16x8xi32>'}}
  %x = tele.embed %table, %tokens : tensor<16x8xi32>, tensor<2x4xi32> -> tensor<2x4x8xi32>
  return %x : tensor<2x4x8xi32>
}

// -----

// The gradient of tele.embed_grad is the tokens' shape plus a hidden dimension.
func.func @grad_shape(%dy: tensor<2x5x8xf32>, %tokens: tensor<2x4xi32>) -> tensor<16x8xf32> {
  // expected-error @+1 {{'tele.embed_grad' op gradient 'tensor<2x5x8xf32>' must be the tokens' shape plus a hidden dimension, tokens are 'tensor<2x4xi32>'}}
  %dt = tele.embed_grad %dy, %tokens : tensor<2x5x8xf32>, tensor<2x4xi32> -> tensor<16x8xf32>
  return %dt : tensor<16x8xf32>
}

// -----

// The table gradient has the gradient's hidden size.
func.func @grad_result_hidden(%dy: tensor<2x4x8xf32>, %tokens: tensor<2x4xi32>) -> tensor<16x4xf32> {
  // expected-error @+1 {{'tele.embed_grad' op result must be [vocab, 8] of 'f32', got 'tensor<16x4xf32>'}}
  %dt = tele.embed_grad %dy, %tokens : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<16x4xf32>
  return %dt : tensor<16x4xf32>
}

// -----

// The table gradient has the gradient's element type.
func.func @grad_result_element_type(%dy: tensor<2x4x8xf32>, %tokens: tensor<2x4xi32>) -> tensor<16x8xbf16> {
  // expected-error @+1 {{'tele.embed_grad' op result must be [vocab, 8] of 'f32', got 'tensor<16x8xbf16>'}}
  %dt = tele.embed_grad %dy, %tokens : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<16x8xbf16>
  return %dt : tensor<16x8xbf16>
}

// -----

// The table gradient is 2-D.
func.func @grad_result_rank(%dy: tensor<2x4x8xf32>, %tokens: tensor<2x4xi32>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.embed_grad' op result must be [vocab, 8] of 'f32', got 'tensor<8xf32>'}}
  %dt = tele.embed_grad %dy, %tokens : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<8xf32>
  return %dt : tensor<8xf32>
}

// -----

// Token batches are statically shaped.
func.func @dynamic_tokens(%table: tensor<16x8xf32>, %tokens: tensor<?x4xi32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.embed' op operand #1 must be statically shaped tensor of 32-bit signless integer values, but got 'tensor<?x4xi32>'}}
  %x = tele.embed %table, %tokens : tensor<16x8xf32>, tensor<?x4xi32> -> tensor<2x4x8xf32>
  return %x : tensor<2x4x8xf32>
}

// -----

// The embedding table is statically shaped.
func.func @dynamic_table(%table: tensor<?x8xf32>, %tokens: tensor<2x4xi32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.embed' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x8xf32>'}}
  %x = tele.embed %table, %tokens : tensor<?x8xf32>, tensor<2x4xi32> -> tensor<2x4x8xf32>
  return %x : tensor<2x4x8xf32>
}

// -----

// tele.embed_grad: the gradient is statically shaped.
func.func @grad_dynamic(%dy: tensor<2x?x8xf32>, %tokens: tensor<2x4xi32>) -> tensor<16x8xf32> {
  // expected-error @+1 {{'tele.embed_grad' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2x?x8xf32>'}}
  %dt = tele.embed_grad %dy, %tokens : tensor<2x?x8xf32>, tensor<2x4xi32> -> tensor<16x8xf32>
  return %dt : tensor<16x8xf32>
}
