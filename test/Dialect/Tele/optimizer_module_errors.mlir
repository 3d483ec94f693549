// RUN: not tele-opt %s --tele-expand-model --tele-autodiff --tele-optimizer="stage=s9" 2>&1 | FileCheck %s --check-prefix=STAGE
// RUN: not tele-opt %s --tele-expand-model --tele-optimizer="stage=s0" 2>&1 | FileCheck %s --check-prefix=NOGRAD
// RUN: not tele-opt %s --tele-expand-model="model=tiny" --tele-autodiff --tele-optimizer="stage=s1" 2>&1 | FileCheck %s --check-prefix=NOGRAD
// RUN: not tele-opt %s --tele-expand-model --tele-autodiff --tele-optimizer="steps=10 warmup=20" 2>&1 | FileCheck %s --check-prefix=WARMUP
// RUN: not tele-opt %s --tele-expand-model --tele-autodiff --tele-optimizer="lr-vector=0.0" 2>&1 | FileCheck %s --check-prefix=LR
// RUN: not tele-opt %s --tele-expand-model --tele-autodiff --tele-optimizer="steps=0" 2>&1 | FileCheck %s --check-prefix=STEPS

// Module-level diagnostics of tele-optimizer: a missing stage, no gradient
// function to extend, and pass options that do not form a valid stage config
// (checked with the #tele.stage_config verifier).

// stage= must name a tele.stage of some plan.
// STAGE: error: tele-optimizer: no tele.stage named @s9

// Without tele-autodiff, or when the stage's model was not expanded, there is
// no gradient function.
// NOGRAD: error: tele-optimizer: no gradient function found (run tele-autodiff first)

// Option-built configs are verified like #tele.stage_config.
// WARMUP: error: tele-optimizer: stage warmup must be in [0, steps], got 20
// LR: error: tele-optimizer: stage lr_matrix and lr_vector must be positive
// STEPS: error: tele-optimizer: stage steps must be positive, got 0

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @tiny -> @wide {transition_steps = 5}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
