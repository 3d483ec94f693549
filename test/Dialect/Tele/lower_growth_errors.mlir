// RUN: tele-opt %s -split-input-file -verify-diagnostics --tele-lower-growth

// Diagnostics of tele-lower-growth located at the growth op: a depth growth
// without copy_layers, and functions that already exist.

// Depth growth needs the chosen source layers.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op needs copy_layers to be lowered (tele train chooses them from a calibration batch; tele-opt users set them explicitly)}}
  tele.grow.depth @small -> @deep {transition_steps = 20}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Also when it follows a width growth that lowers fine.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 3, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @wide {transition_steps = 20}
  // expected-error @+1 {{'tele.grow.depth' op needs copy_layers to be lowered}}
  tele.grow.depth @wide -> @deep {transition_steps = 20, metric = #tele.metric<cosine>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The parameter map's name must be free.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op tele-lower-growth: symbol @grow_small_to_wide already exists}}
  tele.grow.width @small -> @wide {transition_steps = 20}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
func.func private @grow_small_to_wide()

// -----

// So must the grown model's loss (e.g. after tele-expand-model).
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 3, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op tele-lower-growth: symbol @deep_loss already exists}}
  tele.grow.depth @small -> @deep {transition_steps = 20, copy_layers = array<i64: 1>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
func.func private @deep_loss(tensor<2x4xi32>, tensor<2x4xi32>) -> tensor<f32>
