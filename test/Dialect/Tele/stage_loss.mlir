// RUN: tele-opt %s --tele-stage-loss="stage=s0" | FileCheck %s --check-prefix=S0
// RUN: tele-opt %s --tele-stage-loss="stage=s1 phase=transition" | FileCheck %s --check-prefix=S1T
// RUN: tele-opt %s --tele-stage-loss="stage=s1" | FileCheck %s --check-prefix=S1
// RUN: tele-opt %s --tele-stage-loss="stage=s2 phase=transition batch=5 dtype=f64" | FileCheck %s --check-prefix=S2T
// RUN: tele-opt %s --tele-stage-loss="stage=s2 eval=false" | FileCheck %s --check-prefix=NOEVAL

// tele-stage-loss builds what one stage of the plan trains, read through the
// plan's schedule: @s0 (no growth before it) the plain loss of its model;
// @s1 (after a width growth) the parameter map and the masked loss during the
// transition, the loss with its masks folded away afterwards; @s2 (after a
// depth growth, no copy_layers given) copies the first layer. Each adds @eval
// (loss and logits) with the step's masks.

// S0-NOT: func.func @grow_
// S0-LABEL: func.func @tiny_loss(
// S0-SAME: tensor<2x4xi32>
// S0-NOT: tele.mask_value
// S0-LABEL: func.func @eval(
// S0-SAME: -> (tensor<f32>, tensor<2x4x16xf32>)

// S1T-LABEL: func.func @grow_tiny_to_wide()
// S1T-LABEL: func.func @wide_loss(
// S1T-SAME: tensor<3x4xi32>
// S1T: tele.mask_value "mask.hidden"
// S1T-LABEL: func.func @eval(
// S1T: tele.mask_value "mask.hidden"

// S1-LABEL: func.func @grow_tiny_to_wide()
// S1-LABEL: func.func @wide_loss(
// S1-NOT: tele.mask_value
// S1-LABEL: func.func @eval(
// S1-NOT: tele.mask_value

// The depth chain alone: the width map is the previous stage's.
// S2T-NOT: func.func @grow_tiny_to_wide
// S2T: tele.grow.depth @wide -> @deep {copy_layers = array<i64: 0>
// S2T-LABEL: func.func @grow_wide_to_deep()
// S2T-LABEL: func.func @deep_loss(
// S2T-SAME: tensor<5x4xi32>
// S2T-SAME: -> tensor<f64>
// S2T: tele.mask_value "mask.layer.1"
// S2T-LABEL: func.func @eval(
// S2T-SAME: tensor<5x4xi32>
// S2T: tele.mask_value "mask.layer.1"

// NOEVAL-LABEL: func.func @deep_loss(
// NOEVAL-NOT: func.func @eval

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 4, batch = 2, lr_matrix = 2.0e-3, lr_vector = 2.0e-3>
  tele.grow.width @tiny -> @wide {transition_steps = 2}
  tele.stage @s1 on @wide <steps = 4, batch = 3, lr_matrix = 2.0e-3, lr_vector = 2.0e-3>
  tele.grow.depth @wide -> @deep {transition_steps = 2}
  tele.stage @s2 on @deep <steps = 4, batch = 2, lr_matrix = 2.0e-3, lr_vector = 2.0e-3>
}
