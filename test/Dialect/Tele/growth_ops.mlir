// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s
// RUN: tele-opt %s -split-input-file --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trip of the growth ops tele.grow.width and tele.grow.depth with every
// option; options equal to their defaults (schedule joint, init_std 0.02,
// moment_init zero, metric euclidean, select smallest) are elided in the
// custom form and present in the generic form.

// A width growth with only its required option.
// CHECK-LABEL: tele.plan @width_defaults
// CHECK: tele.grow.width @small -> @wide {transition_steps = 20 : i64}
// CHECK-NEXT: tele.stage @s1 on @wide
// GENERIC-LABEL: sym_name = "width_defaults"
// GENERIC: "tele.grow.width"() <{init_std = 2.000000e-02 : f64, moment_init = #tele.moment_init<zero>, schedule = #tele.schedule<joint>, source = @small, target = @wide, transition_steps = 20 : i64}>
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>
tele.plan @width_defaults {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @wide {transition_steps = 20}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A width growth with every option away from its default.
// CHECK-LABEL: tele.plan @width_options
// CHECK: tele.grow.width @small -> @wide {init_std = 1.000000e-02 : f64, moment_init = #tele.moment_init<mean>, schedule = #tele.schedule<sequential>, transition_steps = 50 : i64}
// GENERIC-LABEL: sym_name = "width_options"
// GENERIC: "tele.grow.width"() <{init_std = 1.000000e-02 : f64, moment_init = #tele.moment_init<mean>, schedule = #tele.schedule<sequential>, source = @small, target = @wide, transition_steps = 50 : i64}>
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>
tele.plan @width_options {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @wide {transition_steps = 50, schedule = #tele.schedule<sequential>, init_std = 0.01, moment_init = #tele.moment_init<mean>}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// Options written out at their defaults are elided.
// CHECK-LABEL: tele.plan @width_explicit_defaults
// CHECK: tele.grow.width @small -> @wide {transition_steps = 5 : i64}
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>
tele.plan @width_explicit_defaults {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @wide {transition_steps = 5, schedule = #tele.schedule<joint>, init_std = 0.02, moment_init = #tele.moment_init<zero>}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A depth growth with its defaults.
// CHECK-LABEL: tele.plan @depth_defaults
// CHECK: tele.grow.depth @small -> @deep {transition_steps = 30 : i64}
// GENERIC-LABEL: sym_name = "depth_defaults"
// GENERIC: "tele.grow.depth"() <{metric = #tele.metric<euclidean>, moment_init = #tele.moment_init<zero>, select = #tele.select<smallest>, source = @small, target = @deep, transition_steps = 30 : i64}>
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 4, seq_len = 4>
tele.plan @depth_defaults {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.depth @small -> @deep {transition_steps = 30}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A depth growth with cosine distance, copying the largest-distance layers,
// seeding new second moments with the old mean.
// CHECK-LABEL: tele.plan @depth_options
// CHECK: tele.grow.depth @small -> @deep {metric = #tele.metric<cosine>, moment_init = #tele.moment_init<mean>, select = #tele.select<largest>, transition_steps = 30 : i64}
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 5, seq_len = 4>
tele.plan @depth_options {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.depth @small -> @deep {transition_steps = 30, metric = #tele.metric<cosine>, select = #tele.select<largest>, moment_init = #tele.moment_init<mean>}
  tele.stage @s1 on @deep <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// The worked example of docs/growth.md: width then depth back to back (their
// models chain), then a stage on the final model with a re-warmup.
// CHECK-LABEL: tele.plan @worked_example
// CHECK-NEXT: tele.stage @s0 on @small
// CHECK-NEXT: tele.grow.width @small -> @wide {transition_steps = 10 : i64}
// CHECK-NEXT: tele.grow.depth @wide -> @large {transition_steps = 10 : i64}
// CHECK-NEXT: tele.stage @s1 on @large
// CHECK-SAME: warmup = 5
tele.model @small <vocab = 32, hidden = 64, heads = 4, head_dim = 16, ffn = 172, layers = 2, seq_len = 8>
tele.model @wide <vocab = 32, hidden = 96, heads = 6, head_dim = 16, ffn = 256, layers = 2, seq_len = 8>
tele.model @large <vocab = 32, hidden = 96, heads = 6, head_dim = 16, ffn = 256, layers = 4, seq_len = 8>
tele.plan @worked_example {
  tele.stage @s0 on @small <steps = 100, batch = 2, lr_matrix = 4.0e-4, lr_vector = 4.0e-4>
  tele.grow.width @small -> @wide {transition_steps = 10}
  tele.grow.depth @wide -> @large {transition_steps = 10}
  tele.stage @s1 on @large <steps = 100, batch = 2, lr_matrix = 2.6e-4, lr_vector = 4.0e-4, warmup = 5>
}

// -----

// Only the FFN grows: a valid width growth.
// CHECK-LABEL: tele.plan @ffn_only
// CHECK: tele.grow.width @small -> @fat
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @fat <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 24, layers = 1, seq_len = 4>
tele.plan @ffn_only {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @fat {transition_steps = 10}
  tele.stage @s1 on @fat <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}

// -----

// A depth growth with its chosen source layers: copy_layers is sorted and
// may repeat a layer (2 -> 5 layers: two copies of layer 0, one of layer 1).
// CHECK-LABEL: tele.plan @depth_copy_layers
// CHECK: tele.grow.depth @small -> @deeper {copy_layers = array<i64: 0, 0, 1>, transition_steps = 30 : i64}
// GENERIC-LABEL: sym_name = "depth_copy_layers"
// GENERIC: "tele.grow.depth"() <{copy_layers = array<i64: 0, 0, 1>, metric = #tele.metric<euclidean>, moment_init = #tele.moment_init<zero>, select = #tele.select<smallest>, source = @small, target = @deeper, transition_steps = 30 : i64}>
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deeper <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 5, seq_len = 4>
tele.plan @depth_copy_layers {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.depth @small -> @deeper {transition_steps = 30, copy_layers = array<i64: 0, 0, 1>}
  tele.stage @s1 on @deeper <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
