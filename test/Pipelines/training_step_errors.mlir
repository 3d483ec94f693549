// RUN: not tele-opt %s --tele-training-step="model=tiny stage=s9" 2>&1 | FileCheck %s --check-prefix=STAGE
// RUN: not tele-opt %s --tele-training-step="model=huge" 2>&1 | FileCheck %s --check-prefix=MODEL
// RUN: not tele-opt %s --tele-training-step="stage=s0 dtype=f16" 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not tele-opt %s --tele-training-step="model=tiny batch=0" 2>&1 | FileCheck %s --check-prefix=BATCH
// RUN: not tele-opt %s --tele-training-step="model=tiny batch=-3" 2>&1 | FileCheck %s --check-prefix=BATCH

// Failures of tele-training-step come from its passes, unchanged, and stop
// the pipeline at the first failing pass.

// An unknown stage: tele-expand-model looks the stage up first (it takes the
// stage's model and batch), so tele-optimizer never runs.
// STAGE: error: tele-expand-model: no tele.stage named @s9
// STAGE-NOT: tele-optimizer

// An unknown model (tele-expand-model).
// MODEL: error: tele-expand-model: no tele.model named @huge

// An unsupported element type (tele-expand-model).
// DTYPE: error: tele-expand-model: unsupported dtype 'f16' (expected f32 or f64)

// Without a stage the batch option is used, and must be positive.
// BATCH: error: tele-expand-model: batch must be positive
// BATCH-NOT: tele-autodiff

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 40, batch = 2, lr_matrix = 2.0e-3, lr_vector = 2.0e-3>
  tele.grow.width @tiny -> @wide {transition_steps = 5}
  tele.stage @s1 on @wide <steps = 40, batch = 2, lr_matrix = 1.6e-3, lr_vector = 2.0e-3>
}
