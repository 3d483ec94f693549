// RUN: tele-opt %s --split-input-file --tele-cache-weight-copies | FileCheck %s
// RUN: tele-opt %s --split-input-file --tele-cache-weight-copies --tele-plan-memory | FileCheck %s --check-prefix=PLAN

// A weight's bf16 conversion becomes its cached copy "bf16.<name>"; its
// AdamW update also stores the next copy, assigned to that entry. Other
// conversions (an activation) stay.
// CHECK-LABEL: func.func @step
// CHECK: %[[W:.+]] = tele.param "w" : tensor<8x8xf32>
// CHECK-NEXT: %[[WB:.+]] = tele.cached_convert "bf16.w", %[[W]] : tensor<8x8xf32> -> tensor<8x8xbf16>
// CHECK-NEXT: %[[XB:.+]] = tele.convert %arg0 : tensor<2x8xf32> -> tensor<2x8xbf16>
// CHECK-NEXT: tele.linear %[[XB]], %[[WB]]
// CHECK: %[[P:.+]], %{{.+}}, %{{.+}}, %[[C:.+]] = tele.adamw %[[W]], {{.*}} copy tensor<8x8xbf16>
// CHECK-NEXT: tele.assign "w", %[[P]] : tensor<8x8xf32>
// CHECK-NEXT: tele.assign "bf16.w", %[[C]] : tensor<8x8xbf16>
// CHECK-NEXT: tele.assign "optim.m.w"
// The copy is state, updated in place by AdamW like the parameter.
// PLAN-LABEL: func.func @step
// PLAN: tele.cached_convert "bf16.w", {{.*}}tele.offsets = array<i64: -1>
// PLAN: tele.adamw {{.*}}tele.offsets = array<i64: -1, -1, -1, -1>
func.func @step(%x: tensor<2x8xf32>, %g: tensor<8x8xbf16>, %lr: tensor<f32>, %s: tensor<f32>, %t: tensor<i64>) -> tensor<2x8xf32> {
  %w = tele.param "w" : tensor<8x8xf32>
  %wb = tele.convert %w : tensor<8x8xf32> -> tensor<8x8xbf16>
  %xb = tele.convert %x : tensor<2x8xf32> -> tensor<2x8xbf16>
  %y = tele.linear %xb, %wb : tensor<2x8xbf16>, tensor<8x8xbf16> -> tensor<2x8xf32>
  %m = tele.param "optim.m.w" {init = #tele.init<zeros>} : tensor<8x8xf32>
  %v = tele.param "optim.v.w" {init = #tele.init<zeros>} : tensor<8x8xf32>
  %p1, %m1, %v1 = tele.adamw %w, %g, %m, %v, %lr, %s, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-08 : f64, weight_decay = 0.1 : f64} : tensor<8x8xf32>, tensor<f32>, tensor<i64> grad tensor<8x8xbf16>
  tele.assign "w", %p1 : tensor<8x8xf32>
  tele.assign "optim.m.w", %m1 : tensor<8x8xf32>
  tele.assign "optim.v.w", %v1 : tensor<8x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Two reads of a weight share one cached copy. Without an AdamW update
// (a frozen weight) the copy is cached all the same: the runtime makes it
// once and keeps it while nothing writes the weight.
// CHECK-LABEL: func.func @frozen
// CHECK: %[[A:.+]] = tele.param "w"
// CHECK-NEXT: %[[AB:.+]] = tele.cached_convert "bf16.w", %[[A]]
// CHECK-NEXT: tele.param "w"
// CHECK-NEXT: tele.linear %arg0, %[[AB]]
// CHECK-NEXT: tele.linear_grad_input %arg0, %[[AB]]
// CHECK-NOT: tele.convert
// CHECK-NOT: tele.assign
func.func @frozen(%x: tensor<2x8xbf16>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %a = tele.param "w" : tensor<8x8xf32>
  %ab = tele.convert %a : tensor<8x8xf32> -> tensor<8x8xbf16>
  %b = tele.param "w" : tensor<8x8xf32>
  %bb = tele.convert %b : tensor<8x8xf32> -> tensor<8x8xbf16>
  %y = tele.linear %x, %ab : tensor<2x8xbf16>, tensor<8x8xbf16> -> tensor<2x8xf32>
  %d = tele.linear_grad_input %x, %bb : tensor<2x8xbf16>, tensor<8x8xbf16> -> tensor<2x8xf32>
  return %y, %d : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// A read after the weight was assigned sees the new value, which is not
// what the entry's copy is of: that conversion stays. A weight assigned
// twice gets no copy from its update (the copy would be of the first
// value, not the final one).
// CHECK-LABEL: func.func @assigned
// CHECK: tele.cached_convert "bf16.w"
// CHECK: tele.adamw {{.*}} : tensor<8x8xf32>, tensor<f32>, tensor<i64>{{$}}
// CHECK-NEXT: tele.assign "w"
// CHECK-NEXT: tele.param "w"
// CHECK-NEXT: tele.convert
// CHECK-NOT: "bf16.w"
func.func @assigned(%x: tensor<2x8xbf16>, %g: tensor<8x8xf32>, %lr: tensor<f32>, %s: tensor<f32>, %t: tensor<i64>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %w = tele.param "w" : tensor<8x8xf32>
  %wb = tele.convert %w : tensor<8x8xf32> -> tensor<8x8xbf16>
  %y = tele.linear %x, %wb : tensor<2x8xbf16>, tensor<8x8xbf16> -> tensor<2x8xf32>
  %m = tele.param "optim.m.w" {init = #tele.init<zeros>} : tensor<8x8xf32>
  %v = tele.param "optim.v.w" {init = #tele.init<zeros>} : tensor<8x8xf32>
  %p1, %m1, %v1 = tele.adamw %w, %g, %m, %v, %lr, %s, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-08 : f64, weight_decay = 0.1 : f64} : tensor<8x8xf32>, tensor<f32>, tensor<i64>
  tele.assign "w", %p1 : tensor<8x8xf32>
  %w2 = tele.param "w" : tensor<8x8xf32>
  %w2b = tele.convert %w2 : tensor<8x8xf32> -> tensor<8x8xbf16>
  %y2 = tele.linear %x, %w2b : tensor<2x8xbf16>, tensor<8x8xbf16> -> tensor<2x8xf32>
  tele.assign "w", %w2 : tensor<8x8xf32>
  return %y, %y2 : tensor<2x8xf32>, tensor<2x8xf32>
}
