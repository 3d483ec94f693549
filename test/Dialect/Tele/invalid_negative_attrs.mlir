// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Negative values of I64Attr fields. ODS getters of I64Attr return
// uint64_t, so verifiers must read these attributes as signed: negative
// counts are rejected and reported as written (not as 2^64 - n).

// A negative width transition is rejected like zero.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @big <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.width' op transition_steps must be positive, got -5}}
  tele.grow.width @small -> @big {transition_steps = -5}
  tele.stage @s1 on @big <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A negative depth transition is rejected like zero.
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  // expected-error @+1 {{'tele.grow.depth' op transition_steps must be positive, got -1}}
  tele.grow.depth @small -> @deep {transition_steps = -1}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A negative schedule length is rejected like zero.
func.func @total(%step: tensor<i64>) -> tensor<f32> {
  // expected-error @+1 {{'tele.lr_schedule' op total must be positive, got -1}}
  %lr = tele.lr_schedule %step {peak = 1.0e-3 : f64, min = 0.0 : f64, warmup = 0 : i64, total = -1 : i64, decay = #tele.decay<cosine>} : tensor<i64> -> tensor<f32>
  return %lr : tensor<f32>
}

// -----

// A negative warmup is reported as the number written.
func.func @warmup(%step: tensor<i64>) -> tensor<f32> {
  // expected-error @+1 {{'tele.lr_schedule' op warmup must be in [0, total], got -1}}
  %lr = tele.lr_schedule %step {peak = 1.0e-3 : f64, min = 0.0 : f64, warmup = -1 : i64, total = 10 : i64, decay = #tele.decay<cosine>} : tensor<i64> -> tensor<f32>
  return %lr : tensor<f32>
}

// -----

// A negative kept count is reported as the number written.
func.func @kept(%c: tensor<f32>) -> tensor<8xf32> {
  // expected-error @+1 {{'tele.mask_vector' op kept (-1) must be in [0, 8]}}
  %m = tele.mask_vector %c {kept = -1} : tensor<f32> -> tensor<8xf32>
  return %m : tensor<8xf32>
}
