// RUN: tele-opt %s --split-input-file --verify-diagnostics --tele-fuse | FileCheck %s

// The loss and its gradient on the same logits and targets become one op
// placed at the loss; both results are used where the old ones were.
// CHECK-LABEL: func.func @fused
// CHECK-NEXT: %[[ONE:.+]] = arith.constant
// CHECK-NEXT: %[[LOSS:.+]], %[[GRAD:.+]] = tele.cross_entropy_fused %arg0, %arg1, %[[ONE]] : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
// CHECK-NOT: tele.cross_entropy
// CHECK: return %[[LOSS]], %[[GRAD]]
func.func @fused(%x: tensor<2x4x16xf32>, %t: tensor<2x4xi32>) -> (tensor<f32>, tensor<2x4x16xf32>) {
  %one = arith.constant dense<1.0> : tensor<f32>
  %l = tele.cross_entropy %x, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  %g = tele.cross_entropy_grad %x, %t, %one : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
  return %l, %g : tensor<f32>, tensor<2x4x16xf32>
}

// -----

// An incoming gradient that is an argument is available at the loss too.
// CHECK-LABEL: func.func @fused_argument
// CHECK-NEXT: tele.cross_entropy_fused %arg0, %arg1, %arg2
func.func @fused_argument(%x: tensor<2x4x16xf32>, %t: tensor<2x4xi32>, %one: tensor<f32>) -> (tensor<f32>, tensor<2x4x16xf32>) {
  %l = tele.cross_entropy %x, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  %g = tele.cross_entropy_grad %x, %t, %one : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
  return %l, %g : tensor<f32>, tensor<2x4x16xf32>
}

// -----

// Not fused: a gradient that depends on the loss, other targets, a mask.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: tele.cross_entropy_fused
// CHECK: return
func.func @kept(%x: tensor<2x4x16xf32>, %t: tensor<2x4xi32>, %u: tensor<2x4xi32>, %m: tensor<2x4xf32>)
    -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  %l = tele.cross_entropy %x, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  %dep = tele.cross_entropy_grad %x, %t, %l : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
  %l2 = tele.cross_entropy %x, %u : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  %other = tele.cross_entropy_grad %x, %t, %l2 : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
  %lm = tele.cross_entropy %x, %t mask %m : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<2x4xf32> -> tensor<f32>
  %masked = tele.cross_entropy_grad %x, %t, %lm mask %m : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>, tensor<2x4xf32>
  return %dep, %other, %masked : tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>
}

// -----

// The fused op checks its operands like the ops it replaces.
func.func @bad_targets(%x: tensor<2x4x16xf32>, %t: tensor<2x5xi32>, %g: tensor<f32>) {
  // expected-error @+1 {{'tele.cross_entropy_fused' op}}
  %l, %d = tele.cross_entropy_fused %x, %t, %g : tensor<2x4x16xf32>, tensor<2x5xi32>, tensor<f32>
  return
}

// -----

// Attention and its gradient on the same q, k, v: the forward also returns
// the log-sum-exp [batch, heads, seq] and the backward reads it and the
// output.
// CHECK-LABEL: func.func @attention
// CHECK: %[[O:.+]], %[[LSE:.+]] = tele.flash_attention %arg0, %arg1, %arg2 {head_dim = 8 : i64} : tensor<2x4x16xf32> -> tensor<2x4x16xf32>, tensor<2x2x4xf32>
// CHECK: tele.flash_attention_grad %arg0, %arg1, %arg2, %[[O]], %[[LSE]], %arg3 {head_dim = 8 : i64} : tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x2x4xf32>, tensor<2x4x16xf32> -> tensor<2x4x16xf32>
// CHECK-NOT: tele.attention
func.func @attention(%q: tensor<2x4x16xf32>, %k: tensor<2x4x16xf32>, %v: tensor<2x4x16xf32>, %do: tensor<2x4x16xf32>) -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  %o = tele.attention %q, %k, %v {head_dim = 8 : i64} : tensor<2x4x16xf32>
  %dq, %dk, %dv = tele.attention_grad %q, %k, %v, %do {head_dim = 8 : i64} : tensor<2x4x16xf32>
  return %o, %dq, %dk, %dv : tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>
}

// -----

func.func @bad_lse(%q: tensor<2x4x16xf32>) {
  // expected-error @+1 {{'tele.flash_attention' op lse must be [batch, heads, seq] = [2, 2, 4], got 'tensor<2x4x2xf32>'}}
  %o, %l = tele.flash_attention %q, %q, %q {head_dim = 8 : i64} : tensor<2x4x16xf32> -> tensor<2x4x16xf32>, tensor<2x4x2xf32>
  return
}

// -----

// The log-sum-exp's type is the compute type: never bf16.
func.func @bf16_lse(%q: tensor<2x4x16xbf16>) {
  // expected-error @+1 {{'tele.flash_attention' op lse must be f32 or f64 (the type the op computes in), got 'tensor<2x2x4xbf16>'}}
  %o, %l = tele.flash_attention %q, %q, %q {head_dim = 8 : i64} : tensor<2x4x16xbf16> -> tensor<2x4x16xbf16>, tensor<2x2x4xbf16>
  return
}

// -----

func.func @f16_result(%q: tensor<2x4x16xbf16>) {
  // expected-error @+1 {{'tele.flash_attention' op result must be 'tensor<2x4x16xf32>' (or its bf16 copy), got 'tensor<2x4x16xf16>'}}
  %o, %l = tele.flash_attention %q, %q, %q {head_dim = 8 : i64} : tensor<2x4x16xbf16> -> tensor<2x4x16xf16>, tensor<2x2x4xf32>
  return
}

// -----

// bf16 inputs (rounded copies), gradients in the compute type or its bf16
// copy, not another type.
func.func @f16_gradients(%q: tensor<2x4x16xbf16>, %l: tensor<2x2x4xf32>) {
  // expected-error @+1 {{'tele.flash_attention_grad' op query_grad must be 'tensor<2x4x16xf32>' (or its bf16 copy), got 'tensor<2x4x16xf16>'}}
  %dq, %dk, %dv = tele.flash_attention_grad %q, %q, %q, %q, %l, %q {head_dim = 8 : i64} : tensor<2x4x16xbf16>, tensor<2x4x16xbf16>, tensor<2x2x4xf32>, tensor<2x4x16xbf16> -> tensor<2x4x16xf16>
  return
}

// -----

// An add of a GEMM result that nothing else reads runs in the GEMM's
// epilogue: the residual add after a projection, and the sum of two input
// gradients (the later GEMM absorbs the earlier one's result).
// CHECK-LABEL: func.func @add_into_gemm
// CHECK-NEXT: %[[H:.+]] = tele.linear %arg1, %arg2 plus %arg0 : tensor<2x4x8xf32>, tensor<8x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[DA:.+]] = tele.linear_grad_input %arg3, %arg2 : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[DX:.+]] = tele.linear_grad_input %arg3, %arg4 plus %[[DA]] : tensor<2x4x8xf32>, tensor<8x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[Y:.+]] = tele.linear %arg1, %arg2 : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[K:.+]] = tele.add %[[Y]], %arg0
// CHECK-NEXT: return %[[H]], %[[DX]], %[[K]], %[[Y]]
func.func @add_into_gemm(%x: tensor<2x4x8xf32>, %o: tensor<2x4x8xf32>, %w: tensor<8x8xf32>,
                         %dy: tensor<2x4x8xf32>, %w2: tensor<8x8xf32>)
    -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %a = tele.linear %o, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %h = tele.add %x, %a : tensor<2x4x8xf32>
  %da = tele.linear_grad_input %dy, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %db = tele.linear_grad_input %dy, %w2 : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %dx = tele.add %da, %db : tensor<2x4x8xf32>
  // Kept: the GEMM result is also returned.
  %y = tele.linear %o, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %k = tele.add %y, %x : tensor<2x4x8xf32>
  return %h, %dx, %k, %y : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// -----

// The residual stream's gradient is added by the norm's backward kernel
// when it is defined before it; the gain gradient keeps its uses.
// CHECK-LABEL: func.func @add_into_norm_grad
// CHECK-NEXT: %[[DX:.+]], %[[DG:.+]] = tele.rms_norm_grad %arg0, %arg1, %arg2 plus %arg3 {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32> plus tensor<2x4x8xf32>
// CHECK-NEXT: %[[DG2:.+]] = tele.scale %[[DG]]
// CHECK-NEXT: %{{.+}}, %{{.+}} = tele.rms_norm_grad %arg0, %arg1, %arg2 {eps
// CHECK-NEXT: tele.scale %arg3
// CHECK-NEXT: tele.add
// CHECK: return %[[DX]], %[[DG2]]
func.func @add_into_norm_grad(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x4x8xf32>, %r: tensor<2x4x8xf32>)
    -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<2x4x8xf32>) {
  %dx, %dg = tele.rms_norm_grad %x, %g, %dy {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  %dg2 = tele.scale %dg {factor = 2.0 : f64} : tensor<8xf32>
  %s = tele.add %r, %dx : tensor<2x4x8xf32>
  // Kept: the addend is computed after the norm's backward.
  %dx3, %dg3 = tele.rms_norm_grad %x, %g, %dy {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  %late = tele.scale %r {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s3 = tele.add %dx3, %late : tensor<2x4x8xf32>
  return %s, %dg2, %s3 : tensor<2x4x8xf32>, tensor<8xf32>, tensor<2x4x8xf32>
}

// -----

// A sum of input gradients that only a norm's backward reads is summed by
// that kernel (sums of sums taken apart), not in a GEMM's epilogue; a sum
// that something else reads too stays.
// CHECK-LABEL: func.func @sum_into_norm_grad
// CHECK-NEXT: %[[DQ:.+]] = tele.linear_grad_input %arg2, %arg3
// CHECK-NEXT: %[[DK:.+]] = tele.linear_grad_input %arg2, %arg4
// CHECK-NEXT: %[[DV:.+]] = tele.linear_grad_input %arg2, %arg5
// CHECK-NEXT: %[[DX:.+]], %[[DG:.+]] = tele.rms_norm_grad %arg0, %arg1, %[[DQ]], %[[DK]], %[[DV]] {eps
// CHECK-NEXT: %[[S:.+]] = tele.add %arg2, %arg2
// CHECK-NEXT: %{{.+}}, %{{.+}} = tele.rms_norm_grad %arg0, %arg1, %[[S]] {eps
// CHECK-NOT: tele.add
// CHECK: return
func.func @sum_into_norm_grad(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x4x8xf32>,
                              %wq: tensor<8x8xf32>, %wk: tensor<8x8xf32>, %wv: tensor<8x8xf32>)
    -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %dq = tele.linear_grad_input %dy, %wq : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %dk = tele.linear_grad_input %dy, %wk : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %dv = tele.linear_grad_input %dy, %wv : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %qk = tele.add %dq, %dk : tensor<2x4x8xf32>
  %qkv = tele.add %qk, %dv : tensor<2x4x8xf32>
  %dx, %dg = tele.rms_norm_grad %x, %g, %qkv {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  // Kept: the sum is returned too.
  %s = tele.add %dy, %dy : tensor<2x4x8xf32>
  %dx2, %dg2 = tele.rms_norm_grad %x, %g, %s {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  return %dx, %dx2, %s : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>
}
