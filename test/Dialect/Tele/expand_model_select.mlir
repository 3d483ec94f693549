// RUN: tele-opt %s --tele-expand-model="model=wide" | FileCheck %s
// RUN: tele-opt %s --tele-expand-model="model=small batch=1 dtype=f64" | FileCheck %s --check-prefix=SMALL

// tele-expand-model with model=: only the named model is expanded.

// Selecting @wide leaves @small unexpanded.
// CHECK-NOT: func.func @small_loss
// CHECK-LABEL: func.func @wide_loss
// CHECK-SAME: (%{{[^:]+}}: tensor<2x4xi32>, %{{[^:]+}}: tensor<2x4xi32>) -> tensor<f32>
// CHECK-SAME: tele.model_config = #tele.config<vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16
// CHECK: tele.param "model.layers.0.self_attn.q_proj.weight" : tensor<12x12xf32>
// CHECK: tele.param "model.layers.0.mlp.down_proj.weight" : tensor<12x16xf32>
// CHECK-NOT: func.func @small_loss

// Selecting @small, with batch and dtype options alongside.
// SMALL-NOT: func.func @wide_loss
// SMALL-LABEL: func.func @small_loss
// SMALL-SAME: (%{{[^:]+}}: tensor<1x4xi32>, %{{[^:]+}}: tensor<1x4xi32>) -> tensor<f64>
// SMALL: tele.param "model.layers.0.self_attn.q_proj.weight" : tensor<8x8xf64>
// SMALL-NOT: func.func @wide_loss

tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>
