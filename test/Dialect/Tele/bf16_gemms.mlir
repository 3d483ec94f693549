// RUN: tele-opt %s --split-input-file --tele-bf16-gemms | FileCheck %s
// RUN: tele-opt %s --split-input-file "--tele-bf16-gemms=reuse-window=0 keep-weight-copies=false" | FileCheck %s --check-prefix=NOREUSE
// RUN: tele-opt %s --split-input-file --tele-bf16-gemms=keep-weight-copies=false | FileCheck %s --check-prefix=FRESH

// Three projections of one input share its bf16 copy; each weight gets
// its own; the GEMMs still write f32 and everything else is untouched.
// CHECK-LABEL: func.func @projections
// CHECK-NEXT: %[[XB:.+]] = tele.convert %arg0 : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
// CHECK-NEXT: %[[QB:.+]] = tele.convert %arg1 : tensor<8x8xf32> -> tensor<8x8xbf16>
// CHECK-NEXT: %[[Q:.+]] = tele.linear %[[XB]], %[[QB]] : tensor<2x4x8xbf16>, tensor<8x8xbf16> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[KB:.+]] = tele.convert %arg2
// CHECK-NEXT: %[[K:.+]] = tele.linear %[[XB]], %[[KB]]
// CHECK-NEXT: %[[VB:.+]] = tele.convert %arg3
// CHECK-NEXT: %[[V:.+]] = tele.linear %[[XB]], %[[VB]]
// CHECK-NEXT: tele.add %[[Q]], %[[K]] : tensor<2x4x8xf32>
// NOREUSE-LABEL: func.func @projections
// NOREUSE-COUNT-6: tele.convert
// NOREUSE-NOT: tele.convert
func.func @projections(%x: tensor<2x4x8xf32>, %wq: tensor<8x8xf32>, %wk: tensor<8x8xf32>, %wv: tensor<8x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %q = tele.linear %x, %wq : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %k = tele.linear %x, %wk : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %v = tele.linear %x, %wv : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %s = tele.add %q, %k : tensor<2x4x8xf32>
  return %s, %v : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// -----

// Both gradient GEMMs of one incoming gradient share its copy; an
// activation read again far away (the saved input) is converted again
// instead of keeping a bf16 copy alive in between. The weight (an argument)
// keeps its copy from the forward to the backward, unless
// keep-weight-copies is off.
// CHECK-LABEL: func.func @backward
// CHECK-NEXT: %[[X:.+]] = tele.scale %arg0
// CHECK-NEXT: %[[XB:.+]] = tele.convert %[[X]]
// CHECK-NEXT: %[[WB:.+]] = tele.convert %arg1
// CHECK-NEXT: tele.linear %[[XB]], %[[WB]]
// CHECK-COUNT-9: tele.scale
// CHECK-NEXT: %[[DB:.+]] = tele.convert %arg2
// CHECK-NEXT: tele.linear_grad_input %[[DB]], %[[WB]] : tensor<2x4x8xbf16>, tensor<8x8xbf16> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[XB2:.+]] = tele.convert %[[X]]
// CHECK-NEXT: tele.linear_grad_weight %[[DB]], %[[XB2]] : tensor<2x4x8xbf16>, tensor<2x4x8xbf16> -> tensor<8x8xf32>
// FRESH-LABEL: func.func @backward
// FRESH-NEXT: %[[X:.+]] = tele.scale %arg0
// FRESH-NEXT: %[[XB:.+]] = tele.convert %[[X]]
// FRESH-NEXT: %[[WB:.+]] = tele.convert %arg1
// FRESH-NEXT: tele.linear %[[XB]], %[[WB]]
// FRESH-COUNT-9: tele.scale
// FRESH-NEXT: %[[DB:.+]] = tele.convert %arg2
// FRESH-NEXT: %[[WB2:.+]] = tele.convert %arg1
// FRESH-NEXT: tele.linear_grad_input %[[DB]], %[[WB2]]
// With no reuse window and no kept weight copies every GEMM operand is
// converted where it is read.
// NOREUSE-LABEL: func.func @backward
// NOREUSE-COUNT-6: tele.convert
// NOREUSE-NOT: tele.convert
func.func @backward(%x0: tensor<2x4x8xf32>, %w: tensor<8x8xf32>, %dy: tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8x8xf32>) {
  %x = tele.scale %x0 {factor = 0.5 : f64} : tensor<2x4x8xf32>
  %y = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %s1 = tele.scale %y {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s2 = tele.scale %s1 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s3 = tele.scale %s2 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s4 = tele.scale %s3 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s5 = tele.scale %s4 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s6 = tele.scale %s5 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s7 = tele.scale %s6 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s8 = tele.scale %s7 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s9 = tele.scale %s8 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %dx = tele.linear_grad_input %dy, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %dw = tele.linear_grad_weight %dy, %x : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<8x8xf32>
  return %s9, %dx, %dw : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8x8xf32>
}

// -----

// A weight read by tele.param keeps its copy too.
// CHECK-LABEL: func.func @param_weight
// CHECK: %[[W:.+]] = tele.param "w"
// CHECK: %[[WB:.+]] = tele.convert %[[W]]
// CHECK: tele.linear %{{.+}}, %[[WB]]
// CHECK-NOT: tele.convert %[[W]]
// CHECK: tele.linear_grad_input %{{.+}}, %[[WB]]
// FRESH-LABEL: func.func @param_weight
// NOREUSE-LABEL: func.func @param_weight
// FRESH: %[[W:.+]] = tele.param "w"
// FRESH: tele.convert %[[W]]
// FRESH: tele.linear
// FRESH: tele.convert %[[W]]
// FRESH: tele.linear_grad_input
func.func @param_weight(%x: tensor<2x4x8xf32>, %dy: tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %w = tele.param "w" : tensor<8x8xf32>
  %y = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %s1 = tele.scale %y {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s2 = tele.scale %s1 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s3 = tele.scale %s2 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s4 = tele.scale %s3 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s5 = tele.scale %s4 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s6 = tele.scale %s5 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s7 = tele.scale %s6 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s8 = tele.scale %s7 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %s9 = tele.scale %s8 {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %dx = tele.linear_grad_input %dy, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  return %s9, %dx : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// -----

// GEMMs that are not f32 are left alone; converting to the same type folds.
// CHECK-LABEL: func.func @other_types
// NOREUSE-LABEL: func.func @other_types
// CHECK-NOT: tele.convert
// CHECK: tele.linear %arg0, %arg1 : tensor<2x8xf64>
func.func @other_types(%x: tensor<2x8xf64>, %w: tensor<4x8xf64>) -> tensor<2x4xf64> {
  %y = tele.linear %x, %w : tensor<2x8xf64>, tensor<4x8xf64> -> tensor<2x4xf64>
  return %y : tensor<2x4xf64>
}

// -----

// Producers that compute in f32 store bf16 themselves when only the GEMMs'
// conversions read them: no tele.convert of the RMSNorm or SwiGLU output
// is left. The GEMM feeding SwiGLU, which may read bf16 copies, writes
// bf16 too. A value with another reader (the residual stream) keeps f32
// and its conversion.
// CHECK-LABEL: func.func @narrowed_producers
// CHECK-NEXT: %[[N:.+]] = tele.rms_norm %arg0, %arg1 {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32> -> tensor<2x4x8xbf16>
// CHECK-NEXT: %[[W:.+]] = tele.convert %arg2
// CHECK-NEXT: %[[G:.+]] = tele.linear %[[N]], %[[W]] : tensor<2x4x8xbf16>, tensor<8x8xbf16> -> tensor<2x4x8xbf16>
// CHECK-NEXT: %[[S:.+]] = tele.swiglu %[[G]], %[[G]] : tensor<2x4x8xbf16>{{$}}
// CHECK-NEXT: tele.linear %[[S]], %[[W]]
// CHECK-NEXT: %[[XB:.+]] = tele.convert %arg0
// CHECK-NEXT: tele.linear %[[XB]], %[[W]]
// CHECK-NEXT: tele.add %arg0, %arg0
func.func @narrowed_producers(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %w: tensor<8x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %n = tele.rms_norm %x, %g {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  %a = tele.linear %n, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %s = tele.swiglu %a, %a : tensor<2x4x8xf32>
  %b = tele.linear %s, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %c = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %r = tele.add %x, %x : tensor<2x4x8xf32>
  return %b, %c, %r : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// -----

// Flash attention reads bf16 copies of query, key and value (and, in the
// backward, of the output and its gradient). Producers whose only readers
// are those copies round their own results: RoPE (query and key), the
// value projection and the output-gradient GEMM (no addend), and flash
// attention's output, which the output projection reads too. The query
// projection, which only RoPE reads (RoPE may read a bf16 copy), writes
// bf16 as well. The softmax
// statistics and the gradients stay f32; a GEMM with an addend keeps an
// f32 result.
// CHECK-LABEL: func.func @attention
// CHECK: %[[QP:.+]] = tele.linear %{{.+}} : tensor<1x16x32xbf16>, tensor<32x32xbf16> -> tensor<1x16x32xbf16>
// CHECK: %[[Q:.+]] = tele.rope %[[QP]] {{.*}} : tensor<1x16x32xbf16>{{$}}
// CHECK: %[[K:.+]] = tele.rope %[[QP]] {{.*}} : tensor<1x16x32xbf16>{{$}}
// CHECK: %[[V:.+]] = tele.linear %{{.+}} : tensor<1x16x32xbf16>, tensor<32x32xbf16> -> tensor<1x16x32xbf16>
// CHECK: %[[O:.+]], %[[LSE:.+]] = tele.flash_attention %[[Q]], %[[K]], %[[V]] {head_dim = 16 : i64} : tensor<1x16x32xbf16> -> tensor<1x16x32xbf16>, tensor<1x2x16xf32>
// CHECK: tele.linear %[[O]], %{{.+}} plus %arg0 : tensor<1x16x32xbf16>, tensor<32x32xbf16>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
// CHECK: %[[DO:.+]] = tele.linear_grad_input %{{.+}} : tensor<1x16x32xbf16>, tensor<32x32xbf16> -> tensor<1x16x32xbf16>
// CHECK-NOT: tele.convert
// CHECK: tele.flash_attention_grad %[[Q]], %[[K]], %[[V]], %[[O]], %[[LSE]], %[[DO]] {head_dim = 16 : i64} : tensor<1x16x32xbf16>, tensor<1x16x32xbf16>, tensor<1x2x16xf32>, tensor<1x16x32xbf16> -> tensor<1x16x32xf32>
func.func @attention(%x: tensor<1x16x32xf32>, %wq: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<32x32xf32>, %dy: tensor<1x16x32xf32>) -> (tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>) {
  %qp = tele.linear %x, %wq : tensor<1x16x32xf32>, tensor<32x32xf32> -> tensor<1x16x32xf32>
  %q = tele.rope %qp {head_dim = 16 : i64, theta = 10000.0 : f64} : tensor<1x16x32xf32>
  %k = tele.rope %qp {head_dim = 16 : i64, theta = 10000.0 : f64} : tensor<1x16x32xf32>
  %v = tele.linear %x, %wv : tensor<1x16x32xf32>, tensor<32x32xf32> -> tensor<1x16x32xf32>
  %o, %lse = tele.flash_attention %q, %k, %v {head_dim = 16 : i64} : tensor<1x16x32xf32> -> tensor<1x16x32xf32>, tensor<1x2x16xf32>
  %y = tele.linear %o, %wo plus %x : tensor<1x16x32xf32>, tensor<32x32xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  %do = tele.linear_grad_input %dy, %wo : tensor<1x16x32xf32>, tensor<32x32xf32> -> tensor<1x16x32xf32>
  %dq, %dk, %dv = tele.flash_attention_grad %q, %k, %v, %o, %lse, %do {head_dim = 16 : i64} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x2x16xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  return %y, %dq, %dk, %dv : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>
}

// -----

// SwiGLU's gate and up (and, backward, the incoming gradient) change type
// together: with one of them read elsewhere in f32, none is narrowed.
// CHECK-LABEL: func.func @tied_group
// CHECK: %[[G:.+]] = tele.linear {{.*}} -> tensor<2x4x8xf32>
// CHECK: %[[U:.+]] = tele.linear {{.*}} -> tensor<2x4x8xf32>
// CHECK: tele.swiglu %[[G]], %[[U]] : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
func.func @tied_group(%x: tensor<2x4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %g = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %u = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %s = tele.swiglu %g, %u : tensor<2x4x8xf32>
  %y = tele.linear %s, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %r = tele.add %u, %u : tensor<2x4x8xf32>
  return %y, %r : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// -----

// The LM head: its GEMM (no addend) writes bf16 logits, which the fused
// cross-entropy reads widened; the logit gradient, read only by the two
// gradient GEMMs, is stored as bf16 too. Loss and seed stay f32.
// CHECK-LABEL: func.func @lm_head
// CHECK: %[[L:.+]] = tele.linear %{{.+}} : tensor<2x4x8xbf16>, tensor<16x8xbf16> -> tensor<2x4x16xbf16>
// CHECK: %[[LOSS:.+]], %[[DL:.+]] = tele.cross_entropy_fused %[[L]], %arg2, %arg3 : tensor<2x4x16xbf16>, tensor<2x4xi32>, tensor<f32>{{$}}
// CHECK-NOT: tele.convert %[[DL]]
// CHECK: tele.linear_grad_input %[[DL]], %{{.+}} : tensor<2x4x16xbf16>, tensor<16x8xbf16> -> tensor<2x4x8xf32>
// CHECK: tele.linear_grad_weight %[[DL]], %{{.+}} : tensor<2x4x16xbf16>, tensor<2x4x8xbf16> -> tensor<16x8xf32>
func.func @lm_head(%x: tensor<2x4x8xf32>, %w: tensor<16x8xf32>, %t: tensor<2x4xi32>, %one: tensor<f32>) -> (tensor<f32>, tensor<2x4x8xf32>, tensor<16x8xf32>) {
  %l = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<16x8xf32> -> tensor<2x4x16xf32>
  %loss, %dl = tele.cross_entropy_fused %l, %t, %one : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
  %dx = tele.linear_grad_input %dl, %w : tensor<2x4x16xf32>, tensor<16x8xf32> -> tensor<2x4x8xf32>
  %dw = tele.linear_grad_weight %dl, %x : tensor<2x4x16xf32>, tensor<2x4x8xf32> -> tensor<16x8xf32>
  return %loss, %dx, %dw : tensor<f32>, tensor<2x4x8xf32>, tensor<16x8xf32>
}

// -----

// Flash attention's gradients are stored bf16 when RoPE reads the query and
// key gradients (it may read bf16) and GEMMs read the value gradient (they
// would convert it): the kernel rounds them as it stores them.
// CHECK-LABEL: func.func @attention_grads
// CHECK: %[[DQ:[^,]+]], %[[DK:[^,]+]], %[[DV:[^ ]+]] = tele.flash_attention_grad {{.*}} -> tensor<1x16x32xbf16>{{$}}
// CHECK: tele.rope %[[DQ]] {{.*}} : tensor<1x16x32xbf16> -> tensor<1x16x32xf32>
// CHECK: tele.rope %[[DK]] {{.*}} : tensor<1x16x32xbf16> -> tensor<1x16x32xf32>
// CHECK-NOT: tele.convert %[[DV]]
// CHECK: tele.linear_grad_input %[[DV]], %{{.+}} : tensor<1x16x32xbf16>, tensor<32x32xbf16> -> tensor<1x16x32xf32>
func.func @attention_grads(%q: tensor<1x16x32xf32>, %o: tensor<1x16x32xf32>, %lse: tensor<1x2x16xf32>, %do: tensor<1x16x32xf32>, %w: tensor<32x32xf32>) -> (tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>) {
  %dq, %dk, %dv = tele.flash_attention_grad %q, %q, %q, %o, %lse, %do {head_dim = 16 : i64} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x2x16xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  %rq = tele.rope %dq {head_dim = 16 : i64, theta = 10000.0 : f64, inverse} : tensor<1x16x32xf32>
  %rk = tele.rope %dk {head_dim = 16 : i64, theta = 10000.0 : f64, inverse} : tensor<1x16x32xf32>
  %dx = tele.linear_grad_input %dv, %w : tensor<1x16x32xf32>, tensor<32x32xf32> -> tensor<1x16x32xf32>
  return %rq, %rk, %dx : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>
}

// -----

// The three gradients share one type: with the value gradient read in f32
// elsewhere (returned), none is narrowed.
// CHECK-LABEL: func.func @attention_grads_tied
// CHECK: tele.flash_attention_grad {{.*}} -> tensor<1x16x32xf32>{{$}}
func.func @attention_grads_tied(%q: tensor<1x16x32xf32>, %o: tensor<1x16x32xf32>, %lse: tensor<1x2x16xf32>, %do: tensor<1x16x32xf32>) -> (tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>) {
  %dq, %dk, %dv = tele.flash_attention_grad %q, %q, %q, %o, %lse, %do {head_dim = 16 : i64} : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x2x16xf32>, tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  %rq = tele.rope %dq {head_dim = 16 : i64, theta = 10000.0 : f64, inverse} : tensor<1x16x32xf32>
  %rk = tele.rope %dk {head_dim = 16 : i64, theta = 10000.0 : f64, inverse} : tensor<1x16x32xf32>
  return %rq, %rk, %dv : tensor<1x16x32xf32>, tensor<1x16x32xf32>, tensor<1x16x32xf32>
}

// -----

// The input gradients a norm's backward sums are stored bf16 by their GEMMs
// (each on its own: one with another f32 reader stays f32), and the norm's
// backward writes the bf16 copy of its input gradient that the next GEMMs
// read, in place of a conversion.
// CHECK-LABEL: func.func @norm_grad
// CHECK: %[[DQ:.+]] = tele.linear_grad_input %{{.+}}, %{{.+}} : tensor<2x4x8xbf16>, tensor<8x8xbf16> -> tensor<2x4x8xbf16>
// CHECK: %[[DK:.+]] = tele.linear_grad_input %{{.+}}, %{{.+}} : tensor<2x4x8xbf16>, tensor<8x8xbf16> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[DX:.+]], %{{.+}}, %[[COPY:.+]] = tele.rms_norm_grad %arg0, %arg1, %[[DQ]], %[[DK]] plus %arg2 {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32> plus tensor<2x4x8xf32> grads (tensor<2x4x8xbf16>, tensor<2x4x8xf32>) copy tensor<2x4x8xbf16>
// CHECK-NOT: tele.convert %[[DX]]
// CHECK: tele.linear_grad_input %[[COPY]], %{{.+}} : tensor<2x4x8xbf16>, tensor<8x8xbf16> -> tensor<2x4x8xf32>
// CHECK: tele.linear_grad_weight %[[COPY]], %{{.+}} : tensor<2x4x8xbf16>, tensor<2x4x8xbf16> -> tensor<8x8xf32>
// CHECK: return %[[DX]]
func.func @norm_grad(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %r: tensor<2x4x8xf32>, %dy: tensor<2x4x8xf32>,
                     %w: tensor<8x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8x8xf32>) {
  %dq = tele.linear_grad_input %dy, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %dk = tele.linear_grad_input %dy, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %dx, %dg = tele.rms_norm_grad %x, %g, %dq, %dk plus %r {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32> plus tensor<2x4x8xf32>
  %dh = tele.linear_grad_input %dx, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %dw = tele.linear_grad_weight %dx, %x : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<8x8xf32>
  return %dx, %dk, %dh, %dw : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8x8xf32>
}

// -----

// A weight gradient that only the optimizer reads (AdamW and the global
// norm widen it as they load) is stored bf16 by its GEMM, as PyTorch's
// autocast does; one that is also returned stays f32.
// CHECK-LABEL: func.func @weight_grads
// CHECK: %[[DW:.+]] = tele.linear_grad_weight %{{.+}}, %{{.+}} : tensor<2x4x8xbf16>, tensor<2x4x8xbf16> -> tensor<8x8xbf16>
// CHECK: %[[DV:.+]] = tele.linear_grad_weight %{{.+}}, %{{.+}} : tensor<2x4x8xbf16>, tensor<2x4x8xbf16> -> tensor<8x8xf32>
// CHECK: tele.global_norm %[[DW]], %[[DV]] : tensor<8x8xbf16>, tensor<8x8xf32> -> tensor<f32>
// CHECK: tele.adamw %arg0, %[[DW]], {{.+}} : tensor<8x8xf32>, tensor<f32>, tensor<i64> grad tensor<8x8xbf16>
// CHECK: tele.adamw %arg0, %[[DV]], {{.+}} : tensor<8x8xf32>, tensor<f32>, tensor<i64>{{$}}
func.func @weight_grads(%w: tensor<8x8xf32>, %x: tensor<2x4x8xf32>, %dy: tensor<2x4x8xf32>,
                        %lr: tensor<f32>, %t: tensor<i64>)
    -> (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) {
  %dw = tele.linear_grad_weight %dy, %x : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<8x8xf32>
  %dv = tele.linear_grad_weight %x, %dy : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<8x8xf32>
  %n = tele.global_norm %dw, %dv : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<f32>
  %p1, %m1, %v1 = tele.adamw %w, %dw, %w, %w, %lr, %n, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<8x8xf32>, tensor<f32>, tensor<i64>
  %p2, %m2, %v2 = tele.adamw %w, %dv, %w, %w, %lr, %n, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<8x8xf32>, tensor<f32>, tensor<i64>
  return %p1, %p2, %dv : tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>
}

// -----

// Only operands count as bf16 readers, not values: a gradient that the
// norm's backward also adds as its residual gradient stays f32.
// CHECK-LABEL: func.func @reader_operand
// CHECK: %[[D:.+]] = tele.linear_grad_input %{{.+}}, %{{.+}} : tensor<2x4x8xbf16>, tensor<8x8xbf16> -> tensor<2x4x8xf32>
// CHECK: tele.rms_norm_grad %arg0, %arg1, %[[D]] plus %[[D]]
func.func @reader_operand(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %dy: tensor<2x4x8xf32>,
                          %w: tensor<8x8xf32>) -> tensor<2x4x8xf32> {
  %d = tele.linear_grad_input %dy, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %dx, %dg = tele.rms_norm_grad %x, %g, %d plus %d {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32> plus tensor<2x4x8xf32>
  return %dx : tensor<2x4x8xf32>
}
