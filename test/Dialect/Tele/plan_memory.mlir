// RUN: tele-opt %s --split-input-file --tele-plan-memory | FileCheck %s

// Values whose lifetimes do not overlap share bytes; an op's result never
// shares with its operands; returned values live to the end. Sizes are
// rounded up to 256 bytes.
// CHECK-LABEL: func.func @reuse
// CHECK-SAME: tele.arena_bytes = 768 : i64, tele.unplanned_bytes = 1280 : i64
// CHECK: %[[A:.*]] = tele.add %arg0, %arg0 {tele.offsets = array<i64: 0>}
// CHECK: %[[B:.*]] = tele.add %[[A]], %[[A]] {tele.offsets = array<i64: 256>}
// CHECK: %[[C:.*]] = tele.add %[[B]], %[[B]] {tele.offsets = array<i64: 0>}
// CHECK: %[[D:.*]] = tele.scale %[[C]] {factor = 2.000000e+00 : f64, tele.offsets = array<i64: 256>}
// CHECK: tele.add %[[D]], %[[C]] {tele.offsets = array<i64: 512>}
func.func @reuse(%x: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  %a = tele.add %x, %x : tensor<64xf32>
  %b = tele.add %a, %a : tensor<64xf32>
  %c = tele.add %b, %b : tensor<64xf32>
  %d = tele.scale %c {factor = 2.0 : f64} : tensor<64xf32>
  %e = tele.add %d, %c : tensor<64xf32>
  return %c, %e : tensor<64xf32>, tensor<64xf32>
}

// -----

// Parameters and moments live in the training state: an AdamW update that
// is only assigned back to the entry it read, after every other read, is in
// place (-1); a parameter read again later is not, and gets arena bytes.
// CHECK-LABEL: func.func @in_place
// CHECK: tele.param "w" {tele.offsets = array<i64: -1>}
// CHECK: tele.adamw {{.*}}tele.offsets = array<i64: -1, -1, -1>
// CHECK: tele.adamw {{.*}}tele.offsets = array<i64: {{[0-9]+}}, -1, -1>
func.func @in_place(%g: tensor<64xf32>, %lr: tensor<f32>, %s: tensor<f32>, %t: tensor<i64>) -> tensor<64xf32> {
  %w = tele.param "w" : tensor<64xf32>
  %m = tele.param "m" {init = #tele.init<zeros>} : tensor<64xf32>
  %v = tele.param "v" {init = #tele.init<zeros>} : tensor<64xf32>
  %p1, %m1, %v1 = tele.adamw %w, %g, %m, %v, %lr, %s, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-08 : f64, weight_decay = 0.1 : f64} : tensor<64xf32>, tensor<f32>, tensor<i64>
  tele.assign "w", %p1 : tensor<64xf32>
  tele.assign "m", %m1 : tensor<64xf32>
  tele.assign "v", %v1 : tensor<64xf32>
  %u = tele.param "u" : tensor<64xf32>
  %m2 = tele.param "mu" {init = #tele.init<zeros>} : tensor<64xf32>
  %v2 = tele.param "vu" {init = #tele.init<zeros>} : tensor<64xf32>
  %p2, %m3, %v3 = tele.adamw %u, %g, %m2, %v2, %lr, %s, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-08 : f64, weight_decay = 0.1 : f64} : tensor<64xf32>, tensor<f32>, tensor<i64>
  tele.assign "u", %p2 : tensor<64xf32>
  tele.assign "mu", %m3 : tensor<64xf32>
  tele.assign "vu", %v3 : tensor<64xf32>
  %again = tele.param "u" : tensor<64xf32>
  return %again : tensor<64xf32>
}

// -----

// Workspaces of an op's kernels live for that op only.
// CHECK-LABEL: func.func @workspace
// CHECK: tele.rms_norm_grad {{.*}}tele.offsets = array<i64: 0, 512>, tele.workspace = array<i64: 24>, tele.workspace_offsets = array<i64: 768>
// CHECK: tele.add {{.*}}tele.offsets = array<i64: 768>
func.func @workspace(%x: tensor<6x16xf32>, %g: tensor<16xf32>, %dy: tensor<6x16xf32>) -> (tensor<6x16xf32>, tensor<16xf32>, tensor<6x16xf32>) {
  %dx, %dg = tele.rms_norm_grad %x, %g, %dy {eps = 1.0e-05 : f64, tele.workspace = array<i64: 24>} : tensor<6x16xf32>, tensor<16xf32>
  %y = tele.add %x, %x : tensor<6x16xf32>
  return %dx, %dg, %y : tensor<6x16xf32>, tensor<16xf32>, tensor<6x16xf32>
}
