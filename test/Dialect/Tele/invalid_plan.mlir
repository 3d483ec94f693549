// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Structure of a tele.plan (PlanOp::verifyRegions and the traits of its ops):
// a plan begins with a stage, each growth continues from the model being
// trained, each stage trains the current model and a plan ends with a stage.

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
// An empty plan trains nothing.
// expected-error @+1 {{'tele.plan' op must contain at least one tele.stage}}
tele.plan @p {
}

// -----

// A plan may not begin with a growth: there is no model to grow yet.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-error @+1 {{'tele.grow.width' op must follow a tele.stage: a plan begins by training a model}}
  tele.grow.width @tiny -> @wide {transition_steps = 10}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A plan may not end with a growth: the grown model would never be trained.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op must be followed by a tele.stage that trains the grown model}}
  tele.grow.depth @tiny -> @deep {transition_steps = 10}
}

// -----

// A growth must start from the model trained by the stage before it.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @other <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op grows @other but the plan's model at this point is @tiny}}
  tele.grow.width @other -> @wide {transition_steps = 10}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Two growth ops in a row chain: the second must grow the first one's target.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @tiny -> @wide {transition_steps = 10}
  // expected-error @+1 {{'tele.grow.depth' op grows @tiny but the plan's model at this point is @wide}}
  tele.grow.depth @tiny -> @deep {transition_steps = 10}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A stage may not switch to another model without a growth op.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.stage' op trains @wide but the plan's model at this point is @tiny; insert a growth op between them}}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// After a growth, the next stage must train the grown model.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @tiny -> @wide {transition_steps = 10}
  // expected-error @+1 {{'tele.stage' op trains @tiny but the plan's model at this point is @wide}}
  tele.stage @s1 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Only stages and growth ops may appear in a plan.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.model' op is not allowed in a tele.plan (only tele.stage and tele.grow.*)}}
  tele.model @inner <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
}

// -----

// Stage names are unique within a plan (the plan is a symbol table).
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  // expected-note @+1 {{see existing symbol definition here}}
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{redefinition of symbol named 's0'}}
  tele.stage @s0 on @tiny <steps = 20, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A stage lives in a plan.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
// expected-error @+1 {{'tele.stage' op expects parent op 'tele.plan'}}
tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>

// -----

// A growth op lives in a plan.
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
func.func @f() {
  // expected-error @+1 {{'tele.grow.depth' op expects parent op 'tele.plan'}}
  tele.grow.depth @tiny -> @deep {transition_steps = 10}
  return
}
