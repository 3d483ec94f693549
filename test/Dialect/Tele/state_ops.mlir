// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s

// Round trip of the training-state ops tele.param, tele.assign and
// tele.mask_value. Default group (matrix) and init (normal) are elided.

// A matrix-like parameter with default group and init.
// CHECK-LABEL: func.func @param_defaults
// CHECK: %[[W:.+]] = tele.param "model.layers.0.mlp.up_proj.weight" : tensor<12x8xf32>
// CHECK: return %[[W]]
func.func @param_defaults() -> tensor<12x8xf32> {
  %w = tele.param "model.layers.0.mlp.up_proj.weight" {group = #tele.group<matrix>, init = #tele.init<normal>} : tensor<12x8xf32>
  return %w : tensor<12x8xf32>
}

// -----

// A vector-like gain initialised to ones.
// CHECK-LABEL: func.func @param_vector
// CHECK: tele.param "model.norm.weight" {group = #tele.group<vector>, init = #tele.init<ones>} : tensor<8xf32>
func.func @param_vector() -> tensor<8xf32> {
  %g = tele.param "model.norm.weight" {group = #tele.group<vector>, init = #tele.init<ones>} : tensor<8xf32>
  return %g : tensor<8xf32>
}

// -----

// An optimizer moment initialised to zeros keeps the default group.
// CHECK-LABEL: func.func @param_moment
// CHECK: tele.param "optim.v.lm_head.weight" {init = #tele.init<zeros>} : tensor<16x8xf64>
func.func @param_moment() -> tensor<16x8xf64> {
  %v = tele.param "optim.v.lm_head.weight" {init = #tele.init<zeros>} : tensor<16x8xf64>
  return %v : tensor<16x8xf64>
}

// -----

// Parameters may be read twice; each read is its own op.
// CHECK-LABEL: func.func @param_twice
// CHECK: %[[A:.+]] = tele.param "model.norm.weight"
// CHECK: %[[B:.+]] = tele.param "model.norm.weight"
// CHECK: tele.add %[[A]], %[[B]] : tensor<8xf32>
func.func @param_twice() -> tensor<8xf32> {
  %a = tele.param "model.norm.weight" {group = #tele.group<vector>} : tensor<8xf32>
  %b = tele.param "model.norm.weight" {group = #tele.group<vector>} : tensor<8xf32>
  %s = tele.add %a, %b : tensor<8xf32>
  return %s : tensor<8xf32>
}

// -----

// tele.assign writes a value back under a name.
// CHECK-LABEL: func.func @assign
// CHECK-SAME: (%[[X:.+]]: tensor<8xf32>)
// CHECK: tele.assign "model.norm.weight", %[[X]] : tensor<8xf32>
// CHECK: tele.assign "optim.m.model.norm.weight", %[[X]] {note = 1 : i64} : tensor<8xf32>
func.func @assign(%x: tensor<8xf32>) {
  tele.assign "model.norm.weight", %x : tensor<8xf32>
  tele.assign "optim.m.model.norm.weight", %x {note = 1} : tensor<8xf32>
  return
}

// -----

// Mask values of each precision.
// CHECK-LABEL: func.func @mask_values
// CHECK: tele.mask_value "mask.hidden" : tensor<f32>
// CHECK: tele.mask_value "mask.layer.3" : tensor<f64>
// CHECK: tele.mask_value "mask.ffn" : tensor<bf16>
func.func @mask_values() -> (tensor<f32>, tensor<f64>, tensor<bf16>) {
  %a = tele.mask_value "mask.hidden" : tensor<f32>
  %b = tele.mask_value "mask.layer.3" : tensor<f64>
  %c = tele.mask_value "mask.ffn" : tensor<bf16>
  return %a, %b, %c : tensor<f32>, tensor<f64>, tensor<bf16>
}

// -----

// A weight's cached bf16 copy.
// CHECK-LABEL: func.func @cached_copy
// CHECK: %[[W:.+]] = tele.param "lm_head.weight" : tensor<16x8xf32>
// CHECK: tele.cached_convert "bf16.lm_head.weight", %[[W]] : tensor<16x8xf32> -> tensor<16x8xbf16>
func.func @cached_copy() -> tensor<16x8xbf16> {
  %w = tele.param "lm_head.weight" : tensor<16x8xf32>
  %c = tele.cached_convert "bf16.lm_head.weight", %w : tensor<16x8xf32> -> tensor<16x8xbf16>
  return %c : tensor<16x8xbf16>
}
