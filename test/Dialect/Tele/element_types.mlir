// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s

// The float element types accepted by the tensor-level ops: f32, f64, bf16
// and f16 (Tele_FloatTensor); tokens are always i32 and steps i64.

// A bf16 block: projection, RMSNorm, RoPE, attention.
// CHECK-LABEL: func.func @bf16_block
// CHECK: tele.rms_norm %{{.+}}, %{{.+}} {eps = 1.000000e-05 : f64} : tensor<1x2x8xbf16>, tensor<8xbf16>
// CHECK: tele.linear %{{.+}}, %{{.+}} : tensor<1x2x8xbf16>, tensor<8x8xbf16> -> tensor<1x2x8xbf16>
// CHECK: tele.rope %{{.+}} {head_dim = 4 : i64, theta = 1.000000e+04 : f64} : tensor<1x2x8xbf16>
// CHECK: tele.attention %{{.+}}, %{{.+}}, %{{.+}} {head_dim = 4 : i64} : tensor<1x2x8xbf16>
func.func @bf16_block(%x: tensor<1x2x8xbf16>, %g: tensor<8xbf16>, %w: tensor<8x8xbf16>) -> tensor<1x2x8xbf16> {
  %n = tele.rms_norm %x, %g {eps = 1.0e-5 : f64} : tensor<1x2x8xbf16>, tensor<8xbf16>
  %q = tele.linear %n, %w : tensor<1x2x8xbf16>, tensor<8x8xbf16> -> tensor<1x2x8xbf16>
  %r = tele.rope %q {head_dim = 4 : i64, theta = 1.0e4 : f64} : tensor<1x2x8xbf16>
  %a = tele.attention %r, %r, %q {head_dim = 4 : i64} : tensor<1x2x8xbf16>
  return %a : tensor<1x2x8xbf16>
}

// -----

// An f16 MLP with a masked FFN.
// CHECK-LABEL: func.func @f16_mlp
// CHECK: tele.swiglu %{{.+}}, %{{.+}} : tensor<1x2x12xf16>
// CHECK: tele.mask_vector %{{.+}} {kept = 6 : i64} : tensor<f16> -> tensor<12xf16>
// CHECK: tele.mask_mul %{{.+}}, %{{.+}} : tensor<1x2x12xf16>, tensor<12xf16>
func.func @f16_mlp(%g: tensor<1x2x12xf16>, %u: tensor<1x2x12xf16>, %c: tensor<f16>) -> tensor<1x2x12xf16> {
  %s = tele.swiglu %g, %u : tensor<1x2x12xf16>
  %m = tele.mask_vector %c {kept = 6} : tensor<f16> -> tensor<12xf16>
  %y = tele.mask_mul %s, %m : tensor<1x2x12xf16>, tensor<12xf16>
  return %y : tensor<1x2x12xf16>
}

// -----

// An f64 loss and optimizer update (the precision of the numerics tests).
// CHECK-LABEL: func.func @f64_step
// CHECK: tele.cross_entropy %{{.+}}, %{{.+}} : tensor<1x2x16xf64>, tensor<1x2xi32> -> tensor<f64>
// CHECK: tele.lr_schedule %{{.+}} {{.+}} : tensor<i64> -> tensor<f64>
// CHECK: tele.adamw {{.+}} : tensor<16x8xf64>, tensor<f64>, tensor<i64>
func.func @f64_step(%l: tensor<1x2x16xf64>, %t: tensor<1x2xi32>, %p: tensor<16x8xf64>, %step: tensor<i64>) -> tensor<f64> {
  %loss = tele.cross_entropy %l, %t : tensor<1x2x16xf64>, tensor<1x2xi32> -> tensor<f64>
  %lr = tele.lr_schedule %step {peak = 1.0e-3 : f64, min = 0.0 : f64, warmup = 0 : i64, total = 10 : i64, decay = #tele.decay<linear>} : tensor<i64> -> tensor<f64>
  %p1, %m1, %v1 = tele.adamw %p, %p, %p, %p, %lr, %lr, %step {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<16x8xf64>, tensor<f64>, tensor<i64>
  tele.assign "lm_head.weight", %p1 : tensor<16x8xf64>
  return %loss : tensor<f64>
}

// -----

// The global norm takes tensors of its result's element type, of any shapes.
// CHECK-LABEL: func.func @bf16_norm
// CHECK: tele.global_norm %{{.+}}, %{{.+}} : tensor<8xbf16>, tensor<4x8xbf16> -> tensor<bf16>
func.func @bf16_norm(%a: tensor<8xbf16>, %b: tensor<4x8xbf16>) -> tensor<bf16> {
  %n = tele.global_norm %a, %b : tensor<8xbf16>, tensor<4x8xbf16> -> tensor<bf16>
  return %n : tensor<bf16>
}

// -----

// Mixed precision as tele-bf16-gemms makes it: f32 ops that store a bf16
// result (printed after an arrow only when it differs), bf16 GEMM operands
// with an f32 result, and explicit conversions.
// CHECK-LABEL: func.func @narrowed
// CHECK: tele.rms_norm %{{.+}}, %{{.+}} {eps = 1.000000e-05 : f64} : tensor<1x2x8xf32>, tensor<8xf32> -> tensor<1x2x8xbf16>
// CHECK: tele.convert %{{.+}} : tensor<8x8xf32> -> tensor<8x8xbf16>
// CHECK: tele.linear %{{.+}}, %{{.+}} : tensor<1x2x8xbf16>, tensor<8x8xbf16> -> tensor<1x2x8xf32>
// CHECK: tele.rope %{{.+}} {head_dim = 4 : i64, inverse, theta = 1.000000e+04 : f64} : tensor<1x2x8xf32> -> tensor<1x2x8xbf16>
// CHECK: tele.swiglu %{{.+}}, %{{.+}} : tensor<1x2x8xf32> -> tensor<1x2x8xbf16>
// CHECK: tele.swiglu_grad %{{.+}}, %{{.+}}, %{{.+}} : tensor<1x2x8xf32> -> (tensor<1x2x8xbf16>, tensor<1x2x8xf32>)
// CHECK: tele.swiglu_grad %{{.+}}, %{{.+}}, %{{.+}} : tensor<1x2x8xf32>{{$}}
func.func @narrowed(%x: tensor<1x2x8xf32>, %g: tensor<8xf32>, %w: tensor<8x8xf32>) -> (tensor<1x2x8xbf16>, tensor<1x2x8xbf16>, tensor<1x2x8xbf16>, tensor<1x2x8xf32>) {
  %n = tele.rms_norm %x, %g {eps = 1.0e-5 : f64} : tensor<1x2x8xf32>, tensor<8xf32> -> tensor<1x2x8xbf16>
  %wb = tele.convert %w : tensor<8x8xf32> -> tensor<8x8xbf16>
  %q = tele.linear %n, %wb : tensor<1x2x8xbf16>, tensor<8x8xbf16> -> tensor<1x2x8xf32>
  %r = tele.rope %q {head_dim = 4 : i64, theta = 1.0e4 : f64, inverse} : tensor<1x2x8xf32> -> tensor<1x2x8xbf16>
  %s = tele.swiglu %q, %x : tensor<1x2x8xf32> -> tensor<1x2x8xbf16>
  %dg, %du = tele.swiglu_grad %q, %x, %x : tensor<1x2x8xf32> -> (tensor<1x2x8xbf16>, tensor<1x2x8xf32>)
  %dg2, %du2 = tele.swiglu_grad %q, %x, %x : tensor<1x2x8xf32> -> (tensor<1x2x8xf32>, tensor<1x2x8xf32>)
  return %r, %s, %dg, %du2 : tensor<1x2x8xbf16>, tensor<1x2x8xbf16>, tensor<1x2x8xbf16>, tensor<1x2x8xf32>
}
