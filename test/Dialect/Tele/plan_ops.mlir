// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s
// RUN: tele-opt %s -split-input-file --mlir-print-op-generic | tele-opt -split-input-file | FileCheck %s

// Round trip of tele.plan and tele.stage with its #tele.stage_config:
// required fields (steps, batch, peak learning rates) are always printed,
// optional ones only when they differ from their defaults.

// One stage with only the required fields.
// CHECK-LABEL: tele.plan @single
// CHECK-NEXT: tele.stage @s0 on @tiny <steps = 100, batch = 8, lr_matrix = 3.000000e-03, lr_vector = 2.000000e-03>
// CHECK-NEXT: }
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @single {
  tele.stage @s0 on @tiny <steps = 100, batch = 8, lr_matrix = 3.0e-3, lr_vector = 2.0e-3>
}

// -----

// Every stage_config field set to a non-default value, plus a data file.
// CHECK-LABEL: tele.plan @all_fields
// CHECK-NEXT: tele.stage @s0 on @tiny
// CHECK-SAME: <steps = 200, batch = 4, lr_matrix = 4.000000e-04, lr_vector = 3.000000e-04,
// CHECK-SAME: min_lr_matrix = 4.000000e-05, min_lr_vector = 3.000000e-05, warmup = 20, decay = linear,
// CHECK-SAME: weight_decay = 5.000000e-02, clip = 5.000000e-01, beta1 = 8.000000e-01, beta2 = 0.99899999999999999, adam_eps = 9.9999999999999995E-7>
// CHECK-SAME: {data = "data/tokens.bin"}
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @all_fields {
  tele.stage @s0 on @tiny <steps = 200, batch = 4, lr_matrix = 4.0e-4, lr_vector = 3.0e-4, min_lr_matrix = 4.0e-5, min_lr_vector = 3.0e-5, warmup = 20, decay = linear, weight_decay = 0.05, clip = 0.5, beta1 = 0.8, beta2 = 0.999, adam_eps = 1.0e-6> {data = "data/tokens.bin"}
}

// -----

// Defaults written out (warmup 0, cosine, wd 0.1, clip 1, betas 0.9/0.95,
// eps 1e-8, minimum LRs 0) are elided.
// CHECK-LABEL: tele.plan @explicit_defaults
// CHECK-NEXT: tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.000000e-03, lr_vector = 1.000000e-03>
// CHECK-NEXT: }
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @explicit_defaults {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, min_lr_matrix = 0.0, min_lr_vector = 0.0, warmup = 0, decay = cosine, weight_decay = 0.1, clip = 1.0, beta1 = 0.9, beta2 = 0.95, adam_eps = 1.0e-8>
}

// -----

// Zero weight decay is not the default and is printed; constant decay too.
// CHECK-LABEL: tele.plan @no_decay
// CHECK-NEXT: tele.stage @sft on @tiny <steps = 10, batch = 2, lr_matrix = 1.000000e-03, lr_vector = 1.000000e-03, decay = constant, weight_decay = 0.000000e+00>
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @no_decay {
  tele.stage @sft on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, decay = constant, weight_decay = 0.0>
}

// -----

// Several stages of one model in a row, and several plans in one module.
// CHECK-LABEL: tele.plan @pretrain
// CHECK-NEXT: tele.stage @s0 on @tiny <steps = 10,
// CHECK-NEXT: tele.stage @s1 on @tiny <steps = 20,
// CHECK-SAME: warmup = 5
// CHECK-NEXT: }
// CHECK-LABEL: tele.plan @again
// CHECK-NEXT: tele.stage @s0 on @tiny <steps = 30,
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @pretrain {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.stage @s1 on @tiny <steps = 20, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3, warmup = 5>
}
tele.plan @again {
  tele.stage @s0 on @tiny <steps = 30, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A plan may carry attributes (printed after the `attributes` keyword).
// CHECK-LABEL: tele.plan @tagged attributes {owner = "lead"}
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @tagged attributes {owner = "lead"} {
  tele.stage @s0 on @tiny <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
