// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifiers of the tensor-level growth ops tele.grow.pad, tele.grow.fill and
// tele.stream_distance.

// A pad may not shrink a dimension.
func.func @pad_shrinks(%w: tensor<8x8xf32>) -> tensor<12x4xf32> {
  // expected-error @+1 {{'tele.grow.pad' op may not shrink a dimension ('tensor<8x8xf32>' -> 'tensor<12x4xf32>')}}
  %y = tele.grow.pad %w {fill = #tele.fill<zeros>} : tensor<8x8xf32> -> tensor<12x4xf32>
  return %y : tensor<12x4xf32>
}

// -----

// A pad keeps the rank: it cannot add a dimension.
func.func @pad_adds_rank(%g: tensor<8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'tele.grow.pad' op result 'tensor<8x8xf32>' must have the input's rank and element type ('tensor<8xf32>')}}
  %y = tele.grow.pad %g {fill = #tele.fill<ones>} : tensor<8xf32> -> tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

// Nor drop one.
func.func @pad_drops_rank(%w: tensor<8x8xf32>) -> tensor<64xf32> {
  // expected-error @+1 {{'tele.grow.pad' op result 'tensor<64xf32>' must have the input's rank and element type ('tensor<8x8xf32>')}}
  %y = tele.grow.pad %w {fill = #tele.fill<zeros>} : tensor<8x8xf32> -> tensor<64xf32>
  return %y : tensor<64xf32>
}

// -----

// A pad keeps the element type.
func.func @pad_element_type(%w: tensor<8x8xf32>) -> tensor<12x12xf64> {
  // expected-error @+1 {{'tele.grow.pad' op result 'tensor<12x12xf64>' must have the input's rank and element type ('tensor<8x8xf32>')}}
  %y = tele.grow.pad %w {fill = #tele.fill<normal>} : tensor<8x8xf32> -> tensor<12x12xf64>
  return %y : tensor<12x12xf64>
}

// -----

// New normal entries need a positive standard deviation: zero...
func.func @pad_std_zero(%w: tensor<8x8xf32>) -> tensor<12x12xf32> {
  // expected-error @+1 {{'tele.grow.pad' op std must be positive for normal fill}}
  %y = tele.grow.pad %w {fill = #tele.fill<normal>, std = 0.0 : f64} : tensor<8x8xf32> -> tensor<12x12xf32>
  return %y : tensor<12x12xf32>
}

// -----

// ... or negative.
func.func @pad_std_negative(%w: tensor<8x8xf32>) -> tensor<12x12xf32> {
  // expected-error @+1 {{'tele.grow.pad' op std must be positive for normal fill}}
  %y = tele.grow.pad %w {fill = #tele.fill<normal>, std = -0.02 : f64, seed = 1} : tensor<8x8xf32> -> tensor<12x12xf32>
  return %y : tensor<12x12xf32>
}

// -----

// std is ignored by the other fills, so any value is accepted there.
// (No diagnostic expected.)
func.func @pad_std_unused(%w: tensor<8x8xf32>) -> tensor<12x12xf32> {
  %y = tele.grow.pad %w {fill = #tele.fill<zeros>, std = 0.0 : f64} : tensor<8x8xf32> -> tensor<12x12xf32>
  return %y : tensor<12x12xf32>
}

// -----

// The fill is required.
func.func @pad_no_fill(%w: tensor<8x8xf32>) -> tensor<12x12xf32> {
  // expected-error @+1 {{'tele.grow.pad' op requires attribute 'fill'}}
  %y = tele.grow.pad %w : tensor<8x8xf32> -> tensor<12x12xf32>
  return %y : tensor<12x12xf32>
}

// -----

// An unknown fill is a parse error.
func.func @pad_unknown_fill(%w: tensor<8x8xf32>) -> tensor<12x12xf32> {
  // expected-error @+2 {{expected ::mlir::tele::GrowFill to be one of: normal, ones, zeros, mean}}
  // expected-error @+1 {{failed to parse Tele_GrowFillAttr parameter 'value'}}
  %y = tele.grow.pad %w {fill = #tele.fill<uniform>} : tensor<8x8xf32> -> tensor<12x12xf32>
  return %y : tensor<12x12xf32>
}

// -----

// Pads work on statically shaped float tensors.
func.func @pad_dynamic(%w: tensor<?x8xf32>) -> tensor<12x12xf32> {
  // expected-error @+1 {{'tele.grow.pad' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?x8xf32>'}}
  %y = tele.grow.pad %w {fill = #tele.fill<zeros>} : tensor<?x8xf32> -> tensor<12x12xf32>
  return %y : tensor<12x12xf32>
}

// -----

// tele.grow.fill keeps its input's type.
func.func @fill_type(%v: tensor<8x8xf32>) -> tensor<12x12xf32> {
  // expected-error @+1 {{'tele.grow.fill' op failed to verify that all of {input, result} have same type}}
  %y = "tele.grow.fill"(%v) <{fill = #tele.fill<zeros>, std = 2.0e-2 : f64, seed = 0 : i64}> : (tensor<8x8xf32>) -> tensor<12x12xf32>
  return %y : tensor<12x12xf32>
}

// -----

// tele.grow.fill works on float tensors.
func.func @fill_integer(%v: tensor<8xi32>) -> tensor<8xi32> {
  // expected-error @+1 {{'tele.grow.fill' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<8xi32>'}}
  %y = tele.grow.fill %v {fill = #tele.fill<zeros>} : tensor<8xi32>
  return %y : tensor<8xi32>
}

// -----

// The input and output streams have one type.
func.func @distance_streams(%x: tensor<2x4x8xf32>, %y: tensor<2x4x12xf32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.stream_distance' op failed to verify that all of {input, output} have same type}}
  %d = "tele.stream_distance"(%x, %y) <{metric = #tele.metric<cosine>}> : (tensor<2x4x8xf32>, tensor<2x4x12xf32>) -> tensor<f32>
  return %d : tensor<f32>
}

// -----

// The distance has the streams' element type.
func.func @distance_element_type(%x: tensor<2x4x8xf32>) -> tensor<f64> {
  // expected-error @+1 {{'tele.stream_distance' op result element type 'f64' differs from 'f32'}}
  %d = tele.stream_distance %x, %x {metric = #tele.metric<euclidean>} : tensor<2x4x8xf32> -> tensor<f64>
  return %d : tensor<f64>
}

// -----

// The distance is a scalar.
func.func @distance_vector(%x: tensor<2x4x8xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'tele.stream_distance' op result #0 must be 0D tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2xf32>'}}
  %d = "tele.stream_distance"(%x, %x) <{metric = #tele.metric<euclidean>}> : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2xf32>
  return %d : tensor<2xf32>
}

// -----

// The metric is required.
func.func @distance_no_metric(%x: tensor<2x4x8xf32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.stream_distance' op requires attribute 'metric'}}
  %d = tele.stream_distance %x, %x : tensor<2x4x8xf32> -> tensor<f32>
  return %d : tensor<f32>
}

// -----

// An unknown metric is a parse error.
func.func @distance_unknown_metric(%x: tensor<2x4x8xf32>) -> tensor<f32> {
  // expected-error @+2 {{expected ::mlir::tele::DistanceMetric to be one of: euclidean, cosine}}
  // expected-error @+1 {{failed to parse Tele_DistanceMetricAttr parameter 'value'}}
  %d = tele.stream_distance %x, %x {metric = #tele.metric<manhattan>} : tensor<2x4x8xf32> -> tensor<f32>
  return %d : tensor<f32>
}
