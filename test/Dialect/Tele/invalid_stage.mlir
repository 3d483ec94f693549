// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Symbol uses of tele.stage (StageOp::verifySymbolUses): the stage's model
// must name a tele.model next to the plan.

// The model must be defined.
tele.plan @p {
  // expected-error @+1 {{'tele.stage' op model @missing is not defined}}
  tele.stage @s0 on @missing <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A function is not a model.
func.func private @tiny()
tele.plan @p {
  // expected-error @+1 {{'tele.stage' op model @tiny is not a tele.model}}
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Nor is a plan.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @other {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
tele.plan @p {
  // expected-error @+1 {{'tele.stage' op model @other is not a tele.model}}
  tele.stage @s0 on @other <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Models are looked up next to the plan, not among the plan's stages.
tele.plan @p {
  // expected-error @+1 {{'tele.stage' op model @s0 is not defined}}
  tele.stage @s0 on @s0 <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The model reference is a flat symbol.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{invalid kind of attribute specified}}
  tele.stage @s0 on "tiny" <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The stage config is required.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{expected '<'}}
  tele.stage @s0 on @tiny
}

// -----

// The data file is a string.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{attribute 'data' failed to satisfy constraint: string attribute}}
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3> {data = 3 : i64}
}

// -----

// The step's tensors (here the logits, batch x seq_len x vocab) must have
// element and byte counts that fit int64.
tele.model @long <vocab = 260, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 1000000000>
tele.plan @p {
  // expected-error @+1 {{'tele.stage' op batch 1000000000000 of model @long has tensors whose size overflows int64}}
  tele.stage @s0 on @long <steps = 10, batch = 1000000000000, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
