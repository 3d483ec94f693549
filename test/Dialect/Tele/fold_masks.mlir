// RUN: tele-opt %s -split-input-file --tele-fold-masks | FileCheck %s
// RUN: tele-opt %s -split-input-file --tele-lower-growth="batch=2" --tele-fold-masks | FileCheck %s --check-prefix=GROWN

// tele-fold-masks: with every MSG mask at 1 the masked graph is the plain
// graph of the grown model. tele.mask_mul by a tele.mask_vector becomes its
// input, tele.rms_norm drops its mask, tele.lerp(x, y, c) with c a
// tele.mask_value becomes y, and the then unused mask ops are erased. Masks
// that do not come from tele.mask_vector / tele.mask_value are left alone.
// The GROWN prefix checks the masked losses built by tele-lower-growth.

// A widened residual write: the mask_mul disappears with its mask.
// CHECK-LABEL: func.func @residual_write
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x4x12xf32>, %[[T:[^:]+]]: tensor<2x4xi32>)
// CHECK-NOT: tele.mask_value
// CHECK-NOT: tele.mask_vector
// CHECK: %[[W:.+]] = tele.param "w" : tensor<12x12xf32>
// CHECK-NEXT: %[[O:.+]] = tele.linear %[[X]], %[[W]]
// CHECK-NEXT: %[[Y:.+]] = tele.add %[[X]], %[[O]] : tensor<2x4x12xf32>
// CHECK-NEXT: %[[L:.+]] = tele.cross_entropy %[[Y]], %[[T]]
// CHECK-NEXT: return %[[L]]
func.func @residual_write(%x: tensor<2x4x12xf32>, %t: tensor<2x4xi32>) -> tensor<f32> {
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

// The masked RMSNorm statistic becomes the plain one; a mask vector shared by
// a norm and a mask_mul goes once both uses are folded.
// CHECK-LABEL: func.func @masked_norm
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x4x12xf32>, %[[G:[^:]+]]: tensor<12xf32>)
// CHECK-NOT: tele.mask_value
// CHECK-NOT: tele.mask_vector
// CHECK-NEXT: %[[N:.+]] = tele.rms_norm %[[X]], %[[G]] {eps = 1.000000e-05 : f64} : tensor<2x4x12xf32>, tensor<12xf32>
// CHECK-NEXT: return %[[N]], %[[X]]
func.func @masked_norm(%x: tensor<2x4x12xf32>, %g: tensor<12xf32>) -> (tensor<2x4x12xf32>, tensor<2x4x12xf32>) {
  %c = tele.mask_value "mask.hidden" : tensor<f32>
  %m = tele.mask_vector %c {kept = 8} : tensor<f32> -> tensor<12xf32>
  %n = tele.rms_norm %x, %g mask %m {eps = 1.0e-5 : f64} : tensor<2x4x12xf32>, tensor<12xf32>, tensor<12xf32>
  %e = tele.mask_mul %x, %m : tensor<2x4x12xf32>, tensor<12xf32>
  return %n, %e : tensor<2x4x12xf32>, tensor<2x4x12xf32>
}

// -----

// A new layer lerp(x, Block(x), c) becomes Block(x).
// CHECK-LABEL: func.func @new_layer
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x4x8xf32>)
// CHECK-NOT: tele.mask_value
// CHECK: %[[W:.+]] = tele.param "w"
// CHECK-NEXT: %[[B:.+]] = tele.linear %[[X]], %[[W]]
// CHECK-NOT: tele.lerp
// CHECK-NEXT: return %[[B]] : tensor<2x4x8xf32>
func.func @new_layer(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %c = tele.mask_value "mask.layer.1" : tensor<f32>
  %w = tele.param "w" : tensor<8x8xf32>
  %b = tele.linear %x, %w : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %y = tele.lerp %x, %b, %c : tensor<2x4x8xf32>, tensor<f32>
  return %y : tensor<2x4x8xf32>
}

// -----

// Stacked masks (FFN product, then a residual write) all fold, in f64.
// CHECK-LABEL: func.func @stacked
// CHECK-SAME: (%[[G:[^:]+]]: tensor<2x4x16xf64>, %[[U:[^:]+]]: tensor<2x4x16xf64>, %[[WD:[^:]+]]: tensor<12x16xf64>)
// CHECK-NEXT: %[[S:.+]] = tele.swiglu %[[G]], %[[U]] : tensor<2x4x16xf64>
// CHECK-NEXT: %[[D:.+]] = tele.linear %[[S]], %[[WD]]
// CHECK-NEXT: return %[[D]]
func.func @stacked(%g: tensor<2x4x16xf64>, %u: tensor<2x4x16xf64>, %wd: tensor<12x16xf64>) -> tensor<2x4x12xf64> {
  %ch = tele.mask_value "mask.hidden" : tensor<f64>
  %mh = tele.mask_vector %ch {kept = 8} : tensor<f64> -> tensor<12xf64>
  %cf = tele.mask_value "mask.ffn" : tensor<f64>
  %mf = tele.mask_vector %cf {kept = 12} : tensor<f64> -> tensor<16xf64>
  %s = tele.swiglu %g, %u : tensor<2x4x16xf64>
  %sm = tele.mask_mul %s, %mf : tensor<2x4x16xf64>, tensor<16xf64>
  %d = tele.linear %sm, %wd : tensor<2x4x16xf64>, tensor<12x16xf64> -> tensor<2x4x12xf64>
  %dm = tele.mask_mul %d, %mh : tensor<2x4x12xf64>, tensor<12xf64>
  return %dm : tensor<2x4x12xf64>
}

// -----

// Masks that are not growth masks stay: a mask_mul by an argument vector, a
// norm with an argument mask and a lerp with an argument weight.
// CHECK-LABEL: func.func @not_growth_masks
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x4x8xf32>, %[[G:[^:]+]]: tensor<8xf32>, %[[M:[^:]+]]: tensor<8xf32>, %[[C:[^:]+]]: tensor<f32>)
// CHECK-NEXT: %[[A:.+]] = tele.mask_mul %[[X]], %[[M]]
// CHECK-NEXT: %[[N:.+]] = tele.rms_norm %[[A]], %[[G]] mask %[[M]]
// CHECK-NEXT: %[[L:.+]] = tele.lerp %[[X]], %[[N]], %[[C]]
// CHECK-NEXT: return %[[L]]
func.func @not_growth_masks(%x: tensor<2x4x8xf32>, %g: tensor<8xf32>, %m: tensor<8xf32>, %c: tensor<f32>) -> tensor<2x4x8xf32> {
  %a = tele.mask_mul %x, %m : tensor<2x4x8xf32>, tensor<8xf32>
  %n = tele.rms_norm %a, %g mask %m {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %l = tele.lerp %x, %n, %c : tensor<2x4x8xf32>, tensor<f32>
  return %l : tensor<2x4x8xf32>
}

// -----

// Only lerps weighted by a tele.mask_value fold; a mask value that still has
// a use after folding (here it is returned) is kept.
// CHECK-LABEL: func.func @mask_value_kept
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x4x8xf32>, %[[Y:[^:]+]]: tensor<2x4x8xf32>, %[[W:[^:]+]]: tensor<f32>)
// CHECK-NEXT: %[[C:.+]] = tele.mask_value "mask.layer.3" : tensor<f32>
// CHECK-NEXT: %[[L:.+]] = tele.lerp %[[X]], %[[Y]], %[[W]]
// CHECK-NEXT: return %[[L]], %[[Y]], %[[C]]
func.func @mask_value_kept(%x: tensor<2x4x8xf32>, %y: tensor<2x4x8xf32>, %w: tensor<f32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<f32>) {
  %c = tele.mask_value "mask.layer.3" : tensor<f32>
  %l = tele.lerp %x, %y, %w : tensor<2x4x8xf32>, tensor<f32>
  %f = tele.lerp %x, %y, %c : tensor<2x4x8xf32>, tensor<f32>
  return %l, %f, %c : tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<f32>
}

// -----

// A width growth lowered by tele-lower-growth, then folded: the loss of the
// grown model without any mask, and the parameter map untouched.
// GROWN-LABEL: func.func @grow_small_to_wide()
// GROWN: tele.grow.pad
// GROWN-LABEL: func.func @wide_loss(
// GROWN-SAME: %[[TOK:[^:]+]]: tensor<2x4xi32>, %[[TGT:[^:]+]]: tensor<2x4xi32>) -> tensor<f32>
// GROWN-NOT: tele.mask_value
// GROWN-NOT: tele.mask_vector
// GROWN-NOT: tele.mask_mul
// GROWN-NOT: mask %
// GROWN: %[[EMB:.+]] = tele.embed %{{.+}}, %[[TOK]]
// GROWN-NEXT: %{{.+}} = tele.param "model.layers.0.input_layernorm.weight"
// GROWN-NEXT: %{{.+}} = tele.rms_norm %[[EMB]], %{{.+}} {eps = 1.000000e-05 : f64} : tensor<2x4x12xf32>, tensor<12xf32>
// GROWN: %[[Q:.+]] = tele.linear
// GROWN-NEXT: %{{.+}} = tele.param "model.layers.0.self_attn.k_proj.weight"
// GROWN: %[[QR:.+]] = tele.rope %[[Q]]
// GROWN: %[[S:.+]] = tele.swiglu
// GROWN-NEXT: %{{.+}} = tele.param "model.layers.0.mlp.down_proj.weight"
// GROWN-NEXT: %{{.+}} = tele.linear %[[S]]
// GROWN-NOT: tele.mask_mul
// GROWN-NOT: mask %
// GROWN: tele.cross_entropy %{{.+}}, %[[TGT]]
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @wide {transition_steps = 20}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A depth growth lowered and folded: the new layers are plain layers.
// GROWN-LABEL: func.func @deep_loss(
// GROWN-NOT: tele.mask_value
// GROWN-NOT: tele.lerp
// GROWN: tele.param "model.layers.3.mlp.down_proj.weight"
// GROWN-NOT: tele.lerp
// GROWN: return
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.depth @small -> @deep {transition_steps = 20, copy_layers = array<i64: 0, 1>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
