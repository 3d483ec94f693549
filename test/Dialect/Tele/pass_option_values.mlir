// RUN: not tele-opt %s --tele-lower-growth="index=7" 2>&1 | FileCheck %s --check-prefix=INDEX
// RUN: not tele-opt %s --tele-layer-distances="metric=manhattan batch=65" 2>&1 | FileCheck %s --check-prefix=BATCH

// Integer pass options quoted in diagnostics. tele-lower-growth and
// tele-layer-distances stream their int64_t Option members (growIndex,
// batch) straight into the diagnostic, which prints each as a single
// character: index=7 gives "index \a but ..." and batch=65 gives "batch A".
// Copying the option into an int64_t first (as tele-expand-model does) fixes
// it.

// INDEX: error: tele-lower-growth: index 7 but the module has 1 growth ops
// BATCH: error: tele-layer-distances: bad options (dtype 'f32', metric 'manhattan', batch 65)

tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @fat <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 24, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @fat {transition_steps = 20}
  tele.stage @s1 on @fat <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
