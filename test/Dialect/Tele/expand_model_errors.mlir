// RUN: not tele-opt %s --tele-expand-model="dtype=bf16" 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not tele-opt %s --tele-expand-model="model=huge" 2>&1 | FileCheck %s --check-prefix=MODEL
// RUN: not tele-opt %s --tele-expand-model="batch=0" 2>&1 | FileCheck %s --check-prefix=BATCH
// RUN: not tele-opt %s --tele-expand-model="batch=-4" 2>&1 | FileCheck %s --check-prefix=BATCH
// RUN: not tele-opt %s --tele-expand-model="layers=2" 2>&1 | FileCheck %s --check-prefix=OPTION

// Option errors of tele-expand-model, reported on the module (no source
// line, hence FileCheck on stderr rather than -verify-diagnostics).

// Only f32 and f64 graphs are built.
// DTYPE: error: tele-expand-model: unsupported dtype 'bf16' (expected f32 or f64)

// `model=` must name a tele.model of the module.
// MODEL: error: tele-expand-model: no tele.model named @huge

// The batch must be positive.
// BATCH: error: tele-expand-model: batch must be positive

// Unknown options are rejected by the option parser.
// OPTION: no such option layers

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
