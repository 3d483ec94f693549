// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s

// Round trip of the forward tensor-level ops: tele.embed, tele.rms_norm,
// tele.linear, tele.rope, tele.attention, tele.swiglu, tele.add, tele.scale.

// Embedding lookup.
// CHECK-LABEL: func.func @embed
// CHECK-SAME: (%[[T:.+]]: tensor<16x8xf32>, %[[TOK:.+]]: tensor<2x4xi32>)
// CHECK: %[[X:.+]] = tele.embed %[[T]], %[[TOK]] : tensor<16x8xf32>, tensor<2x4xi32> -> tensor<2x4x8xf32>
// CHECK: return %[[X]]
func.func @embed(%table: tensor<16x8xf32>, %tokens: tensor<2x4xi32>) -> tensor<2x4x8xf32> {
  %x = tele.embed %table, %tokens : tensor<16x8xf32>, tensor<2x4xi32> -> tensor<2x4x8xf32>
  return %x : tensor<2x4x8xf32>
}

// -----

// Plain RMSNorm (no mask).
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x8xf32>, %[[G:.+]]: tensor<8xf32>)
// CHECK: tele.rms_norm %[[X]], %[[G]] {eps = 9.9999999999999995E-7 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
// CHECK-NOT: mask
func.func @rms_norm(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>) -> tensor<2x4x8xf32> {
  %y = tele.rms_norm %x, %g {eps = 1.0e-6 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

// A projection: weight stored [out, in].
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x8xf32>, %[[W:.+]]: tensor<12x8xf32>)
// CHECK: tele.linear %[[X]], %[[W]] : tensor<2x4x8xf32>, tensor<12x8xf32> -> tensor<2x4x12xf32>
func.func @linear(%x: tensor<2x4x8xf32>, %w: tensor<12x8xf32>) -> tensor<2x4x12xf32> {
  %y = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<12x8xf32> -> tensor<2x4x12xf32>
  return %y : tensor<2x4x12xf32>
}

// -----

// tele.linear on a 2-D input (rows of features).
// CHECK-LABEL: func.func @linear_rows
// CHECK: tele.linear %{{.+}}, %{{.+}} : tensor<8x8xf64>, tensor<16x8xf64> -> tensor<8x16xf64>
func.func @linear_rows(%x: tensor<8x8xf64>, %w: tensor<16x8xf64>) -> tensor<8x16xf64> {
  %y = tele.linear %x, %w : tensor<8x8xf64>, tensor<16x8xf64> -> tensor<8x16xf64>
  return %y : tensor<8x16xf64>
}

// -----

// RoPE forward and inverse.
// CHECK-LABEL: func.func @rope
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x8xf32>)
// CHECK: %[[R:.+]] = tele.rope %[[X]] {head_dim = 4 : i64, theta = 1.000000e+04 : f64} : tensor<2x4x8xf32>
// CHECK: %[[I:.+]] = tele.rope %[[R]] {head_dim = 4 : i64, inverse, theta = 1.000000e+04 : f64} : tensor<2x4x8xf32>
// CHECK: return %[[I]]
func.func @rope(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %r = tele.rope %x {head_dim = 4 : i64, theta = 1.0e4 : f64} : tensor<2x4x8xf32>
  %i = tele.rope %r {head_dim = 4 : i64, theta = 1.0e4 : f64, inverse} : tensor<2x4x8xf32>
  return %i : tensor<2x4x8xf32>
}

// -----

// Causal multi-head attention.
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:.+]]: tensor<2x4x8xf32>, %[[K:.+]]: tensor<2x4x8xf32>, %[[V:.+]]: tensor<2x4x8xf32>)
// CHECK: tele.attention %[[Q]], %[[K]], %[[V]] {head_dim = 4 : i64} : tensor<2x4x8xf32>
func.func @attention(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %a = tele.attention %q, %k, %v {head_dim = 4 : i64} : tensor<2x4x8xf32>
  return %a : tensor<2x4x8xf32>
}

// -----

// SwiGLU, residual add and the logit multiplier.
// CHECK-LABEL: func.func @mlp_tail
// CHECK-SAME: (%[[G:.+]]: tensor<2x4x12xf32>, %[[U:.+]]: tensor<2x4x12xf32>)
// CHECK: %[[S:.+]] = tele.swiglu %[[G]], %[[U]] : tensor<2x4x12xf32>
// CHECK: %[[A:.+]] = tele.add %[[S]], %[[G]] : tensor<2x4x12xf32>
// CHECK: %[[Y:.+]] = tele.scale %[[A]] {factor = 3.125000e-02 : f64} : tensor<2x4x12xf32>
// CHECK: return %[[Y]]
func.func @mlp_tail(%g: tensor<2x4x12xf32>, %u: tensor<2x4x12xf32>) -> tensor<2x4x12xf32> {
  %s = tele.swiglu %g, %u : tensor<2x4x12xf32>
  %a = tele.add %s, %g : tensor<2x4x12xf32>
  %y = tele.scale %a {factor = 0.03125 : f64} : tensor<2x4x12xf32>
  return %y : tensor<2x4x12xf32>
}
