// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifier and symbol uses of tele.grow.width: what a width growth may change
// (hidden, heads, ffn; only upwards, at least one of them) and what it must
// keep (layers, vocab, head_dim, seq_len, eps, rope_theta, alpha_out).

// transition_steps must be positive.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op transition_steps must be positive, got 0}}
  tele.grow.width @small -> @big {transition_steps = 0}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// transition_steps has no default.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op requires attribute 'transition_steps'}}
  tele.grow.width @small -> @big
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// New entries are drawn from N(0, init_std): init_std must be positive.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op init_std must be positive}}
  tele.grow.width @small -> @big {transition_steps = 10, init_std = 0.0}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The source must be a defined model.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op source @missing is not defined}}
  tele.grow.width @missing -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The target must be a defined model.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op target @missing is not defined}}
  tele.grow.width @small -> @missing {transition_steps = 10}
  tele.stage @s1 on @missing <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The target must be a tele.model, not another symbol.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
func.func private @big()
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op target @big is not a tele.model}}
  tele.grow.width @small -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Width growth may not shrink the hidden size (nor heads, with head_dim fixed).
tele.model @small <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op may not shrink hidden (12 -> 8)}}
  tele.grow.width @small -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Width growth may not shrink the FFN.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 10, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op may not shrink ffn (12 -> 10)}}
  tele.grow.width @small -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A width growth must grow something.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @same <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op grows nothing: hidden, heads and ffn are all unchanged}}
  tele.grow.width @small -> @same {transition_steps = 10}
  tele.stage @s1 on @same <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Layers are grown by tele.grow.depth, not by a width growth.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op may not change layers (1 -> 2)}}
  tele.grow.width @small -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The vocabulary is fixed.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 32, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op may not change vocab (16 -> 32)}}
  tele.grow.width @small -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// head_dim is fixed: more hidden means more heads.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 2, head_dim = 6, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op may not change head_dim (4 -> 6)}}
  tele.grow.width @small -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The sequence length is fixed.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 8>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op may not change seq_len (4 -> 8)}}
  tele.grow.width @small -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// alpha_out is held fixed through growth, or every logit rescales.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, alpha_out = 3.125e-2>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, alpha_out = 2.5e-2>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op may not change alpha_out (3.125000e-02 -> 2.500000e-02); growth must preserve the function}}
  tele.grow.width @small -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The RMSNorm epsilon is fixed.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, eps = 1.0e-6>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op may not change eps (1.000000e-05 -> 1.000000e-06)}}
  tele.grow.width @small -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The RoPE base is fixed.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, rope_theta = 5.0e5>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op may not change rope_theta (1.000000e+04 -> 5.000000e+05)}}
  tele.grow.width @small -> @big {transition_steps = 10}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// An unknown schedule keyword is a parse error.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+2 {{expected ::mlir::tele::MaskSchedule to be one of: joint, sequential}}
  // expected-error @+1 {{failed to parse Tele_MaskScheduleAttr parameter 'value'}}
  tele.grow.width @small -> @big {transition_steps = 10, schedule = #tele.schedule<staggered>}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// An unknown second-moment initialisation is a parse error.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+2 {{expected ::mlir::tele::SecondMomentInit to be one of: zero, mean}}
  // expected-error @+1 {{failed to parse Tele_SecondMomentInitAttr parameter 'value'}}
  tele.grow.width @small -> @big {transition_steps = 10, moment_init = #tele.moment_init<copy>}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
