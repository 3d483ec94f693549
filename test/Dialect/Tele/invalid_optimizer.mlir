// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifiers of the optimizer ops: tele.global_norm, tele.clip_scale,
// tele.lr_schedule and tele.adamw.

// A global norm is taken over at least one tensor.
func.func @global_norm_empty() -> tensor<f32> {
  // expected-error @+1 {{'tele.global_norm' op needs at least one tensor}}
  %n = "tele.global_norm"() : () -> tensor<f32>
  return %n : tensor<f32>
}

// -----

// The global norm is a scalar.
func.func @global_norm_vector(%g: tensor<8xf32>) -> tensor<1xf32> {
  // expected-error @+1 {{'tele.global_norm' op result #0 must be 0D tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<1xf32>'}}
  %n = tele.global_norm %g : tensor<8xf32> -> tensor<1xf32>
  return %n : tensor<1xf32>
}

// -----

// Every input has the element type of the norm, or is a bf16 copy for an
// f32 norm (second input here: f16 is neither).
func.func @global_norm_mixed(%a: tensor<8xbf16>, %b: tensor<8xf16>) -> tensor<f32> {
  // expected-error @+1 {{'tele.global_norm' op input element type 'f16' differs from 'f32' (a bf16 copy is allowed for f32)}}
  %n = tele.global_norm %a, %b : tensor<8xbf16>, tensor<8xf16> -> tensor<f32>
  return %n : tensor<f32>
}

// -----

// A bf16 copy is no f64 norm's input.
func.func @global_norm_bf16_for_f64(%a: tensor<8xbf16>) -> tensor<f64> {
  // expected-error @+1 {{'tele.global_norm' op input element type 'bf16' differs from 'f64' (a bf16 copy is allowed for f32)}}
  %n = tele.global_norm %a : tensor<8xbf16> -> tensor<f64>
  return %n : tensor<f64>
}

// -----

// The norm is not computed in a wider type than its inputs either.
func.func @global_norm_wider_result(%a: tensor<8xf32>) -> tensor<f64> {
  // expected-error @+1 {{'tele.global_norm' op input element type 'f32' differs from 'f64'}}
  %n = tele.global_norm %a : tensor<8xf32> -> tensor<f64>
  return %n : tensor<f64>
}

// -----

// Inputs are statically shaped.
func.func @global_norm_dynamic(%a: tensor<?xf32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.global_norm' op operand #0 must be variadic of statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?xf32>'}}
  %n = tele.global_norm %a : tensor<?xf32> -> tensor<f32>
  return %n : tensor<f32>
}

// -----

// The clip factor has the norm's type.
func.func @clip_scale_type(%n: tensor<f32>) -> tensor<f64> {
  // expected-error @+1 {{'tele.clip_scale' op failed to verify that all of {norm, result} have same type}}
  %s = "tele.clip_scale"(%n) <{max_norm = 1.0 : f64}> : (tensor<f32>) -> tensor<f64>
  return %s : tensor<f64>
}

// -----

// The clip threshold is required.
func.func @clip_scale_no_max(%n: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.clip_scale' op requires attribute 'max_norm'}}
  %s = tele.clip_scale %n : tensor<f32>
  return %s : tensor<f32>
}

// -----

// The clip threshold is positive: 0 would zero every gradient.
func.func @clip_scale_zero(%n: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.clip_scale' op max_norm must be positive}}
  %s = tele.clip_scale %n {max_norm = 0.0 : f64} : tensor<f32>
  return %s : tensor<f32>
}

// -----

// A negative clip threshold is rejected too.
func.func @clip_scale_negative(%n: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.clip_scale' op max_norm must be positive}}
  %s = tele.clip_scale %n {max_norm = -1.0 : f64} : tensor<f32>
  return %s : tensor<f32>
}

// -----

// NaN is not a positive threshold.
func.func @clip_scale_nan(%n: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.clip_scale' op max_norm must be positive}}
  %s = tele.clip_scale %n {max_norm = 0x7FF8000000000000 : f64} : tensor<f32>
  return %s : tensor<f32>
}

// -----

// Warmup fits in the schedule.
func.func @warmup_gt_total(%step: tensor<i64>) -> tensor<f32> {
  // expected-error @+1 {{'tele.lr_schedule' op warmup must be in [0, total], got 20}}
  %lr = tele.lr_schedule %step {peak = 1.0e-3 : f64, min = 0.0 : f64, warmup = 20 : i64, total = 10 : i64, decay = #tele.decay<cosine>} : tensor<i64> -> tensor<f32>
  return %lr : tensor<f32>
}

// -----

// The schedule has at least one step.
func.func @total_zero(%step: tensor<i64>) -> tensor<f32> {
  // expected-error @+1 {{'tele.lr_schedule' op total must be positive, got 0}}
  %lr = tele.lr_schedule %step {peak = 1.0e-3 : f64, min = 0.0 : f64, warmup = 0 : i64, total = 0 : i64, decay = #tele.decay<linear>} : tensor<i64> -> tensor<f32>
  return %lr : tensor<f32>
}

// -----

// The minimum learning rate may not exceed the peak.
func.func @min_gt_peak(%step: tensor<i64>) -> tensor<f32> {
  // expected-error @+1 {{'tele.lr_schedule' op needs 0 <= min <= peak and peak > 0}}
  %lr = tele.lr_schedule %step {peak = 1.0e-3 : f64, min = 2.0e-3 : f64, warmup = 0 : i64, total = 10 : i64, decay = #tele.decay<cosine>} : tensor<i64> -> tensor<f32>
  return %lr : tensor<f32>
}

// -----

// The peak learning rate is positive.
func.func @zero_peak(%step: tensor<i64>) -> tensor<f32> {
  // expected-error @+1 {{'tele.lr_schedule' op needs 0 <= min <= peak and peak > 0}}
  %lr = tele.lr_schedule %step {peak = 0.0 : f64, min = 0.0 : f64, warmup = 0 : i64, total = 10 : i64, decay = #tele.decay<constant>} : tensor<i64> -> tensor<f32>
  return %lr : tensor<f32>
}

// -----

// The step counter is an i64 scalar.
func.func @step_type(%step: tensor<i32>) -> tensor<f32> {
  // expected-error @+1 {{'tele.lr_schedule' op operand #0 must be 0D tensor of 64-bit signless integer values, but got 'tensor<i32>'}}
  %lr = tele.lr_schedule %step {peak = 1.0e-3 : f64, min = 0.0 : f64, warmup = 0 : i64, total = 10 : i64, decay = #tele.decay<cosine>} : tensor<i32> -> tensor<f32>
  return %lr : tensor<f32>
}

// -----

// The decay is required.
func.func @no_decay(%step: tensor<i64>) -> tensor<f32> {
  // expected-error @+1 {{'tele.lr_schedule' op requires attribute 'decay'}}
  %lr = tele.lr_schedule %step {peak = 1.0e-3 : f64, min = 0.0 : f64, warmup = 0 : i64, total = 10 : i64} : tensor<i64> -> tensor<f32>
  return %lr : tensor<f32>
}

// -----

// The learning rate has the parameter's element type.
func.func @adamw_lr(%p: tensor<8x8xf32>, %lr: tensor<f64>, %t: tensor<i64>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'tele.adamw' op lr element type 'f64' differs from 'f32'}}
  %p1, %m1, %v1 = tele.adamw %p, %p, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<8x8xf32>, tensor<f64>, tensor<i64>
  return %p1 : tensor<8x8xf32>
}

// -----

// The learning rate and the clip factor have one type.
func.func @adamw_grad_scale(%p: tensor<8x8xf32>, %lr: tensor<f32>, %s: tensor<f64>, %t: tensor<i64>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'tele.adamw' op failed to verify that all of {lr, grad_scale} have same type}}
  %p1, %m1, %v1 = "tele.adamw"(%p, %p, %p, %p, %lr, %s, %t) <{beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64}> : (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<f32>, tensor<f64>, tensor<i64>) -> (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>)
  return %p1 : tensor<8x8xf32>
}

// -----

// The gradient and moments have the parameter's type.
func.func @adamw_grad_type(%p: tensor<8x8xf32>, %g: tensor<8xf32>, %lr: tensor<f32>, %t: tensor<i64>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'tele.adamw' op grad has type 'tensor<8xf32>' but expected 'tensor<8x8xf32>' (or its bf16 copy for f32)}}
  %p1, %m1, %v1 = tele.adamw %p, %g, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<8x8xf32>, tensor<f32>, tensor<i64> grad tensor<8xf32>
  return %p1 : tensor<8x8xf32>
}

// -----

// A bf16 gradient updates only an f32 parameter.
func.func @adamw_bf16_grad_f64(%p: tensor<8x8xf64>, %g: tensor<8x8xbf16>, %lr: tensor<f64>, %t: tensor<i64>) -> tensor<8x8xf64> {
  // expected-error @+1 {{'tele.adamw' op grad has type 'tensor<8x8xbf16>' but expected 'tensor<8x8xf64>' (or its bf16 copy for f32)}}
  %p1, %m1, %v1 = tele.adamw %p, %g, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<8x8xf64>, tensor<f64>, tensor<i64> grad tensor<8x8xbf16>
  return %p1 : tensor<8x8xf64>
}

// -----

// beta1 lies in [0, 1).
func.func @adamw_beta1(%p: tensor<8xf32>, %lr: tensor<f32>, %t: tensor<i64>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.adamw' op beta1 and beta2 must be in [0, 1)}}
  %p1, %m1, %v1 = tele.adamw %p, %p, %p, %p, %lr, %lr, %t {beta1 = 1.0 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>, tensor<f32>, tensor<i64>
  return %p1 : tensor<8xf32>
}

// -----

// beta2 lies in [0, 1).
func.func @adamw_beta2(%p: tensor<8xf32>, %lr: tensor<f32>, %t: tensor<i64>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.adamw' op beta1 and beta2 must be in [0, 1)}}
  %p1, %m1, %v1 = tele.adamw %p, %p, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = -0.1 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>, tensor<f32>, tensor<i64>
  return %p1 : tensor<8xf32>
}

// -----

// The optimizer step is an i64 scalar.
func.func @adamw_step(%p: tensor<8xf32>, %lr: tensor<f32>, %t: tensor<f32>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.adamw' op operand #6 must be 0D tensor of 64-bit signless integer values, but got 'tensor<f32>'}}
  %p1, %m1, %v1 = tele.adamw %p, %p, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>, tensor<f32>, tensor<f32>
  return %p1 : tensor<8xf32>
}

// -----

// eps is positive: with eps = 0 a zero second moment divides by zero.
func.func @adamw_eps_zero(%p: tensor<8xf32>, %lr: tensor<f32>, %t: tensor<i64>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.adamw' op eps must be positive}}
  %p1, %m1, %v1 = tele.adamw %p, %p, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 0.0 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>, tensor<f32>, tensor<i64>
  return %p1 : tensor<8xf32>
}

// -----

// A negative eps is rejected too.
func.func @adamw_eps_negative(%p: tensor<8xf32>, %lr: tensor<f32>, %t: tensor<i64>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.adamw' op eps must be positive}}
  %p1, %m1, %v1 = tele.adamw %p, %p, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = -1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>, tensor<f32>, tensor<i64>
  return %p1 : tensor<8xf32>
}

// -----

// weight_decay is non-negative (0 is allowed: vector-like parameters).
func.func @adamw_weight_decay(%p: tensor<8xf32>, %lr: tensor<f32>, %t: tensor<i64>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.adamw' op weight_decay must be non-negative}}
  %p1, %m1, %v1 = tele.adamw %p, %p, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = -0.1 : f64} : tensor<8xf32>, tensor<f32>, tensor<i64>
  return %p1 : tensor<8xf32>
}

// -----

// Parameters are statically shaped.
func.func @adamw_dynamic(%p: tensor<?xf32>, %lr: tensor<f32>, %t: tensor<i64>) -> tensor<?xf32> {
  // expected-error @+1 {{'tele.adamw' op operand #0 must be statically shaped tensor of 32-bit float or 64-bit float or bfloat16 type or 16-bit float values, but got 'tensor<?xf32>'}}
  %p1, %m1, %v1 = tele.adamw %p, %p, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<?xf32>, tensor<f32>, tensor<i64>
  return %p1 : tensor<?xf32>
}

// -----

// The copy of the new parameter is its bf16 rounding: same shape, bf16.
func.func @adamw_copy_type(%p: tensor<8xf32>, %lr: tensor<f32>, %t: tensor<i64>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.adamw' op new_param_copy has type 'tensor<8xf32>' but expected 'tensor<8xbf16>'}}
  %p1, %m1, %v1, %c = tele.adamw %p, %p, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>, tensor<f32>, tensor<i64> copy tensor<8xf32>
  return %c : tensor<8xf32>
}

// -----

// Only an f32 parameter has a bf16 copy.
func.func @adamw_copy_of_f64(%p: tensor<8xf64>, %lr: tensor<f64>, %t: tensor<i64>) -> tensor<8xbf16> {
  // expected-error @+1 {{'tele.adamw' op a bf16 copy of the new parameter needs an f32 parameter}}
  %p1, %m1, %v1, %c = tele.adamw %p, %p, %p, %p, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<8xf64>, tensor<f64>, tensor<i64> copy tensor<8xbf16>
  return %c : tensor<8xbf16>
}
