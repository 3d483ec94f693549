// RUN: not tele-opt %s --tele-lower-growth="batch=0" 2>&1 | FileCheck %s
// RUN: not tele-opt %s --tele-lower-growth="batch=-1" 2>&1 | FileCheck %s

// tele-lower-growth does not check its batch option, unlike
// tele-expand-model and tele-layer-distances: batch=0 builds a loss over
// tensor<0x4xi32> and batch=-1 prints a function over `tensor<-1x4xi32>`,
// which is not valid IR (it does not parse back), and exits 0.

// CHECK: error: tele-lower-growth: batch must be positive

tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @fat <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 24, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @fat {transition_steps = 20}
  tele.stage @s1 on @fat <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
