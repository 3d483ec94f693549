// RUN: tele-opt %s -split-input-file --tele-stage-loss="stage=nope" -verify-diagnostics
// RUN: not tele-opt %s -split-input-file --tele-stage-loss="stage=s0 phase=transition" 2>&1 | FileCheck %s --check-prefix=S0T
// RUN: not tele-opt %s --tele-stage-loss="stage=s1 phase=ramp" 2>&1 | FileCheck %s --check-prefix=PHASE
// RUN: not tele-opt %s --tele-stage-loss="stage=s1 dtype=f16" 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not tele-opt %s --tele-stage-loss 2>&1 | FileCheck %s --check-prefix=NOSTAGE

// tele-stage-loss errors: a stage the plan does not have (naming the ones it
// has), a transition where no growth precedes the stage, an unknown phase or
// dtype, no stage at all, a module with two plans.

// S0T: error: tele-stage-loss: stage 's0' has no growth before it, so no transition phase
// PHASE: error: tele-stage-loss: unknown phase 'ramp' (expected transition or steady)
// DTYPE: error: tele-stage-loss: unsupported dtype 'f16' (expected f32 or f64)
// NOSTAGE: error: tele-stage-loss: needs stage=<name>

// expected-error @+1 {{no stage named 'nope' in the plan (stages: s0, s1)}}
module {
  tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
  tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
  tele.plan @p {
    tele.stage @s0 on @tiny <steps = 4, batch = 2, lr_matrix = 2.0e-3, lr_vector = 2.0e-3>
    tele.grow.width @tiny -> @wide {transition_steps = 2}
    tele.stage @s1 on @wide <steps = 4, batch = 3, lr_matrix = 2.0e-3, lr_vector = 2.0e-3>
  }
}

// -----

// expected-error @+1 {{expected exactly one tele.plan, found 2}}
module {
  tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
  tele.plan @p {
    tele.stage @s0 on @tiny <steps = 4, batch = 2, lr_matrix = 2.0e-3, lr_vector = 2.0e-3>
  }
  tele.plan @q {
    tele.stage @t0 on @tiny <steps = 4, batch = 2, lr_matrix = 2.0e-3, lr_vector = 2.0e-3>
  }
}
