// RUN: tele-opt %s --tele-lower-growth="index=0 batch=2" | FileCheck %s --check-prefix=FIRST
// RUN: tele-opt %s --tele-lower-growth="index=1 batch=2" | FileCheck %s --check-prefix=SECOND
// RUN: tele-opt %s --tele-lower-growth="batch=2" | FileCheck %s --check-prefix=ALL
// RUN: not tele-opt %s --tele-lower-growth="index=2" 2>&1 | FileCheck %s --check-prefix=INDEX
// RUN: not tele-opt %s --tele-lower-growth="dtype=bf16" 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not tele-opt %s --tele-lower-growth="copy=1" 2>&1 | FileCheck %s --check-prefix=OPTION

// Options of tele-lower-growth on a plan with two growth ops (width, then
// depth): index= picks one of them by position; module-level option errors
// are checked on stderr (they have no source line).

// index=0: only the width growth.
// FIRST-LABEL: func.func @grow_small_to_wide()
// FIRST-LABEL: func.func @wide_loss(
// FIRST-NOT: func.func

// index=1: the depth growth ends a chain (the two ops are in a row), so the
// width growth's map comes along, in plan order, and the deep model's loss
// carries the masks of both; the intermediate model gets no loss.
// SECOND-LABEL: func.func @grow_small_to_wide()
// SECOND-NOT: @wide_loss
// SECOND-LABEL: func.func @grow_wide_to_deep()
// SECOND: tele.param "model.layers.0.input_layernorm.weight" {{.+}} : tensor<12xf32>
// SECOND-LABEL: func.func @deep_loss(
// SECOND: tele.mask_value "mask.hidden"
// SECOND: tele.mask_value "mask.layer.1"
// SECOND-NOT: func.func

// By default every growth op is lowered, in plan order.
// ALL-LABEL: func.func @grow_small_to_wide()
// ALL-LABEL: func.func @wide_loss(
// ALL-LABEL: func.func @grow_wide_to_deep()
// ALL-LABEL: func.func @deep_loss(

// An index past the last growth op.
// INDEX: error: tele-lower-growth: index
// INDEX-SAME: but the module has 2 growth ops

// Only f32 and f64 graphs are built.
// DTYPE: error: tele-lower-growth: unsupported dtype 'bf16' (expected f32 or f64)

// Unknown options are rejected by the option parser.
// OPTION: no such option copy

tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 3, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @wide {transition_steps = 20}
  tele.grow.depth @wide -> @deep {transition_steps = 20, copy_layers = array<i64: 0>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
