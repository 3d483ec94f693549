// RUN: tele-opt %s --tele-lower-growth="index=1 batch=2" -verify-diagnostics

// Two width growths in a row are not a chain tele can lower.
tele.model @a <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @b <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>
tele.model @c <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 24, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @a <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @a -> @b {transition_steps = 4 : i64}
  // expected-error @+1 {{ends a chain of 2 growth ops in a row; a chain may hold at most one tele.grow.width and one tele.grow.depth}}
  tele.grow.width @b -> @c {transition_steps = 4 : i64}
  tele.stage @s1 on @c <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
