// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifier of #tele.stage_config, the optimizer and schedule of one stage:
// every diagnostic of StageConfigAttr::verify and of its struct parser.

// A stage trains for at least one step.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage steps must be positive, got 0}}
  tele.stage @s on @m <steps = 0, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The batch must be positive.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage batch must be positive, got -8}}
  tele.stage @s on @m <steps = 10, batch = -8, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Warmup longer than the stage is rejected.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage warmup must be in [0, steps], got 11}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, warmup = 11>
}

// -----

// Negative warmup is rejected.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage warmup must be in [0, steps], got -1}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, warmup = -1>
}

// -----

// The peak learning rates default to 0, which is rejected: both must be given.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage lr_matrix and lr_vector must be positive}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3>
}

// -----

// A negative matrix learning rate is rejected.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage lr_matrix and lr_vector must be positive}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = -1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The minimum matrix learning rate may not exceed its peak.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage minimum learning rates must be in [0, peak]}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, min_lr_matrix = 2.0e-3>
}

// -----

// The minimum vector learning rate may not exceed its peak.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage minimum learning rates must be in [0, peak]}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, min_lr_vector = 1.5e-3>
}

// -----

// A negative minimum learning rate is rejected.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage minimum learning rates must be in [0, peak]}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, min_lr_matrix = -1.0e-5>
}

// -----

// Weight decay may be zero but not negative.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage weight_decay must be non-negative}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, weight_decay = -0.1>
}

// -----

// The clip threshold must be positive.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage clip must be positive}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, clip = 0.0>
}

// -----

// beta1 must lie in [0, 1).
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage beta1 and beta2 must be in [0, 1)}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, beta1 = 1.0>
}

// -----

// beta2 must lie in [0, 1).
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage beta1 and beta2 must be in [0, 1)}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, beta2 = -0.5>
}

// -----

// The AdamW epsilon must be positive.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{stage adam_eps must be positive}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, adam_eps = 0.0>
}

// -----

// An unknown key is a parse error.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{duplicate or unknown struct parameter name: momentum}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, momentum = 0.9>
}

// -----

// steps has no default.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{struct is missing required parameter: steps}}
  tele.stage @s on @m <batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// An unknown decay keyword is a parse error.
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+2 {{expected one of [cosine, linear, constant] for learning-rate decay after warmup, got: exponential}}
  // expected-error @+1 {{failed to parse Tele_StageConfigAttr parameter 'decay'}}
  tele.stage @s on @m <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, decay = exponential>
}
