// RUN: tele-opt %s --tele-expand-model="stage=s1" | FileCheck %s
// RUN: tele-opt %s --tele-expand-model="stage=s1 model=small batch=7" | FileCheck %s
// RUN: tele-opt %s --tele-expand-model="stage=s0 dtype=f64" | FileCheck %s --check-prefix=S0
// RUN: not tele-opt %s --tele-expand-model="stage=s9" 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not tele-opt %s --tele-expand-model="stage=s0 dtype=bf16" 2>&1 | FileCheck %s --check-prefix=DTYPE

// tele-expand-model with stage=: the stage's model is expanded at the
// stage's batch size; model= and batch= are overridden (second RUN line).

// @s1 trains @wide at batch 3: only @wide_loss, over [3, 4] token batches.
// CHECK-NOT: func.func @small_loss
// CHECK-LABEL: func.func @wide_loss(
// CHECK-SAME: %[[TOK:[^:]+]]: tensor<3x4xi32>, %[[TGT:[^:]+]]: tensor<3x4xi32>) -> tensor<f32>
// CHECK: tele.embed %{{.+}}, %[[TOK]] : tensor<16x12xf32>, tensor<3x4xi32> -> tensor<3x4x12xf32>
// CHECK: tele.cross_entropy %{{.+}}, %[[TGT]] : tensor<3x4x16xf32>, tensor<3x4xi32> -> tensor<f32>
// CHECK-NOT: func.func

// @s0 trains @small at batch 5; dtype= still applies.
// S0-NOT: func.func @wide_loss
// S0-LABEL: func.func @small_loss(
// S0-SAME: tensor<5x4xi32>, %{{[^:]+}}: tensor<5x4xi32>) -> tensor<f64>
// S0: tele.embed {{.+}} : tensor<16x8xf64>, tensor<5x4xi32> -> tensor<5x4x8xf64>
// S0-NOT: func.func

// stage= must name a tele.stage of some plan.
// MISSING: error: tele-expand-model: no tele.stage named @s9

// The dtype is checked first.
// DTYPE: error: tele-expand-model: unsupported dtype 'bf16' (expected f32 or f64)

tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @small <steps = 10, batch = 5, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @wide {transition_steps = 5}
  tele.stage @s1 on @wide <steps = 10, batch = 3, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
