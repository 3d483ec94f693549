// RUN: tele-opt %s -split-input-file --tele-autodiff | FileCheck %s

// tele-autodiff through the MSG growth ops: mask values, mask vectors and the
// mask operand of tele.mask_mul are constants of the step and get no
// gradient; tele.lerp (a new layer) gets tele.lerp_grad.

// A widened residual write: y = x + mask_h * W_o(x).
// CHECK-LABEL: func.func @wide_loss_grad
// CHECK-SAME: -> (tensor<f32>, tensor<2x4x12xf32>, tensor<12x12xf32>)
// CHECK-SAME: tele.params = ["x", "w"]
// CHECK: %[[X:.+]] = tele.param "x"
// CHECK: %[[C:.+]] = tele.mask_value "mask.hidden"
// CHECK: %[[M:.+]] = tele.mask_vector %[[C]] {kept = 8 : i64}
// CHECK: %[[W:.+]] = tele.param "w"
// CHECK: %[[O:.+]] = tele.linear %[[X]], %[[W]]
// CHECK: %[[MO:.+]] = tele.mask_mul %[[O]], %[[M]]
// CHECK: %[[DY:.+]] = tele.cross_entropy_grad
// The mask multiplies the adjoint on its way back; no rule for the mask itself.
// CHECK: %[[DO:.+]] = tele.mask_mul %[[DY]], %[[M]] : tensor<2x4x12xf32>, tensor<12xf32>
// CHECK: %[[DX1:.+]] = tele.linear_grad_input %[[DO]], %[[W]]
// CHECK: %[[DX:.+]] = tele.add %[[DY]], %[[DX1]]
// CHECK: %[[DW:.+]] = tele.linear_grad_weight %[[DO]], %[[X]]
// CHECK-NOT: tele.mask_value
// CHECK-NOT: tele.mask_vector
// CHECK: return %{{.+}}, %[[DX]], %[[DW]]
func.func @wide_loss(%t: tensor<2x4xi32>) -> tensor<f32> {
  %x = tele.param "x" : tensor<2x4x12xf32>
  %c = tele.mask_value "mask.hidden" : tensor<f32>
  %m = tele.mask_vector %c {kept = 8} : tensor<f32> -> tensor<12xf32>
  %w = tele.param "w" : tensor<12x12xf32>
  %o = tele.linear %x, %w : tensor<2x4x12xf32>, tensor<12x12xf32> -> tensor<2x4x12xf32>
  %mo = tele.mask_mul %o, %m : tensor<2x4x12xf32>, tensor<12xf32>
  %y = tele.add %x, %mo : tensor<2x4x12xf32>
  %loss = tele.cross_entropy %y, %t : tensor<2x4x12xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A new layer x + c * (Block(x) - x): lerp_grad splits the adjoint between
// the skip path and the block, and the block's input sums both.
// CHECK-LABEL: func.func @deep_loss_grad
// CHECK-SAME: -> (tensor<f32>, tensor<2x4x8xf32>, tensor<8x8xf32>)
// CHECK: %[[X:.+]] = tele.param "x"
// CHECK: %[[W:.+]] = tele.param "w"
// CHECK: %[[C:.+]] = tele.mask_value "mask.layer.1" : tensor<f32>
// CHECK: %[[Y:.+]] = tele.lerp %[[X]], %{{.+}}, %[[C]]
// CHECK: %[[DY:.+]] = tele.cross_entropy_grad %[[Y]]
// CHECK: %[[DSKIP:[^ ,]+]], %[[DBLK:[^ ,]+]] = tele.lerp_grad %[[DY]], %[[C]] : tensor<2x4x8xf32>, tensor<f32>
// CHECK: %[[DXB:.+]] = tele.linear_grad_input %[[DBLK]], %[[W]]
// CHECK: %[[DX:.+]] = tele.add %[[DSKIP]], %[[DXB]]
// CHECK: %[[DW:.+]] = tele.linear_grad_weight %[[DBLK]], %[[X]]
// CHECK: return %{{.+}}, %[[DX]], %[[DW]]
func.func @deep_loss(%t: tensor<2x4xi32>) -> tensor<f32> {
  %x = tele.param "x" : tensor<2x4x8xf32>
  %w = tele.param "w" : tensor<8x8xf32>
  %b = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %c = tele.mask_value "mask.layer.1" : tensor<f32>
  %y = tele.lerp %x, %b, %c : tensor<2x4x8xf32>, tensor<f32>
  %loss = tele.cross_entropy %y, %t : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// A mask built from a parameter read still gets no gradient: the parameter
// feeding only a mask vector has a zero gradient.
// CHECK-LABEL: func.func @mask_param_loss_grad
// CHECK-SAME: tele.params = ["c", "x"]
// CHECK: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : tensor<f32>
// CHECK: return %{{.+}}, %[[ZERO]], %{{.+}} : tensor<f32>, tensor<f32>, tensor<2x4x8xf32>
func.func @mask_param_loss(%t: tensor<2x4xi32>) -> tensor<f32> {
  %c = tele.param "c" {group = #tele.group<vector>} : tensor<f32>
  %m = tele.mask_vector %c {kept = 4} : tensor<f32> -> tensor<8xf32>
  %x = tele.param "x" : tensor<2x4x8xf32>
  %y = tele.mask_mul %x, %m : tensor<2x4x8xf32>, tensor<8xf32>
  %loss = tele.cross_entropy %y, %t : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<f32>
  return %loss : tensor<f32>
}
