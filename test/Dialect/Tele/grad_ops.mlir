// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s

// Round trip of the gradient ops added by tele-autodiff: linear_grad_input,
// linear_grad_weight, embed_grad, rms_norm_grad (with and without mask),
// attention_grad and swiglu_grad. Multi-result ops print their ODS result
// names, so results are captured by position, never by name.

// Both gradients of a projection.
// CHECK-LABEL: func.func @linear_grads
// CHECK-SAME: (%[[DY:.+]]: tensor<2x4x12xf32>, %[[X:.+]]: tensor<2x4x8xf32>, %[[W:.+]]: tensor<12x8xf32>)
// CHECK: %[[DX:.+]] = tele.linear_grad_input %[[DY]], %[[W]] : tensor<2x4x12xf32>, tensor<12x8xf32> -> tensor<2x4x8xf32>
// CHECK: %[[DW:.+]] = tele.linear_grad_weight %[[DY]], %[[X]] : tensor<2x4x12xf32>, tensor<2x4x8xf32> -> tensor<12x8xf32>
// CHECK: return %[[DX]], %[[DW]]
func.func @linear_grads(%dy: tensor<2x4x12xf32>, %x: tensor<2x4x8xf32>, %w: tensor<12x8xf32>) -> (tensor<2x4x8xf32>, tensor<12x8xf32>) {
  %dx = tele.linear_grad_input %dy, %w : tensor<2x4x12xf32>, tensor<12x8xf32> -> tensor<2x4x8xf32>
  %dw = tele.linear_grad_weight %dy, %x : tensor<2x4x12xf32>, tensor<2x4x8xf32> -> tensor<12x8xf32>
  return %dx, %dw : tensor<2x4x8xf32>, tensor<12x8xf32>
}

// -----

// The embedding table gradient.
// CHECK-LABEL: func.func @embed_grad
// CHECK-SAME: (%[[DY:.+]]: tensor<2x4x8xf32>, %[[TOK:.+]]: tensor<2x4xi32>)
// CHECK: tele.embed_grad %[[DY]], %[[TOK]] : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<16x8xf32>
func.func @embed_grad(%dy: tensor<2x4x8xf32>, %tokens: tensor<2x4xi32>) -> tensor<16x8xf32> {
  %dt = tele.embed_grad %dy, %tokens : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<16x8xf32>
  return %dt : tensor<16x8xf32>
}

// -----

// RMSNorm gradients, plain and masked.
// CHECK-LABEL: func.func @rms_norm_grad
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x8xf32>, %[[G:.+]]: tensor<8xf32>, %[[DY:.+]]: tensor<2x4x8xf32>, %[[M:.+]]: tensor<8xf32>)
// CHECK: %[[DX0:[^ ,]+]], %[[DG0:[^ ,]+]] = tele.rms_norm_grad %[[X]], %[[G]], %[[DY]] {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
// CHECK: %[[DX1:[^ ,]+]], %[[DG1:[^ ,]+]] = tele.rms_norm_grad %[[X]], %[[G]], %[[DY]] mask %[[M]] {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
// CHECK: return %[[DX0]], %[[DG0]], %[[DX1]], %[[DG1]]
func.func @rms_norm_grad(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x4x8xf32>, %m: tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) {
  %dx0, %dg0 = tele.rms_norm_grad %x, %g, %dy {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  %dx1, %dg1 = tele.rms_norm_grad %x, %g, %dy mask %m {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %dx0, %dg0, %dx1, %dg1 : tensor<2x4x8xf32>, tensor<8xf32>, tensor<2x4x8xf32>, tensor<8xf32>
}

// -----

// Attention gradients with respect to q, k and v, returned in reverse order.
// CHECK-LABEL: func.func @attention_grad
// CHECK-SAME: (%[[Q:.+]]: tensor<2x4x8xf32>, %[[K:.+]]: tensor<2x4x8xf32>, %[[V:.+]]: tensor<2x4x8xf32>, %[[DY:.+]]: tensor<2x4x8xf32>)
// CHECK: %[[DQ:[^ ,]+]], %[[DK:[^ ,]+]], %[[DV:[^ ,]+]] = tele.attention_grad %[[Q]], %[[K]], %[[V]], %[[DY]] {head_dim = 4 : i64} : tensor<2x4x8xf32>
// CHECK: return %[[DV]], %[[DK]], %[[DQ]]
func.func @attention_grad(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %v: tensor<2x4x8xf32>, %dy: tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %dq, %dk, %dv = tele.attention_grad %q, %k, %v, %dy {head_dim = 4 : i64} : tensor<2x4x8xf32>
  return %dv, %dk, %dq : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// -----

// SwiGLU gradients with respect to gate and up.
// CHECK-LABEL: func.func @swiglu_grad
// CHECK-SAME: (%[[G:.+]]: tensor<2x4x12xf64>, %[[U:.+]]: tensor<2x4x12xf64>, %[[DY:.+]]: tensor<2x4x12xf64>)
// CHECK: %[[DG:[^ ,]+]], %[[DU:[^ ,]+]] = tele.swiglu_grad %[[G]], %[[U]], %[[DY]] : tensor<2x4x12xf64>
// CHECK: return %[[DU]], %[[DG]]
func.func @swiglu_grad(%g: tensor<2x4x12xf64>, %u: tensor<2x4x12xf64>, %dy: tensor<2x4x12xf64>) -> (tensor<2x4x12xf64>, tensor<2x4x12xf64>) {
  %dg, %du = tele.swiglu_grad %g, %u, %dy : tensor<2x4x12xf64>
  return %du, %dg : tensor<2x4x12xf64>, tensor<2x4x12xf64>
}

// -----

// RMSNorm gradient summing several output gradients (bf16 copies, listed
// after `grads`; f32 ones print no types), with a residual addend and the
// bf16 copy of its input gradient.
// CHECK-LABEL: func.func @rms_norm_grad_sum
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x8xf32>, %[[G:.+]]: tensor<8xf32>, %[[A:.+]]: tensor<2x4x8xbf16>, %[[B:.+]]: tensor<2x4x8xbf16>, %[[DY:.+]]: tensor<2x4x8xf32>)
// CHECK: %{{.+}}, %{{.+}}, %[[C:[^ ,]+]] = tele.rms_norm_grad %[[X]], %[[G]], %[[A]], %[[B]] plus %[[DY]] {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32> plus tensor<2x4x8xf32> grads (tensor<2x4x8xbf16>, tensor<2x4x8xbf16>) copy tensor<2x4x8xbf16>
// CHECK: tele.rms_norm_grad %[[X]], %[[G]], %[[DY]], %[[DY]] {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32>{{$}}
func.func @rms_norm_grad_sum(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %a: tensor<2x4x8xbf16>, %b: tensor<2x4x8xbf16>, %dy: tensor<2x4x8xf32>) -> (tensor<2x4x8xbf16>, tensor<2x4x8xf32>) {
  %dx0, %dg0, %c = tele.rms_norm_grad %x, %g, %a, %b plus %dy {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32> plus tensor<2x4x8xf32> grads (tensor<2x4x8xbf16>, tensor<2x4x8xbf16>) copy tensor<2x4x8xbf16>
  %dx1, %dg1 = tele.rms_norm_grad %x, %g, %dy, %dy {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  return %c, %dx1 : tensor<2x4x8xbf16>, tensor<2x4x8xf32>
}
