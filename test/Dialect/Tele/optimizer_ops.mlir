// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s

// Round trip of the optimizer ops added by tele-optimizer: tele.global_norm,
// tele.clip_scale, tele.lr_schedule and tele.adamw.

// The global norm over tensors of several shapes, and the clip factor.
// CHECK-LABEL: func.func @clip
// CHECK-SAME: (%[[A:.+]]: tensor<8xf32>, %[[B:.+]]: tensor<12x8xf32>)
// CHECK: %[[N:.+]] = tele.global_norm %[[A]], %[[B]] : tensor<8xf32>, tensor<12x8xf32> -> tensor<f32>
// CHECK: %[[S:.+]] = tele.clip_scale %[[N]] {max_norm = 1.000000e+00 : f64} : tensor<f32>
// CHECK: return %[[N]], %[[S]]
func.func @clip(%a: tensor<8xf32>, %b: tensor<12x8xf32>) -> (tensor<f32>, tensor<f32>) {
  %n = tele.global_norm %a, %b : tensor<8xf32>, tensor<12x8xf32> -> tensor<f32>
  %s = tele.clip_scale %n {max_norm = 1.0 : f64} : tensor<f32>
  return %n, %s : tensor<f32>, tensor<f32>
}

// -----

// A global norm over a single tensor.
// CHECK-LABEL: func.func @norm_one
// CHECK: tele.global_norm %{{.+}} : tensor<2x2xf64> -> tensor<f64>
func.func @norm_one(%a: tensor<2x2xf64>) -> tensor<f64> {
  %n = tele.global_norm %a : tensor<2x2xf64> -> tensor<f64>
  return %n : tensor<f64>
}

// -----

// The three decay kinds of the learning-rate schedule.
// CHECK-LABEL: func.func @schedules
// CHECK-SAME: (%[[T:.+]]: tensor<i64>)
// CHECK: tele.lr_schedule %[[T]] {decay = #tele.decay<cosine>, min = 3.000000e-04 : f64, peak = 3.000000e-03 : f64, total = 100 : i64, warmup = 10 : i64} : tensor<i64> -> tensor<f32>
// CHECK: tele.lr_schedule %[[T]] {decay = #tele.decay<linear>, min = 0.000000e+00 : f64, peak = 1.000000e-03 : f64, total = 50 : i64, warmup = 0 : i64} : tensor<i64> -> tensor<f32>
// CHECK: tele.lr_schedule %[[T]] {decay = #tele.decay<constant>, min = 1.000000e-03 : f64, peak = 1.000000e-03 : f64, total = 1 : i64, warmup = 1 : i64} : tensor<i64> -> tensor<f64>
func.func @schedules(%t: tensor<i64>) -> (tensor<f32>, tensor<f32>, tensor<f64>) {
  %a = tele.lr_schedule %t {peak = 3.0e-3 : f64, min = 3.0e-4 : f64, warmup = 10 : i64, total = 100 : i64, decay = #tele.decay<cosine>} : tensor<i64> -> tensor<f32>
  %b = tele.lr_schedule %t {peak = 1.0e-3 : f64, min = 0.0 : f64, warmup = 0 : i64, total = 50 : i64, decay = #tele.decay<linear>} : tensor<i64> -> tensor<f32>
  %c = tele.lr_schedule %t {peak = 1.0e-3 : f64, min = 1.0e-3 : f64, warmup = 1 : i64, total = 1 : i64, decay = #tele.decay<constant>} : tensor<i64> -> tensor<f64>
  return %a, %b, %c : tensor<f32>, tensor<f32>, tensor<f64>
}

// -----

// One AdamW update.
// CHECK-LABEL: func.func @adamw
// CHECK-SAME: (%[[P:.+]]: tensor<12x8xf32>, %[[G:.+]]: tensor<12x8xf32>, %[[M:.+]]: tensor<12x8xf32>, %[[V:.+]]: tensor<12x8xf32>, %[[LR:.+]]: tensor<f32>, %[[S:.+]]: tensor<f32>, %[[T:.+]]: tensor<i64>)
// CHECK: %[[P1:[^ ,]+]], %[[M1:[^ ,]+]], %[[V1:[^ ,]+]] = tele.adamw %[[P]], %[[G]], %[[M]], %[[V]], %[[LR]], %[[S]], %[[T]]
// CHECK-SAME: {beta1 = 9.000000e-01 : f64, beta2 = 0.94999999999999996 : f64, eps = 1.000000e-08 : f64, weight_decay = 1.000000e-01 : f64} : tensor<12x8xf32>, tensor<f32>, tensor<i64>
// CHECK: return %[[P1]], %[[M1]], %[[V1]]
func.func @adamw(%p: tensor<12x8xf32>, %g: tensor<12x8xf32>, %m: tensor<12x8xf32>, %v: tensor<12x8xf32>, %lr: tensor<f32>, %s: tensor<f32>, %t: tensor<i64>) -> (tensor<12x8xf32>, tensor<12x8xf32>, tensor<12x8xf32>) {
  %p1, %m1, %v1 = tele.adamw %p, %g, %m, %v, %lr, %s, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<12x8xf32>, tensor<f32>, tensor<i64>
  return %p1, %m1, %v1 : tensor<12x8xf32>, tensor<12x8xf32>, tensor<12x8xf32>
}

// -----

// AdamW on a bf16 copy of the gradient (printed after `grad`).
// CHECK-LABEL: func.func @adamw_bf16_grad
// CHECK: tele.adamw %arg0, %arg1, %arg0, %arg0, %arg2, %arg2, %arg3 {{{.+}}} : tensor<12x8xf32>, tensor<f32>, tensor<i64> grad tensor<12x8xbf16>
// CHECK: tele.global_norm %arg1, %arg0 : tensor<12x8xbf16>, tensor<12x8xf32> -> tensor<f32>
func.func @adamw_bf16_grad(%p: tensor<12x8xf32>, %g: tensor<12x8xbf16>, %lr: tensor<f32>, %t: tensor<i64>) -> (tensor<12x8xf32>, tensor<f32>) {
  %p1, %m1, %v1 = tele.adamw %p, %g, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<12x8xf32>, tensor<f32>, tensor<i64> grad tensor<12x8xbf16>
  %n = tele.global_norm %g, %p : tensor<12x8xbf16>, tensor<12x8xf32> -> tensor<f32>
  return %p1, %n : tensor<12x8xf32>, tensor<f32>
}

// -----

// AdamW that also stores the new parameter's bf16 copy (printed after
// `copy`), with an f32 or a bf16 gradient.
// CHECK-LABEL: func.func @adamw_copy
// CHECK: tele.adamw %arg0, %arg1, {{.+}} : tensor<12x8xf32>, tensor<f32>, tensor<i64> copy tensor<12x8xbf16>
// CHECK: tele.adamw %arg0, %arg2, {{.+}} : tensor<12x8xf32>, tensor<f32>, tensor<i64> grad tensor<12x8xbf16> copy tensor<12x8xbf16>
func.func @adamw_copy(%p: tensor<12x8xf32>, %g: tensor<12x8xf32>, %gb: tensor<12x8xbf16>, %lr: tensor<f32>, %t: tensor<i64>) -> (tensor<12x8xbf16>, tensor<12x8xbf16>) {
  %p1, %m1, %v1, %c1 = tele.adamw %p, %g, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<12x8xf32>, tensor<f32>, tensor<i64> copy tensor<12x8xbf16>
  %p2, %m2, %v2, %c2 = tele.adamw %p, %gb, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<12x8xf32>, tensor<f32>, tensor<i64> grad tensor<12x8xbf16> copy tensor<12x8xbf16>
  return %c1, %c2 : tensor<12x8xbf16>, tensor<12x8xbf16>
}
