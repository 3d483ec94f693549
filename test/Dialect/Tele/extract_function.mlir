// RUN: tele-opt %s -split-input-file --tele-extract-function | FileCheck %s
// RUN: tele-opt %s -split-input-file --tele-extract-function="function=eval" | FileCheck %s --check-prefix=EVAL

// tele-extract-function keeps one function, by default the only @*_step,
// and the module's declarations; every other function is erased.

// CHECK: tele.model @tiny
// CHECK-NOT: func.func @tiny_loss
// CHECK-LABEL: func.func @tiny_step(
// CHECK-NOT: func.func @eval
// EVAL-NOT: func.func @tiny_step
// EVAL-LABEL: func.func @eval(
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
func.func @tiny_loss() { return }
func.func @tiny_step() { return }
func.func @eval() { return }
