// RUN: tele-opt %s --tele-layer-distances="metric=cosine batch=2" | FileCheck %s
// RUN: tele-opt %s --tele-layer-distances="model=small" | FileCheck %s --check-prefix=EUCLID
// RUN: tele-opt %s --tele-layer-distances="model=deep batch=3 dtype=f64" | FileCheck %s --check-prefix=F64

// tele-layer-distances adds @<model>_layer_distances(%tokens) with one
// result per layer: tele.stream_distance between the layer's input and
// output residual stream. Depth growth copies the layers with the smallest
// (or largest) distance. The default metric is euclidean (EUCLID), model=
// picks one model, dtype= and batch= shape the function (F64).

// The models are kept.
// CHECK: tele.model @small
// CHECK: tele.model @deep

// Two layers: two distances, each between consecutive residual streams.
// CHECK-LABEL: func.func @small_layer_distances(
// CHECK-SAME: %[[TOK:[^:]+]]: tensor<2x4xi32>) -> (tensor<f32>, tensor<f32>)
// CHECK-SAME: attributes {tele.model_config = #tele.config<vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>}
// CHECK: %[[X0:.+]] = tele.embed %{{.+}}, %[[TOK]] : tensor<16x8xf32>, tensor<2x4xi32> -> tensor<2x4x8xf32>
// Layer 0: input X0, output X1 (after both residual adds).
// CHECK: %[[H0:.+]] = tele.add %[[X0]],
// CHECK: %[[X1:.+]] = tele.add %[[H0]],
// CHECK-NEXT: %[[D0:.+]] = tele.stream_distance %[[X0]], %[[X1]] {metric = #tele.metric<cosine>} : tensor<2x4x8xf32> -> tensor<f32>
// Layer 1 reads the output of layer 0.
// CHECK-NEXT: tele.param "model.layers.1.input_layernorm.weight"
// CHECK-NEXT: tele.rms_norm %[[X1]],
// CHECK: %[[H1:.+]] = tele.add %[[X1]],
// CHECK: %[[X2:.+]] = tele.add %[[H1]],
// CHECK-NEXT: %[[D1:.+]] = tele.stream_distance %[[X1]], %[[X2]] {metric = #tele.metric<cosine>}
// No final norm, LM head or loss: only the residual stream matters.
// CHECK-NOT: model.norm.weight
// CHECK-NOT: lm_head
// CHECK-NOT: tele.cross_entropy
// CHECK-NEXT: return %[[D0]], %[[D1]] : tensor<f32>, tensor<f32>

// Three layers: three distances.
// CHECK-LABEL: func.func @deep_layer_distances(
// CHECK-SAME: tensor<2x4xi32>) -> (tensor<f32>, tensor<f32>, tensor<f32>)
// CHECK-COUNT-3: tele.stream_distance {{.+}} {metric = #tele.metric<cosine>}
// CHECK-NOT: tele.stream_distance
// CHECK: return

// The metric defaults to euclidean; model= skips the other models.
// EUCLID-LABEL: func.func @small_layer_distances(
// EUCLID-COUNT-2: tele.stream_distance {{.+}} {metric = #tele.metric<euclidean>} : tensor<2x4x8xf32> -> tensor<f32>
// EUCLID-NOT: func.func @deep_layer_distances

// F64-NOT: func.func @small_layer_distances
// F64-LABEL: func.func @deep_layer_distances(
// F64-SAME: tensor<3x4xi32>) -> (tensor<f64>, tensor<f64>, tensor<f64>)
// F64-COUNT-3: tele.stream_distance {{.+}} {metric = #tele.metric<euclidean>} : tensor<3x4x8xf64> -> tensor<f64>

tele.model @small <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 4>
tele.model @deep <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 3, seq_len = 4>
