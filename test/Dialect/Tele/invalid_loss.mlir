// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifiers of tele.cross_entropy and tele.cross_entropy_grad: targets are the
// logits' shape without the vocabulary dimension, the optional loss mask has
// the targets' shape and the logits' element type.

// Targets drop exactly the vocabulary dimension.
func.func @targets_shape(%logits: tensor<2x4x16xf32>, %targets: tensor<2x5xi32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.cross_entropy' op targets shape must be the logits shape without the vocabulary dimension; got targets 'tensor<2x5xi32>' for logits 'tensor<2x4x16xf32>'}}
  %l = tele.cross_entropy %logits, %targets : tensor<2x4x16xf32>, tensor<2x5xi32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Targets are not one-hot.
func.func @targets_rank(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4x16xi32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.cross_entropy' op targets shape must be the logits shape without the vocabulary dimension; got targets 'tensor<2x4x16xi32>' for logits 'tensor<2x4x16xf32>'}}
  %l = tele.cross_entropy %logits, %targets : tensor<2x4x16xf32>, tensor<2x4x16xi32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Logits have at least a position and a vocabulary dimension.
func.func @logits_rank(%logits: tensor<16xf32>, %targets: tensor<i32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.cross_entropy' op logits must have rank >= 2, got 'tensor<16xf32>'}}
  %l = tele.cross_entropy %logits, %targets : tensor<16xf32>, tensor<i32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The loss mask has the targets' shape.
func.func @mask_shape(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>, %mask: tensor<2x4x16xf32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.cross_entropy' op loss mask must have the targets' shape and the logits' element type, got 'tensor<2x4x16xf32>'}}
  %l = tele.cross_entropy %logits, %targets mask %mask : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<2x4x16xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The loss mask has the logits' element type.
func.func @mask_element_type(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>, %mask: tensor<2x4xf64>) -> tensor<f32> {
  // expected-error @+1 {{'tele.cross_entropy' op loss mask must have the targets' shape and the logits' element type, got 'tensor<2x4xf64>'}}
  %l = tele.cross_entropy %logits, %targets mask %mask : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<2x4xf64> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The loss has the logits' element type.
func.func @result_element_type(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>) -> tensor<f64> {
  // expected-error @+1 {{'tele.cross_entropy' op result element type 'f64' differs from 'f32'}}
  %l = tele.cross_entropy %logits, %targets : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f64>
  return %l : tensor<f64>
}

// -----

// The loss is a scalar.
func.func @result_rank(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'tele.cross_entropy' op result #0 must be 0D tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2x4xf32>'}}
  %l = tele.cross_entropy %logits, %targets : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<2x4xf32>
  return %l : tensor<2x4xf32>
}

// -----

// Targets are i32 token ids.
func.func @targets_float(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.cross_entropy' op operand #1 must be statically shaped tensor of 32-bit signless integer values, but got 'tensor<2x4xf32>'}}
  %l = tele.cross_entropy %logits, %targets : tensor<2x4x16xf32>, tensor<2x4xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// tele.cross_entropy_grad checks its targets like the forward op.
func.func @grad_targets(%logits: tensor<2x4x16xf32>, %targets: tensor<4x2xi32>, %dl: tensor<f32>) -> tensor<2x4x16xf32> {
  // expected-error @+1 {{'tele.cross_entropy_grad' op targets shape must be the logits shape without the vocabulary dimension; got targets 'tensor<4x2xi32>' for logits 'tensor<2x4x16xf32>'}}
  %d = tele.cross_entropy_grad %logits, %targets, %dl : tensor<2x4x16xf32>, tensor<4x2xi32>, tensor<f32>
  return %d : tensor<2x4x16xf32>
}

// -----

// tele.cross_entropy_grad checks its loss mask like the forward op.
func.func @grad_mask(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>, %dl: tensor<f32>, %mask: tensor<8xf32>) -> tensor<2x4x16xf32> {
  // expected-error @+1 {{'tele.cross_entropy_grad' op loss mask must have the targets' shape and the logits' element type, got 'tensor<8xf32>'}}
  %d = tele.cross_entropy_grad %logits, %targets, %dl mask %mask : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>, tensor<8xf32>
  return %d : tensor<2x4x16xf32>
}

// -----

// The incoming loss gradient has the logits' element type.
func.func @grad_dloss(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>, %dl: tensor<f64>) -> tensor<2x4x16xf32> {
  // expected-error @+1 {{'tele.cross_entropy_grad' op grad element type 'f64' differs from 'f32'}}
  %d = tele.cross_entropy_grad %logits, %targets, %dl : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f64>
  return %d : tensor<2x4x16xf32>
}

// -----

// Logits are statically shaped.
func.func @dynamic_logits(%logits: tensor<2x4x?xf32>, %targets: tensor<2x4xi32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.cross_entropy' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<2x4x?xf32>'}}
  %l = tele.cross_entropy %logits, %targets : tensor<2x4x?xf32>, tensor<2x4xi32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Targets are statically shaped.
func.func @dynamic_targets(%logits: tensor<2x4x16xf32>, %targets: tensor<?x4xi32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.cross_entropy' op operand #1 must be statically shaped tensor of 32-bit signless integer values, but got 'tensor<?x4xi32>'}}
  %l = tele.cross_entropy %logits, %targets : tensor<2x4x16xf32>, tensor<?x4xi32> -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The fused op computes in grad's type: bf16 logits need an f32 grad.
func.func @fused_bf16_with_f64(%logits: tensor<2x4x16xbf16>, %targets: tensor<2x4xi32>, %g: tensor<f64>) {
  // expected-error @+1 {{'tele.cross_entropy_fused' op logits element type 'bf16' must be grad's ('f64'), or bf16 when that is f32}}
  %l, %d = tele.cross_entropy_fused %logits, %targets, %g : tensor<2x4x16xbf16>, tensor<2x4xi32>, tensor<f64> -> tensor<2x4x16xf64>
  return
}

// -----

// Its logit gradient is grad's type or a bf16 copy, not f16.
func.func @fused_f16_grad(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>, %g: tensor<f32>) {
  // expected-error @+1 {{'tele.cross_entropy_fused' op logits_grad element type 'f16' must be grad's ('f32'), or bf16 when that is f32}}
  %l, %d = tele.cross_entropy_fused %logits, %targets, %g : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32> -> tensor<2x4x16xf16>
  return
}

// -----

// The logit gradient has the logits' shape.
func.func @fused_grad_shape(%logits: tensor<2x4x16xf32>, %targets: tensor<2x4xi32>, %g: tensor<f32>) {
  // expected-error @+1 {{'tele.cross_entropy_fused' op failed to verify that all of {logits, logits_grad} have same shape}}
  %l, %d = tele.cross_entropy_fused %logits, %targets, %g : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32> -> tensor<2x4x8xf32>
  return
}
