// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifier and symbol uses of tele.grow.depth: the target differs from the
// source only by more layers.

// transition_steps must be positive.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op transition_steps must be positive, got 0}}
  tele.grow.depth @small -> @deep {transition_steps = 0}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// transition_steps has no default.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op requires attribute 'transition_steps'}}
  tele.grow.depth @small -> @deep {metric = #tele.metric<cosine>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A depth growth must add layers.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @same <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op must add layers (2 -> 2)}}
  tele.grow.depth @small -> @same {transition_steps = 10}
  tele.stage @s1 on @same <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Removing layers is not a growth.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.model @shallow <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 3, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op must add layers (4 -> 3)}}
  tele.grow.depth @small -> @shallow {transition_steps = 10}
  tele.stage @s1 on @shallow <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The hidden size is grown by tele.grow.width, not by a depth growth.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op may not change hidden (8 -> 12)}}
  tele.grow.depth @small -> @deep {transition_steps = 10}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Nor heads (here with hidden kept by halving head_dim, caught on head_dim first).
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 4, head_dim = 2, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op may not change head_dim (4 -> 2)}}
  tele.grow.depth @small -> @deep {transition_steps = 10}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Nor the FFN width.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 16, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op may not change ffn (12 -> 16)}}
  tele.grow.depth @small -> @deep {transition_steps = 10}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The vocabulary is fixed.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 20, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op may not change vocab (16 -> 20)}}
  tele.grow.depth @small -> @deep {transition_steps = 10}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// alpha_out is fixed.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4, alpha_out = 0.5>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op may not change alpha_out (1.000000e+00 -> 5.000000e-01); growth must preserve the function}}
  tele.grow.depth @small -> @deep {transition_steps = 10}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The source must be a tele.model.
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op source @p is not a tele.model}}
  tele.grow.depth @p -> @deep {transition_steps = 10}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// An unknown metric keyword is a parse error.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+2 {{expected ::mlir::tele::DistanceMetric to be one of: euclidean, cosine}}
  // expected-error @+1 {{failed to parse Tele_DistanceMetricAttr parameter 'value'}}
  tele.grow.depth @small -> @deep {transition_steps = 10, metric = #tele.metric<manhattan>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// An unknown layer selection is a parse error.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+2 {{expected ::mlir::tele::LayerSelection to be one of: smallest, largest}}
  // expected-error @+1 {{failed to parse Tele_LayerSelectionAttr parameter 'value'}}
  tele.grow.depth @small -> @deep {transition_steps = 10, select = #tele.select<random>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The metric attribute must be a #tele.metric, not another enum.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op attribute 'metric' failed to satisfy constraint}}
  tele.grow.depth @small -> @deep {transition_steps = 10, metric = #tele.select<largest>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// copy_layers is sorted: new layers are listed in stack order.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op copy_layers must be sorted and non-negative}}
  tele.grow.depth @small -> @deep {transition_steps = 10, copy_layers = array<i64: 1, 0>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// copy_layers entries are layer indices, hence non-negative.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op copy_layers must be sorted and non-negative}}
  tele.grow.depth @small -> @deep {transition_steps = 10, copy_layers = array<i64: -1, 0>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// copy_layers has one entry per new layer: too few.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op copy_layers names 1 layers but the growth adds 2}}
  tele.grow.depth @small -> @deep {transition_steps = 10, copy_layers = array<i64: 0>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// copy_layers has one entry per new layer: too many.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op copy_layers names 3 layers but the growth adds 2}}
  tele.grow.depth @small -> @deep {transition_steps = 10, copy_layers = array<i64: 0, 1, 1>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// An empty copy_layers adds no layer.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op copy_layers names 0 layers but the growth adds 2}}
  tele.grow.depth @small -> @deep {transition_steps = 10, copy_layers = array<i64>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// copy_layers entries are layers of the source model (2 layers: 0 and 1).
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op copy_layers entry 2 is not a layer of the source model (2 layers)}}
  tele.grow.depth @small -> @deep {transition_steps = 10, copy_layers = array<i64: 0, 2>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A far out-of-range entry is reported the same way.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op copy_layers entry 9 is not a layer of the source model (2 layers)}}
  tele.grow.depth @small -> @deep {transition_steps = 10, copy_layers = array<i64: 1, 9>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
