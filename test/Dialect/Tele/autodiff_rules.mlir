// RUN: tele-opt %s -split-input-file --tele-autodiff | FileCheck %s

// Gradient rules of tele-autodiff on small hand-written *_loss functions:
// accumulation, repeated and unused parameters, scale, inverse RoPE, masked
// norms and losses, and which functions are differentiated.

// A value used twice by one add gets both adjoints summed.
// CHECK-LABEL: func.func @twice_loss_grad
// CHECK-SAME: -> (tensor<f32>, tensor<2x4x8xf32>)
// CHECK-SAME: tele.params = ["x"]
// CHECK: %[[X:.+]] = tele.param "x"
// CHECK: %[[Y:.+]] = tele.add %[[X]], %[[X]]
// CHECK: %[[L:.+]] = tele.linear %[[Y]], %[[W:[^ ]+]]
// CHECK: %[[LOSS:.+]] = tele.cross_entropy
// CHECK: %[[DL:.+]] = tele.cross_entropy_grad
// CHECK: %[[DY:.+]] = tele.linear_grad_input %[[DL]], %[[W]]
// CHECK: %[[DX:.+]] = tele.add %[[DY]], %[[DY]] : tensor<2x4x8xf32>
// CHECK: return %[[LOSS]], %[[DX]]
func.func @twice_loss(%w: tensor<16x8xf32>, %t: tensor<2x4xi32>) -> tensor<f32> {
  %x = tele.param "x" {group = #tele.group<vector>} : tensor<2x4x8xf32>
  %y = tele.add %x, %x : tensor<2x4x8xf32>
  %l = tele.linear %y, %w : tensor<2x4x8xf32>, tensor<16x8xf32> -> tensor<2x4x16xf32>
  %loss = tele.cross_entropy %l, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Two reads of one parameter: one gradient result, the sum over the reads;
// only parameters are differentiated (function arguments get no gradient).
// CHECK-LABEL: func.func @shared_loss_grad
// CHECK-SAME: -> (tensor<f32>, tensor<16x8xf32>)
// CHECK-SAME: tele.params = ["lm_head.weight"]
// CHECK: %[[W0:.+]] = tele.param "lm_head.weight"
// CHECK: %[[W1:.+]] = tele.param "lm_head.weight"
// CHECK-DAG: %[[DW1:.+]] = tele.linear_grad_weight %{{.+}}, %{{.+}} : {{.+}} -> tensor<16x8xf32>
// CHECK-DAG: %[[DW0:.+]] = tele.linear_grad_weight %{{.+}}, %{{.+}} : {{.+}} -> tensor<16x8xf32>
// CHECK: %[[DW:.+]] = tele.add %{{.+}}, %{{.+}} : tensor<16x8xf32>
// CHECK: return %{{.+}}, %[[DW]] : tensor<f32>, tensor<16x8xf32>
func.func @shared_loss(%x: tensor<2x4x8xf32>, %t: tensor<2x4xi32>) -> tensor<f32> {
  %w0 = tele.param "lm_head.weight" : tensor<16x8xf32>
  %w1 = tele.param "lm_head.weight" : tensor<16x8xf32>
  %a = tele.linear %x, %w0 : tensor<2x4x8xf32>, tensor<16x8xf32> -> tensor<2x4x16xf32>
  %b = tele.linear %x, %w1 : tensor<2x4x8xf32>, tensor<16x8xf32> -> tensor<2x4x16xf32>
  %s = tele.add %a, %b : tensor<2x4x16xf32>
  %loss = tele.cross_entropy %s, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A parameter that does not reach the loss has a zero gradient; the
// parameter order is the order of first read.
// CHECK-LABEL: func.func @unused_loss_grad
// CHECK-SAME: -> (tensor<f32>, tensor<4xf32>, tensor<16x8xf32>)
// CHECK-SAME: tele.params = ["unused", "lm_head.weight"]
// CHECK: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : tensor<4xf32>
// CHECK: return %{{.+}}, %[[ZERO]], %{{.+}} : tensor<f32>, tensor<4xf32>, tensor<16x8xf32>
func.func @unused_loss(%x: tensor<2x4x8xf32>, %t: tensor<2x4xi32>) -> tensor<f32> {
  %u = tele.param "unused" {group = #tele.group<vector>} : tensor<4xf32>
  %w = tele.param "lm_head.weight" : tensor<16x8xf32>
  %a = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<16x8xf32> -> tensor<2x4x16xf32>
  %loss = tele.cross_entropy %a, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// tele.scale's gradient is the same scale; an inverse RoPE's gradient is the
// forward rotation.
// CHECK-LABEL: func.func @rotate_loss_grad
// CHECK: %[[DL:.+]] = tele.cross_entropy_grad
// CHECK: %[[DS:.+]] = tele.scale %[[DL]] {factor = 2.500000e-01 : f64} : tensor<2x4x8xf32>
// CHECK: %[[DR:.+]] = tele.rope %[[DS]] {head_dim = 4 : i64, theta = 1.000000e+04 : f64} : tensor<2x4x8xf32>
// CHECK-NOT: inverse
// CHECK: return %{{.+}}, %[[DR]]
func.func @rotate_loss(%t: tensor<2x4xi32>) -> tensor<f32> {
  %x = tele.param "x" : tensor<2x4x8xf32>
  %r = tele.rope %x {head_dim = 4 : i64, theta = 1.0e4 : f64, inverse} : tensor<2x4x8xf32>
  %s = tele.scale %r {factor = 0.25 : f64} : tensor<2x4x8xf32>
  %loss = tele.cross_entropy %s, %t : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A masked RMSNorm: the gradient op carries the mask, the mask gets none.
// CHECK-LABEL: func.func @masked_norm_loss_grad
// CHECK-SAME: -> (tensor<f32>, tensor<2x4x8xf32>, tensor<8xf32>)
// CHECK-SAME: tele.params = ["x", "g"]
// CHECK: %[[M:.+]] = tele.mask_vector
// CHECK: %[[Y:.+]] = tele.rms_norm %[[X:[^ ,]+]], %[[G:[^ ,]+]] mask %[[M]]
// CHECK: %[[DY:.+]] = tele.cross_entropy_grad
// CHECK: %[[DX:[^ ,]+]], %[[DG:[^ ,]+]] = tele.rms_norm_grad %[[X]], %[[G]], %[[DY]] mask %[[M]] {eps = 1.000000e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
// CHECK: return %{{.+}}, %[[DX]], %[[DG]]
func.func @masked_norm_loss(%t: tensor<2x4xi32>) -> tensor<f32> {
  %x = tele.param "x" : tensor<2x4x8xf32>
  %g = tele.param "g" {group = #tele.group<vector>, init = #tele.init<ones>} : tensor<8xf32>
  %c = tele.mask_value "mask.hidden" : tensor<f32>
  %m = tele.mask_vector %c {kept = 6} : tensor<f32> -> tensor<8xf32>
  %y = tele.rms_norm %x, %g mask %m {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %loss = tele.cross_entropy %y, %t : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// An SFT loss mask is passed on to the logit gradient; f64 all the way.
// CHECK-LABEL: func.func @sft_loss_grad
// CHECK-SAME: (%[[T:[^:]+]]: tensor<2x4xi32>, %[[W:[^:]+]]: tensor<2x4xf64>)
// CHECK-SAME: -> (tensor<f64>, tensor<2x4x16xf64>)
// CHECK: %[[L:.+]] = tele.param "logits"
// CHECK: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f64>
// CHECK: %[[D:.+]] = tele.cross_entropy_grad %[[L]], %[[T]], %[[ONE]] mask %[[W]] : tensor<2x4x16xf64>, tensor<2x4xi32>, tensor<f64>, tensor<2x4xf64>
// CHECK: return %{{.+}}, %[[D]]
func.func @sft_loss(%t: tensor<2x4xi32>, %w: tensor<2x4xf64>) -> tensor<f64> {
  %l = tele.param "logits" : tensor<2x4x16xf64>
  %loss = tele.cross_entropy %l, %t mask %w : tensor<2x4x16xf64>, tensor<2x4xi32>, tensor<2x4xf64> -> tensor<f64>
  return %loss : tensor<f64>
}

// -----

// Only functions named *_loss are differentiated by default.
// CHECK-LABEL: func.func @objective
// CHECK-NOT: func.func @objective_grad
// CHECK-LABEL: func.func @other_loss_grad
func.func @objective(%t: tensor<2x4xi32>) -> tensor<f32> {
  %l = tele.param "logits" : tensor<2x4x16xf32>
  %loss = tele.cross_entropy %l, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}
func.func @other_loss(%t: tensor<2x4xi32>) -> tensor<f32> {
  %l = tele.param "logits" : tensor<2x4x16xf32>
  %loss = tele.cross_entropy %l, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A loss with no parameters: the gradient function returns the loss alone.
// CHECK-LABEL: func.func @constant_loss_grad
// CHECK-SAME: (%[[L:[^:]+]]: tensor<f32>) -> tensor<f32>
// CHECK-SAME: tele.params = []
// CHECK: return %[[L]] : tensor<f32>
func.func @constant_loss(%l: tensor<f32>) -> tensor<f32> {
  return %l : tensor<f32>
}
