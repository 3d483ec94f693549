// RUN: tele-opt %s -split-input-file | tele-opt -split-input-file | FileCheck %s
// RUN: tele-opt %s -split-input-file --mlir-print-op-generic | tele-opt -split-input-file | FileCheck %s

// Round trip of tele.model and its #tele.config attribute: required shape
// fields are always printed, float fields only when they differ from their
// defaults (eps 1e-5, rope_theta 1e4, alpha_out 1.0, init_std 0.02).

// CHECK-LABEL: tele.model @defaults
// CHECK-SAME: <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
// CHECK-NOT: eps
tele.model @defaults <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>

// -----

// Defaults written out explicitly are elided on printing.
// CHECK-LABEL: tele.model @explicit_defaults
// CHECK-SAME: <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
// CHECK-NOT: rope_theta
tele.model @explicit_defaults <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, eps = 1.0e-5, rope_theta = 1.0e4, alpha_out = 1.0, init_std = 0.02>

// -----

// Every field set; keys may come in any order and print in declaration order.
// CHECK-LABEL: tele.model @all_fields
// CHECK-SAME: <vocab = 260, hidden = 64, heads = 4, head_dim = 16, ffn = 172, layers = 2, seq_len = 64,
// CHECK-SAME: eps = 9.9999999999999995E-7, rope_theta = 5.000000e+05, alpha_out = 3.125000e-02, init_std = 1.000000e-02>
tele.model @all_fields <seq_len = 64, layers = 2, ffn = 172, head_dim = 16, heads = 4, hidden = 64, vocab = 260, init_std = 0.01, alpha_out = 0.03125, rope_theta = 5.0e5, eps = 1.0e-6>

// -----

// One float field alone.
// CHECK-LABEL: tele.model @alpha_only
// CHECK-SAME: seq_len = 4, alpha_out = 2.500000e-02>
tele.model @alpha_only <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, alpha_out = 0.025>

// -----

// The Tele-FLM 52B shape (its published config) is representable.
// CHECK-LABEL: tele.model @flm52b
// CHECK-SAME: <vocab = 80000, hidden = 8192, heads = 64, head_dim = 128, ffn = 21824, layers = 64, seq_len = 4096, alpha_out = 3.125000e-02>
tele.model @flm52b <vocab = 80000, hidden = 8192, heads = 64, head_dim = 128, ffn = 21824, layers = 64, seq_len = 4096, alpha_out = 0.03125>

// -----

// Discardable attributes survive.
// CHECK-LABEL: tele.model @annotated
// CHECK-SAME: {note = "seed model"}
tele.model @annotated <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4> {note = "seed model"}

// -----

// The config attribute also round-trips on its own.
// CHECK-LABEL: func.func private @config_holder
// CHECK-SAME: tele.model_config = #tele.config<vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, init_std = 5.000000e-02>
func.func private @config_holder() attributes {tele.model_config = #tele.config<vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, init_std = 0.05>}

