// RUN: not tele-opt %s --tele-layer-distances="metric=manhattan" 2>&1 | FileCheck %s --check-prefix=METRIC
// RUN: not tele-opt %s --tele-layer-distances="dtype=f16" 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not tele-opt %s --tele-layer-distances="batch=0" 2>&1 | FileCheck %s --check-prefix=BATCH
// RUN: not tele-opt %s --tele-layer-distances="batch=-2" 2>&1 | FileCheck %s --check-prefix=BATCH
// RUN: not tele-opt %s --tele-layer-distances="model=huge" 2>&1 | FileCheck %s --check-prefix=MODEL
// RUN: not tele-opt %s --tele-layer-distances --tele-layer-distances 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: not tele-opt %s --tele-layer-distances="metric=cosine layers=2" 2>&1 | FileCheck %s --check-prefix=OPTION

// Option errors of tele-layer-distances, reported on the module (FileCheck on
// stderr), and a name clash reported at the model. The batch value itself is
// not checked: it is printed as a character (pass_option_values.mlir).

// An unknown metric, dtype or a non-positive batch: one "bad options" error
// naming the offending values.
// METRIC: error: tele-layer-distances: bad options (dtype 'f32', metric 'manhattan', batch
// DTYPE: error: tele-layer-distances: bad options (dtype 'f16', metric 'euclidean', batch
// BATCH: error: tele-layer-distances: bad options (dtype 'f32', metric 'euclidean', batch

// model= must name a tele.model.
// MODEL: error: tele-layer-distances: no tele.model named @huge

// Running the pass twice: the function exists already.
// TWICE: layer_distances_errors.mlir:[[@LINE+2]]:1: error: tele-layer-distances: @small_layer_distances already exists
// TWICE-NOT: error:
tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>

// Unknown options are rejected by the option parser.
// OPTION: no such option layers
