// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s

// Round trip of the MSG mask ops: tele.mask_vector, tele.mask_mul, tele.lerp,
// tele.lerp_grad and tele.rms_norm with a width mask.

// A mask vector [1]*kept ++ [c]*(n - kept), applied to the residual stream.
// CHECK-LABEL: func.func @hidden_mask
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x12xf32>)
// CHECK: %[[C:.+]] = tele.mask_value "mask.hidden" : tensor<f32>
// CHECK: %[[M:.+]] = tele.mask_vector %[[C]] {kept = 8 : i64} : tensor<f32> -> tensor<12xf32>
// CHECK: %[[Y:.+]] = tele.mask_mul %[[X]], %[[M]] : tensor<2x4x12xf32>, tensor<12xf32>
// CHECK: return %[[Y]]
func.func @hidden_mask(%x: tensor<2x4x12xf32>) -> tensor<2x4x12xf32> {
  %c = tele.mask_value "mask.hidden" : tensor<f32>
  %m = tele.mask_vector %c {kept = 8} : tensor<f32> -> tensor<12xf32>
  %y = tele.mask_mul %x, %m : tensor<2x4x12xf32>, tensor<12xf32>
  return %y : tensor<2x4x12xf32>
}

// -----

// kept may be 0 (everything new) or the full length (nothing new).
// CHECK-LABEL: func.func @kept_bounds
// CHECK: tele.mask_vector %{{.+}} {kept = 0 : i64} : tensor<f64> -> tensor<4xf64>
// CHECK: tele.mask_vector %{{.+}} {kept = 4 : i64} : tensor<f64> -> tensor<4xf64>
func.func @kept_bounds(%c: tensor<f64>) -> (tensor<4xf64>, tensor<4xf64>) {
  %a = tele.mask_vector %c {kept = 0} : tensor<f64> -> tensor<4xf64>
  %b = tele.mask_vector %c {kept = 4} : tensor<f64> -> tensor<4xf64>
  return %a, %b : tensor<4xf64>, tensor<4xf64>
}

// -----

// The masked RMSNorm statistic of a widened model.
// CHECK-LABEL: func.func @masked_norm
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x12xf32>, %[[G:.+]]: tensor<12xf32>, %[[M:.+]]: tensor<12xf32>)
// CHECK: tele.rms_norm %[[X]], %[[G]] mask %[[M]] {eps = 1.000000e-05 : f64} : tensor<2x4x12xf32>, tensor<12xf32>, tensor<12xf32>
func.func @masked_norm(%x: tensor<2x4x12xf32>, %g: tensor<12xf32>, %m: tensor<12xf32>) -> tensor<2x4x12xf32> {
  %y = tele.rms_norm %x, %g mask %m {eps = 1.0e-5 : f64} : tensor<2x4x12xf32>, tensor<12xf32>, tensor<12xf32>
  return %y : tensor<2x4x12xf32>
}

// -----

// A layer added by depth growth: x + c * (Block(x) - x).
// CHECK-LABEL: func.func @new_layer
// CHECK-SAME: (%[[X:.+]]: tensor<2x4x8xf32>, %[[B:.+]]: tensor<2x4x8xf32>)
// CHECK: %[[C:.+]] = tele.mask_value "mask.layer.1" : tensor<f32>
// CHECK: %[[Y:.+]] = tele.lerp %[[X]], %[[B]], %[[C]] : tensor<2x4x8xf32>, tensor<f32>
// CHECK: return %[[Y]]
func.func @new_layer(%x: tensor<2x4x8xf32>, %b: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %c = tele.mask_value "mask.layer.1" : tensor<f32>
  %y = tele.lerp %x, %b, %c : tensor<2x4x8xf32>, tensor<f32>
  return %y : tensor<2x4x8xf32>
}

// -----

// The gradient of tele.lerp has two results.
// CHECK-LABEL: func.func @lerp_grad
// CHECK-SAME: (%[[DY:.+]]: tensor<2x4x8xf64>, %[[C:.+]]: tensor<f64>)
// CHECK: %[[DX:[^ ,]+]], %[[DB:[^ ,]+]] = tele.lerp_grad %[[DY]], %[[C]] : tensor<2x4x8xf64>, tensor<f64>
// CHECK: return %[[DX]], %[[DB]]
func.func @lerp_grad(%dy: tensor<2x4x8xf64>, %c: tensor<f64>) -> (tensor<2x4x8xf64>, tensor<2x4x8xf64>) {
  %dx, %db = tele.lerp_grad %dy, %c : tensor<2x4x8xf64>, tensor<f64>
  return %dx, %db : tensor<2x4x8xf64>, tensor<2x4x8xf64>
}
