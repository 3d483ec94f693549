// RUN: tele-opt %s -split-input-file --tele-autodiff --tele-fold-masks -verify-diagnostics

// tele-fold-masks runs on loss functions, before tele-autodiff: a gradient
// op that uses a growth mask means the order was wrong and the pass fails.
// (tele-autodiff only adds gradients of the *_loss functions here.)

// tele.rms_norm_grad with a mask vector.
func.func @norm_grad(%x: tensor<2x4x12xf32>, %g: tensor<12xf32>, %dy: tensor<2x4x12xf32>) -> tensor<2x4x12xf32> {
  %c = tele.mask_value "mask.hidden" : tensor<f32>
  %m = tele.mask_vector %c {kept = 8} : tensor<f32> -> tensor<12xf32>
  // expected-error @+1 {{'tele.rms_norm_grad' op uses a growth mask: run tele-fold-masks before tele-autodiff}}
  %dx, %dg = tele.rms_norm_grad %x, %g, %dy mask %m {eps = 1.0e-5 : f64} : tensor<2x4x12xf32>, tensor<12xf32>, tensor<12xf32>
  return %dx : tensor<2x4x12xf32>
}

// -----

// tele.lerp_grad with a new layer's mask value.
func.func @lerp_grad(%dy: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %c = tele.mask_value "mask.layer.1" : tensor<f32>
  // expected-error @+1 {{'tele.lerp_grad' op uses a growth mask: run tele-fold-masks before tele-autodiff}}
  %dx, %db = tele.lerp_grad %dy, %c : tensor<2x4x8xf32>, tensor<f32>
  return %dx : tensor<2x4x8xf32>
}

// -----

// The gradient of a masked loss built by tele-autodiff: its ops are located
// at the loss function's return, where the error points.
func.func @deep_loss(%x: tensor<2x4x8xf32>, %t: tensor<2x4xi32>) -> tensor<f32> {
  %w = tele.param "w" : tensor<8x8xf32>
  %b = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %c = tele.mask_value "mask.layer.1" : tensor<f32>
  %y = tele.lerp %x, %b, %c : tensor<2x4x8xf32>, tensor<f32>
  %loss = tele.cross_entropy %y, %t : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<f32>
  // expected-error @+1 {{'tele.lerp_grad' op uses a growth mask: run tele-fold-masks before tele-autodiff}}
  return %loss : tensor<f32>
}

// -----

// The same for a widened norm.
func.func @wide_loss(%x: tensor<2x4x12xf32>, %t: tensor<2x4xi32>) -> tensor<f32> {
  %g = tele.param "g" : tensor<12xf32>
  %c = tele.mask_value "mask.hidden" : tensor<f32>
  %m = tele.mask_vector %c {kept = 8} : tensor<f32> -> tensor<12xf32>
  %n = tele.rms_norm %x, %g mask %m {eps = 1.0e-5 : f64} : tensor<2x4x12xf32>, tensor<12xf32>, tensor<12xf32>
  %loss = tele.cross_entropy %n, %t : tensor<2x4x12xf32>, tensor<2x4xi32> -> tensor<f32>
  // expected-error @+1 {{'tele.rms_norm_grad' op uses a growth mask: run tele-fold-masks before tele-autodiff}}
  return %loss : tensor<f32>
}
