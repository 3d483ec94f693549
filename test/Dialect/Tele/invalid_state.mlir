// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifiers of the training-state ops: tele.param, tele.assign and
// tele.mask_value.

// A parameter needs a name.
func.func @empty_name() -> tensor<8xf32> {
  // expected-error @+1 {{'tele.param' op needs a non-empty name}}
  %p = tele.param "" : tensor<8xf32>
  return %p : tensor<8xf32>
}

// -----

// Parameters are floating-point tensors.
func.func @integer_param() -> tensor<8xi32> {
  // expected-error @+1 {{'tele.param' op must produce a floating-point tensor, got 'tensor<8xi32>'}}
  %p = tele.param "model.norm.weight" : tensor<8xi32>
  return %p : tensor<8xi32>
}

// -----

// Parameters are ranked tensors.
func.func @unranked_param() -> tensor<*xf32> {
  // expected-error @+1 {{invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xf32>'}}
  %p = tele.param "model.norm.weight" : tensor<*xf32>
  return %p : tensor<*xf32>
}

// -----

// The group is a #tele.group.
func.func @bad_group() -> tensor<8xf32> {
  // expected-error @+2 {{expected ::mlir::tele::ParamGroup to be one of: matrix, vector}}
  // expected-error @+1 {{failed to parse Tele_ParamGroupAttr parameter 'value'}}
  %p = tele.param "model.norm.weight" {group = #tele.group<scalar>} : tensor<8xf32>
  return %p : tensor<8xf32>
}

// -----

// The initialisation is a #tele.init.
func.func @bad_init() -> tensor<8xf32> {
  // expected-error @+2 {{expected ::mlir::tele::ParamInit to be one of: normal, ones, zeros}}
  // expected-error @+1 {{failed to parse Tele_ParamInitAttr parameter 'value'}}
  %p = tele.param "model.norm.weight" {init = #tele.init<uniform>} : tensor<8xf32>
  return %p : tensor<8xf32>
}

// -----

// The init attribute must be a #tele.init, not another tele enum.
func.func @init_is_group() -> tensor<8xf32> {
  // expected-error @+1 {{'tele.param' op attribute 'init' failed to satisfy constraint: initial value of a parameter}}
  %p = tele.param "model.norm.weight" {init = #tele.group<vector>} : tensor<8xf32>
  return %p : tensor<8xf32>
}

// -----

// The name is a string.
func.func @symbol_name() -> tensor<8xf32> {
  // expected-error @+1 {{invalid kind of attribute specified}}
  %p = tele.param @weight : tensor<8xf32>
  return %p : tensor<8xf32>
}

// -----

// A state tensor is written from a ranked tensor (custom form).
func.func @assign_unranked(%x: tensor<*xf32>) {
  // expected-error @+1 {{invalid kind of type specified: expected builtin.tensor, but found 'tensor<*xf32>'}}
  tele.assign "model.norm.weight", %x : tensor<*xf32>
  return
}

// -----

// A state tensor is written from a ranked tensor (generic form).
func.func @assign_unranked_generic(%x: tensor<*xf32>) {
  // expected-error @+1 {{'tele.assign' op operand #0 must be statically shaped tensor of any type values, but got 'tensor<*xf32>'}}
  "tele.assign"(%x) <{name = "model.norm.weight"}> : (tensor<*xf32>) -> ()
  return
}

// -----

// tele.assign needs its name.
func.func @assign_no_name(%x: tensor<8xf32>) {
  // expected-error @+1 {{'tele.assign' op requires attribute 'name'}}
  "tele.assign"(%x) : (tensor<8xf32>) -> ()
  return
}

// -----

// A mask value is a 0-d float tensor.
func.func @mask_value_vector() -> tensor<8xf32> {
  // expected-error @+1 {{'tele.mask_value' op result #0 must be 0D tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<8xf32>'}}
  %c = tele.mask_value "mask.hidden" : tensor<8xf32>
  return %c : tensor<8xf32>
}

// -----

// An integer mask value is rejected.
func.func @mask_value_integer() -> tensor<i64> {
  // expected-error @+1 {{'tele.mask_value' op result #0 must be 0D tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<i64>'}}
  %c = tele.mask_value "mask.hidden" : tensor<i64>
  return %c : tensor<i64>
}

// -----

// A cached copy is of a state entry: its input is a tele.param read.
func.func @cached_copy_of_argument(%w: tensor<8x8xf32>) -> tensor<8x8xbf16> {
  // expected-error @+1 {{'tele.cached_convert' op converts a tele.param read (the cached copy is of a state entry)}}
  %c = tele.cached_convert "bf16.w", %w : tensor<8x8xf32> -> tensor<8x8xbf16>
  return %c : tensor<8x8xbf16>
}

// -----

// It rounds f32 to bf16.
func.func @cached_copy_f32() -> tensor<8x8xf32> {
  %w = tele.param "w" : tensor<8x8xf32>
  // expected-error @+1 {{'tele.cached_convert' op rounds f32 to bf16, got 'tensor<8x8xf32>' -> 'tensor<8x8xf32>'}}
  %c = tele.cached_convert "bf16.w", %w : tensor<8x8xf32> -> tensor<8x8xf32>
  return %c : tensor<8x8xf32>
}

// -----

// It needs a name for its entry.
func.func @cached_copy_unnamed() -> tensor<8x8xbf16> {
  %w = tele.param "w" : tensor<8x8xf32>
  // expected-error @+1 {{'tele.cached_convert' op needs a non-empty name}}
  %c = tele.cached_convert "", %w : tensor<8x8xf32> -> tensor<8x8xbf16>
  return %c : tensor<8x8xbf16>
}
