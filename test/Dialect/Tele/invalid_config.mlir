// RUN: tele-opt %s -split-input-file -verify-diagnostics

// Verifier of #tele.config, the architecture of a model: every diagnostic of
// ModelConfigAttr::verify and of its struct parser.

// hidden must equal heads x head_dim.
// expected-error @+1 {{model hidden (96) must equal heads x head_dim (4 x 16 = 64)}}
tele.model @m <vocab = 16, hidden = 96, heads = 4, head_dim = 16, ffn = 12, layers = 1, seq_len = 4>

// -----

// heads x head_dim is computed with an overflow check: 2^62 + 1 heads of 4
// wrap around to 4 in int64, which must not pass for hidden = 4.
// expected-error @+1 {{model heads x head_dim (4611686018427387905 x 4) overflows int64}}
tele.model @m <vocab = 16, hidden = 4, heads = 4611686018427387905, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>

// -----

// The parameter count (and its size in fp64 bytes) must fit int64: an
// impossible model, not a large one.
// expected-error @+1 {{model size overflows int64 (vocab 1000000000000000000, hidden 8, ffn 12, layers 1)}}
tele.model @m <vocab = 1000000000000000000, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>

// -----

// expected-error @+1 {{model size overflows int64 (vocab 16, hidden 2000000000, ffn 12, layers 1)}}
tele.model @m <vocab = 16, hidden = 2000000000, heads = 1000000000, head_dim = 2, ffn = 12, layers = 1, seq_len = 4>

// -----

// The vocabulary must be positive.
// expected-error @+1 {{model vocab must be positive, got 0}}
tele.model @m <vocab = 0, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>

// -----

// The number of heads must be positive (checked before hidden = heads x head_dim).
// expected-error @+1 {{model heads must be positive, got -2}}
tele.model @m <vocab = 16, hidden = 8, heads = -2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>

// -----

// hidden must be positive.
// expected-error @+1 {{model hidden must be positive, got 0}}
tele.model @m <vocab = 16, hidden = 0, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>

// -----

// head_dim must be positive.
// expected-error @+1 {{model head_dim must be positive, got 0}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 0, ffn = 12, layers = 1, seq_len = 4>

// -----

// The FFN width must be positive.
// expected-error @+1 {{model ffn must be positive, got 0}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 0, layers = 1, seq_len = 4>

// -----

// A model has at least one layer.
// expected-error @+1 {{model layers must be positive, got 0}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 0, seq_len = 4>

// -----

// The sequence length must be positive.
// expected-error @+1 {{model seq_len must be positive, got -1}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = -1>

// -----

// RoPE rotates pairs of features: head_dim must be even.
// expected-error @+1 {{model head_dim must be even for RoPE, got 3}}
tele.model @m <vocab = 16, hidden = 6, heads = 2, head_dim = 3, ffn = 12, layers = 1, seq_len = 4>

// -----

// The RMSNorm epsilon must be positive.
// expected-error @+1 {{model eps must be positive}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, eps = 0.0>

// -----

// A negative RMSNorm epsilon is rejected too.
// expected-error @+1 {{model eps must be positive}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, eps = -1.0e-5>

// -----

// The RoPE base must be positive.
// expected-error @+1 {{model rope_theta must be positive}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, rope_theta = -1.0e4>

// -----

// The logit multiplier must be positive.
// expected-error @+1 {{model alpha_out must be positive}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, alpha_out = 0.0>

// -----

// The initialisation standard deviation must be positive.
// expected-error @+1 {{model init_std must be positive}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, init_std = -0.02>

// -----

// An unknown key is a parse error.
// expected-error @+1 {{duplicate or unknown struct parameter name: dropout}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, dropout = 0.1>

// -----

// A key given twice is a parse error.
// expected-error @+1 {{duplicate or unknown struct parameter name: layers}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, layers = 2>

// -----

// Shapes have no defaults: a missing one is a parse error.
// expected-error @+1 {{struct is missing required parameter: seq_len}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1>

// -----

// Float fields need a float literal; an integer is a parse error.
// expected-error @+3 {{unexpected decimal integer literal for a floating point value}}
// expected-note @+2 {{add a trailing dot to make the literal a float}}
// expected-error @+1 {{failed to parse Tele_ModelConfigAttr parameter 'alpha_out'}}
tele.model @m <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4, alpha_out = 1>

// -----

// The config attribute is verified wherever it appears, not only on tele.model.
// expected-error @+1 {{model hidden (8) must equal heads x head_dim (4 x 4 = 16)}}
func.func @f() attributes {tele.model_config = #tele.config<vocab = 16, hidden = 8, heads = 4, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>}
