// RUN: tele-opt %s -split-input-file --cse | FileCheck %s --check-prefix=CSE
// RUN: tele-opt %s -split-input-file --canonicalize | FileCheck %s --check-prefix=DCE

// Memory effects of the tele ops as seen by generic passes: tensor ops are
// Pure (deduplicated by CSE, removed when dead), tele.param and
// tele.mask_value read state, tele.assign writes it, so a read after an
// assign is never merged with a read before it and assigns are never dead.

// Identical pure ops are merged.
// CSE-LABEL: func.func @pure_cse
// CSE-SAME: (%[[X:.+]]: tensor<2x4x8xf32>, %[[W:.+]]: tensor<12x8xf32>)
// CSE: %[[Y:.+]] = tele.linear %[[X]], %[[W]]
// CSE-NOT: tele.linear
// CSE: tele.add %[[Y]], %[[Y]]
func.func @pure_cse(%x: tensor<2x4x8xf32>, %w: tensor<12x8xf32>) -> tensor<2x4x12xf32> {
  %a = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<12x8xf32> -> tensor<2x4x12xf32>
  %b = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<12x8xf32> -> tensor<2x4x12xf32>
  %s = tele.add %a, %b : tensor<2x4x12xf32>
  return %s : tensor<2x4x12xf32>
}

// -----

// Two reads of one parameter with no write between them are merged.
// CSE-LABEL: func.func @reads_cse
// CSE: %[[P:.+]] = tele.param "model.norm.weight"
// CSE-NOT: tele.param
// CSE: tele.add %[[P]], %[[P]]
func.func @reads_cse() -> tensor<8xf32> {
  %a = tele.param "model.norm.weight" {group = #tele.group<vector>} : tensor<8xf32>
  %b = tele.param "model.norm.weight" {group = #tele.group<vector>} : tensor<8xf32>
  %s = tele.add %a, %b : tensor<8xf32>
  return %s : tensor<8xf32>
}

// -----

// A read after an assign sees the new value: CSE keeps both reads.
// CSE-LABEL: func.func @read_after_assign
// CSE-SAME: (%[[NEW:.+]]: tensor<8xf32>)
// CSE: %[[OLD:.+]] = tele.param "model.norm.weight"
// CSE: tele.assign "model.norm.weight", %[[NEW]]
// CSE: %[[CUR:.+]] = tele.param "model.norm.weight"
// CSE: tele.add %[[OLD]], %[[CUR]]
func.func @read_after_assign(%new: tensor<8xf32>) -> tensor<8xf32> {
  %a = tele.param "model.norm.weight" {group = #tele.group<vector>} : tensor<8xf32>
  tele.assign "model.norm.weight", %new : tensor<8xf32>
  %b = tele.param "model.norm.weight" {group = #tele.group<vector>} : tensor<8xf32>
  %s = tele.add %a, %b : tensor<8xf32>
  return %s : tensor<8xf32>
}

// -----

// Dead pure ops and dead reads are removed; assigns stay.
// DCE-LABEL: func.func @dead_code
// DCE-SAME: (%[[X:.+]]: tensor<2x4x8xf32>)
// DCE-NOT: tele.scale
// DCE-NOT: tele.mask_value
// DCE-NOT: lm_head
// DCE: %[[P:.+]] = tele.param "model.norm.weight"
// DCE-NEXT: tele.assign "model.norm.weight", %[[P]]
// DCE-NEXT: return %[[X]]
func.func @dead_code(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %dead = tele.scale %x {factor = 2.0 : f64} : tensor<2x4x8xf32>
  %c = tele.mask_value "mask.hidden" : tensor<f32>
  %unused = tele.param "lm_head.weight" : tensor<16x8xf32>
  %p = tele.param "model.norm.weight" {group = #tele.group<vector>} : tensor<8xf32>
  tele.assign "model.norm.weight", %p : tensor<8xf32>
  return %x : tensor<2x4x8xf32>
}
