// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifiers of tele.attention and tele.attention_grad: q, k, v and the result
// are [batch, seq, heads * head_dim] of one type.

// Operands are rank 3.
func.func @rank(%q: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'tele.attention' op expects [batch, seq, heads * head_dim] operands, got 'tensor<4x8xf32>'}}
  %a = tele.attention %q, %q, %q {head_dim = 4 : i64} : tensor<4x8xf32>
  return %a : tensor<4x8xf32>
}

// -----

// The feature size is a whole number of heads.
func.func @not_multiple(%q: tensor<2x4x12xf32>) -> tensor<2x4x12xf32> {
  // expected-error @+1 {{'tele.attention' op feature size 12 is not a multiple of head_dim 8}}
  %a = tele.attention %q, %q, %q {head_dim = 8 : i64} : tensor<2x4x12xf32>
  return %a : tensor<2x4x12xf32>
}

// -----

// head_dim is even (RoPE is applied per head before attention).
func.func @odd_head_dim(%q: tensor<2x4x10xf32>) -> tensor<2x4x10xf32> {
  // expected-error @+1 {{'tele.attention' op head_dim must be positive and even, got 5}}
  %a = tele.attention %q, %q, %q {head_dim = 5 : i64} : tensor<2x4x10xf32>
  return %a : tensor<2x4x10xf32>
}

// -----

// Keys have the queries' type.
func.func @key_type(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.attention' op failed to verify that all of {query, key, value, result} have same type}}
  %a = "tele.attention"(%q, %k, %q) <{head_dim = 4 : i64}> : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %a : tensor<2x4x8xf32>
}

// -----

// The result has the queries' type.
func.func @result_type(%q: tensor<2x4x8xf32>) -> tensor<2x4x8xf16> {
  // expected-error @+1 {{'tele.attention' op failed to verify that all of {query, key, value, result} have same type}}
  %a = "tele.attention"(%q, %q, %q) <{head_dim = 4 : i64}> : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf16>
  return %a : tensor<2x4x8xf16>
}

// -----

// head_dim is required.
func.func @no_head_dim(%q: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.attention' op requires attribute 'head_dim'}}
  %a = tele.attention %q, %q, %q : tensor<2x4x8xf32>
  return %a : tensor<2x4x8xf32>
}

// -----

// tele.attention_grad checks the head layout like the forward op.
func.func @grad_not_multiple(%q: tensor<2x4x12xf32>) -> tensor<2x4x12xf32> {
  // expected-error @+1 {{'tele.attention_grad' op feature size 12 is not a multiple of head_dim 8}}
  %dq, %dk, %dv = tele.attention_grad %q, %q, %q, %q {head_dim = 8 : i64} : tensor<2x4x12xf32>
  return %dq : tensor<2x4x12xf32>
}

// -----

// tele.attention_grad checks the rank.
func.func @grad_rank(%q: tensor<2x2x4x8xf32>) -> tensor<2x2x4x8xf32> {
  // expected-error @+1 {{'tele.attention_grad' op expects [batch, seq, heads * head_dim] operands, got 'tensor<2x2x4x8xf32>'}}
  %dq, %dk, %dv = tele.attention_grad %q, %q, %q, %q {head_dim = 4 : i64} : tensor<2x2x4x8xf32>
  return %dq : tensor<2x2x4x8xf32>
}

// -----

// Every operand and result of tele.attention_grad has one type.
func.func @grad_types(%q: tensor<2x4x8xf32>, %dy: tensor<2x4x8xf64>) -> tensor<2x4x8xf32> {
  // expected-error @+1 {{'tele.attention_grad' op failed to verify that all of {query, key, value, grad, query_grad, key_grad, value_grad} have same type}}
  %dq, %dk, %dv = "tele.attention_grad"(%q, %q, %q, %dy) <{head_dim = 4 : i64}> : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf64>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>)
  return %dq : tensor<2x4x8xf32>
}

// -----

// q, k and v are statically shaped.
func.func @dynamic_seq(%q: tensor<2x?x8xf32>) -> tensor<2x?x8xf32> {
  // expected-error @+1 {{'tele.attention' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2x?x8xf32>'}}
  %a = tele.attention %q, %q, %q {head_dim = 4 : i64} : tensor<2x?x8xf32>
  return %a : tensor<2x?x8xf32>
}
