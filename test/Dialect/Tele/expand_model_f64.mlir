// RUN: tele-opt %s --tele-expand-model="dtype=f64 batch=3" | FileCheck %s

// tele-expand-model with dtype=f64: parameters, activations and the loss are
// f64; tokens stay i32. batch=3 sets the leading dimension.

// CHECK-LABEL: func.func @tiny_loss
// CHECK-SAME: (%[[TOK:[^:]+]]: tensor<3x4xi32>, %[[TGT:[^:]+]]: tensor<3x4xi32>) -> tensor<f64>
// CHECK: tele.param "model.embed_tokens.weight" {group = #tele.group<vector>} : tensor<16x8xf64>
// CHECK: tele.embed %{{.+}}, %[[TOK]] : tensor<16x8xf64>, tensor<3x4xi32> -> tensor<3x4x8xf64>
// CHECK: tele.param "model.layers.0.input_layernorm.weight" {{.+}} : tensor<8xf64>
// CHECK: tele.rms_norm {{.+}} : tensor<3x4x8xf64>, tensor<8xf64>
// CHECK: tele.param "model.layers.0.mlp.gate_proj.weight" : tensor<12x8xf64>
// CHECK: tele.swiglu {{.+}} : tensor<3x4x12xf64>
// CHECK: tele.param "lm_head.weight" : tensor<16x8xf64>
// CHECK: %[[LOSS:.+]] = tele.cross_entropy %{{.+}}, %[[TGT]] : tensor<3x4x16xf64>, tensor<3x4xi32> -> tensor<f64>
// CHECK: return %[[LOSS]] : tensor<f64>
// CHECK-NOT: f32
tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
