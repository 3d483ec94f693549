// RUN: not tele-opt %s --tele-training-step="model=tiny stage=s9" 2>&1 | FileCheck %s --check-prefix=STAGE
// RUN: not tele-opt %s --tele-training-step="model=tiny stage=s1" 2>&1 | FileCheck %s --check-prefix=MISMATCH
// RUN: not tele-opt %s --tele-training-step="model=huge stage=s0" 2>&1 | FileCheck %s --check-prefix=MODEL
// RUN: not tele-opt %s --tele-training-step="stage=s0 dtype=f16" 2>&1 | FileCheck %s --check-prefix=DTYPE

// Failures of tele-training-step come from its passes, unchanged.

// An unknown stage (tele-optimizer).
// STAGE: error: tele-optimizer: no tele.stage named @s9

// The stage trains another model than the one compiled: nothing to step.
// MISMATCH: error: tele-optimizer: no gradient function found

// An unknown model (tele-expand-model).
// MODEL: error: tele-expand-model: no tele.model named @huge

// An unsupported element type (tele-expand-model).
// DTYPE: error: tele-expand-model: unsupported dtype 'f16' (expected f32 or f64)

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 40, batch = 2, lr_matrix = 2.0e-3, lr_vector = 2.0e-3>
  tele.grow.width @tiny -> @wide {transition_steps = 5}
  tele.stage @s1 on @wide <steps = 40, batch = 2, lr_matrix = 1.6e-3, lr_vector = 2.0e-3>
}
