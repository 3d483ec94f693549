// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s
// RUN: tele-opt %s -split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trip of the tensor-level growth ops that tele-lower-growth and
// tele-layer-distances emit: tele.grow.pad, tele.grow.fill and
// tele.stream_distance. std (0.02) and seed (0) are elided at their defaults.

// tele.grow.pad with each fill: the old tensor goes top-left, every
// dimension may grow (or keep its size).
// CHECK-LABEL: func.func @pad_fills
// CHECK-SAME: (%[[W:[^:]+]]: tensor<8x8xf32>, %[[G:[^:]+]]: tensor<8xf32>)
// CHECK: %[[N:.+]] = tele.grow.pad %[[W]] {fill = #tele.fill<normal>, seed = 7 : i64, std = 1.000000e-02 : f64} : tensor<8x8xf32> -> tensor<12x12xf32>
// CHECK: %[[O:.+]] = tele.grow.pad %[[G]] {fill = #tele.fill<ones>} : tensor<8xf32> -> tensor<12xf32>
// CHECK: %[[Z:.+]] = tele.grow.pad %[[W]] {fill = #tele.fill<zeros>} : tensor<8x8xf32> -> tensor<8x16xf32>
// CHECK: %[[M:.+]] = tele.grow.pad %[[W]] {fill = #tele.fill<mean>} : tensor<8x8xf32> -> tensor<16x8xf32>
// CHECK: %[[S:.+]] = tele.grow.pad %[[W]] {fill = #tele.fill<normal>} : tensor<8x8xf32> -> tensor<8x8xf32>
// CHECK: return %[[N]], %[[O]], %[[Z]], %[[M]], %[[S]]
// GENERIC-LABEL: sym_name = "pad_fills"
// GENERIC: "tele.grow.pad"(%{{.+}}) <{fill = #tele.fill<normal>, seed = 7 : i64, std = 1.000000e-02 : f64}> : (tensor<8x8xf32>) -> tensor<12x12xf32>
// GENERIC: "tele.grow.pad"(%{{.+}}) <{fill = #tele.fill<ones>, seed = 0 : i64, std = 2.000000e-02 : f64}> : (tensor<8xf32>) -> tensor<12xf32>
func.func @pad_fills(%w: tensor<8x8xf32>, %g: tensor<8xf32>) -> (tensor<12x12xf32>, tensor<12xf32>, tensor<8x16xf32>, tensor<16x8xf32>, tensor<8x8xf32>) {
  %n = tele.grow.pad %w {fill = #tele.fill<normal>, std = 0.01 : f64, seed = 7} : tensor<8x8xf32> -> tensor<12x12xf32>
  %o = tele.grow.pad %g {fill = #tele.fill<ones>} : tensor<8xf32> -> tensor<12xf32>
  %z = tele.grow.pad %w {fill = #tele.fill<zeros>} : tensor<8x8xf32> -> tensor<8x16xf32>
  %m = tele.grow.pad %w {fill = #tele.fill<mean>} : tensor<8x8xf32> -> tensor<16x8xf32>
  %s = tele.grow.pad %w {fill = #tele.fill<normal>, std = 0.02 : f64, seed = 0} : tensor<8x8xf32> -> tensor<8x8xf32>
  return %n, %o, %z, %m, %s : tensor<12x12xf32>, tensor<12xf32>, tensor<8x16xf32>, tensor<16x8xf32>, tensor<8x8xf32>
}

// -----

// tele.grow.pad in the other float types.
// CHECK-LABEL: func.func @pad_types
// CHECK: tele.grow.pad %{{.+}} {fill = #tele.fill<zeros>} : tensor<4x8xf64> -> tensor<4x12xf64>
// CHECK: tele.grow.pad %{{.+}} {fill = #tele.fill<normal>, seed = 3 : i64} : tensor<8xbf16> -> tensor<12xbf16>
// CHECK: tele.grow.pad %{{.+}} {fill = #tele.fill<ones>} : tensor<8xf16> -> tensor<8xf16>
func.func @pad_types(%a: tensor<4x8xf64>, %b: tensor<8xbf16>, %c: tensor<8xf16>) -> (tensor<4x12xf64>, tensor<12xbf16>, tensor<8xf16>) {
  %x = tele.grow.pad %a {fill = #tele.fill<zeros>} : tensor<4x8xf64> -> tensor<4x12xf64>
  %y = tele.grow.pad %b {fill = #tele.fill<normal>, seed = 3} : tensor<8xbf16> -> tensor<12xbf16>
  %z = tele.grow.pad %c {fill = #tele.fill<ones>} : tensor<8xf16> -> tensor<8xf16>
  return %x, %y, %z : tensor<4x12xf64>, tensor<12xbf16>, tensor<8xf16>
}

// -----

// tele.grow.fill: a fresh tensor of the input's type, with each fill.
// CHECK-LABEL: func.func @fills
// CHECK-SAME: (%[[V:[^:]+]]: tensor<8x12xf32>)
// CHECK: %[[Z:.+]] = tele.grow.fill %[[V]] {fill = #tele.fill<zeros>} : tensor<8x12xf32>
// CHECK: %[[M:.+]] = tele.grow.fill %[[V]] {fill = #tele.fill<mean>} : tensor<8x12xf32>
// CHECK: %[[O:.+]] = tele.grow.fill %[[V]] {fill = #tele.fill<ones>} : tensor<8x12xf32>
// CHECK: %[[N:.+]] = tele.grow.fill %[[V]] {fill = #tele.fill<normal>, seed = 11 : i64, std = 5.000000e-02 : f64} : tensor<8x12xf32>
// CHECK: return %[[Z]], %[[M]], %[[O]], %[[N]]
// GENERIC-LABEL: sym_name = "fills"
// GENERIC: "tele.grow.fill"(%{{.+}}) <{fill = #tele.fill<zeros>, seed = 0 : i64, std = 2.000000e-02 : f64}> : (tensor<8x12xf32>) -> tensor<8x12xf32>
func.func @fills(%v: tensor<8x12xf32>) -> (tensor<8x12xf32>, tensor<8x12xf32>, tensor<8x12xf32>, tensor<8x12xf32>) {
  %z = tele.grow.fill %v {fill = #tele.fill<zeros>} : tensor<8x12xf32>
  %m = tele.grow.fill %v {fill = #tele.fill<mean>} : tensor<8x12xf32>
  %o = tele.grow.fill %v {fill = #tele.fill<ones>} : tensor<8x12xf32>
  %n = tele.grow.fill %v {fill = #tele.fill<normal>, std = 0.05 : f64, seed = 11} : tensor<8x12xf32>
  return %z, %m, %o, %n : tensor<8x12xf32>, tensor<8x12xf32>, tensor<8x12xf32>, tensor<8x12xf32>
}

// -----

// tele.stream_distance with both metrics, in f32 and f64.
// CHECK-LABEL: func.func @distances
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x4x8xf32>, %[[Y:[^:]+]]: tensor<2x4x8xf32>, %[[A:[^:]+]]: tensor<2x4x8xf64>)
// CHECK: %[[E:.+]] = tele.stream_distance %[[X]], %[[Y]] {metric = #tele.metric<euclidean>} : tensor<2x4x8xf32> -> tensor<f32>
// CHECK: %[[C:.+]] = tele.stream_distance %[[X]], %[[Y]] {metric = #tele.metric<cosine>} : tensor<2x4x8xf32> -> tensor<f32>
// CHECK: %[[D:.+]] = tele.stream_distance %[[A]], %[[A]] {metric = #tele.metric<cosine>} : tensor<2x4x8xf64> -> tensor<f64>
// CHECK: return %[[E]], %[[C]], %[[D]]
// GENERIC-LABEL: sym_name = "distances"
// GENERIC: "tele.stream_distance"(%{{.+}}, %{{.+}}) <{metric = #tele.metric<euclidean>}> : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<f32>
func.func @distances(%x: tensor<2x4x8xf32>, %y: tensor<2x4x8xf32>, %a: tensor<2x4x8xf64>) -> (tensor<f32>, tensor<f32>, tensor<f64>) {
  %e = tele.stream_distance %x, %y {metric = #tele.metric<euclidean>} : tensor<2x4x8xf32> -> tensor<f32>
  %c = tele.stream_distance %x, %y {metric = #tele.metric<cosine>} : tensor<2x4x8xf32> -> tensor<f32>
  %d = tele.stream_distance %a, %a {metric = #tele.metric<cosine>} : tensor<2x4x8xf64> -> tensor<f64>
  return %e, %c, %d : tensor<f32>, tensor<f32>, tensor<f64>
}
