// RUN: tele-opt %s --mlir-print-op-generic | tele-opt | FileCheck %s
// RUN: tele-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Every tensor-level op in one function, taken through the generic form and
// back: the custom syntax, the generic syntax and the properties (attribute
// names, optional-operand segment sizes) agree for the whole op set.

// CHECK-LABEL: func.func @every_op
// CHECK-SAME: (%[[TOK:[^:]+]]: tensor<2x4xi32>, %[[STEP:[^:]+]]: tensor<i64>)
// CHECK: %[[EMB:.+]] = tele.param "model.embed_tokens.weight" {group = #tele.group<vector>} : tensor<16x8xf32>
// CHECK: %[[GAIN:.+]] = tele.param "model.norm.weight" {group = #tele.group<vector>, init = #tele.init<ones>} : tensor<8xf32>
// CHECK: %[[WQ:.+]] = tele.param "model.layers.0.self_attn.q_proj.weight" : tensor<8x8xf32>
// CHECK: %[[WUP:.+]] = tele.param "model.layers.0.mlp.up_proj.weight" : tensor<12x8xf32>
// CHECK: %[[WLM:.+]] = tele.param "lm_head.weight" : tensor<16x8xf32>
// CHECK: %[[C:.+]] = tele.mask_value "mask.hidden" : tensor<f32>
// CHECK: %[[MASK:.+]] = tele.mask_vector %[[C]] {kept = 6 : i64} : tensor<f32> -> tensor<8xf32>
// CHECK: %[[X:.+]] = tele.embed %[[EMB]], %[[TOK]]
// CHECK: %[[N0:.+]] = tele.rms_norm %[[X]], %[[GAIN]] {eps = 1.000000e-05 : f64}
// CHECK: %[[N1:.+]] = tele.rms_norm %[[X]], %[[GAIN]] mask %[[MASK]] {eps = 1.000000e-05 : f64}
// CHECK: %[[Q:.+]] = tele.linear %[[N1]], %[[WQ]]
// CHECK: %[[QR:.+]] = tele.rope %[[Q]] {head_dim = 4 : i64, theta = 1.000000e+04 : f64}
// CHECK: %[[QI:.+]] = tele.rope %[[QR]] {head_dim = 4 : i64, inverse, theta = 1.000000e+04 : f64}
// CHECK: %[[ATT:.+]] = tele.attention %[[QR]], %[[QI]], %[[N0]] {head_dim = 4 : i64}
// CHECK: %[[UP:.+]] = tele.linear %[[ATT]], %[[WUP]]
// CHECK: %[[SW:.+]] = tele.swiglu %[[UP]], %[[UP]]
// CHECK: %[[MM:.+]] = tele.mask_mul %[[ATT]], %[[MASK]]
// CHECK: %[[LE:.+]] = tele.lerp %[[X]], %[[MM]], %[[C]]
// CHECK: %[[RES:.+]] = tele.add %[[LE]], %[[ATT]]
// CHECK: %[[LOG:.+]] = tele.linear %[[RES]], %[[WLM]]
// CHECK: %[[SC:.+]] = tele.scale %[[LOG]] {factor = 5.000000e-01 : f64}
// CHECK: %[[LOSS:.+]] = tele.cross_entropy %[[SC]], %[[TOK]] :
// CHECK: %[[WLOSS:.+]] = tele.cross_entropy %[[SC]], %[[TOK]] mask %{{.+}} :
// CHECK: tele.cross_entropy_grad %[[SC]], %[[TOK]], %[[LOSS]] :
// CHECK: tele.cross_entropy_grad %[[SC]], %[[TOK]], %[[LOSS]] mask %{{.+}} :
// CHECK: tele.linear_grad_input %[[LOG]], %[[WLM]]
// CHECK: tele.linear_grad_weight %[[LOG]], %[[RES]]
// CHECK: tele.embed_grad %[[X]], %[[TOK]]
// CHECK: tele.rms_norm_grad %[[X]], %[[GAIN]], %[[X]] {eps
// CHECK: tele.rms_norm_grad %[[X]], %[[GAIN]], %[[X]] mask %[[MASK]] {eps
// CHECK: tele.attention_grad %[[QR]], %[[QI]], %[[N0]], %[[ATT]] {head_dim = 4 : i64}
// CHECK: tele.swiglu_grad %[[UP]], %[[UP]], %[[SW]]
// CHECK: tele.lerp_grad %[[X]], %[[C]]
// CHECK: %[[NORM:.+]] = tele.global_norm %[[GAIN]], %[[WQ]] : tensor<8xf32>, tensor<8x8xf32> -> tensor<f32>
// CHECK: %[[CLIP:.+]] = tele.clip_scale %[[NORM]] {max_norm = 1.000000e+00 : f64}
// CHECK: %[[LR:.+]] = tele.lr_schedule %[[STEP]] {decay = #tele.decay<cosine>
// CHECK: tele.adamw %[[GAIN]], %[[GAIN]], %[[GAIN]], %[[GAIN]], %[[LR]], %[[CLIP]], %[[STEP]]
// CHECK: tele.assign "model.norm.weight", %{{.+}} : tensor<8xf32>
// CHECK: return %[[WLOSS]]

// An absent optional operand (mask) is simply left out of the operand list.
// GENERIC-LABEL: "func.func"
// GENERIC: "tele.rms_norm"(%{{[^,]+}}, %{{[^,]+}}) <{eps = 1.000000e-05 : f64}> : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
// GENERIC: "tele.rms_norm"(%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}) <{eps = 1.000000e-05 : f64}> : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
// GENERIC: "tele.rope"(%{{.+}}) <{head_dim = 4 : i64, theta = 1.000000e+04 : f64}>
// GENERIC: "tele.rope"(%{{.+}}) <{head_dim = 4 : i64, inverse, theta = 1.000000e+04 : f64}>
// GENERIC: "tele.cross_entropy"(%{{[^,]+}}, %{{[^,]+}}) : (tensor<2x4x16xf32>, tensor<2x4xi32>) -> tensor<f32>
// GENERIC: "tele.cross_entropy"(%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}) : (tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<2x4xf32>) -> tensor<f32>
// GENERIC: "tele.cross_entropy_grad"(%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}) : (tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>) -> tensor<2x4x16xf32>
// GENERIC: "tele.cross_entropy_grad"(%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}) : (tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>, tensor<2x4xf32>) -> tensor<2x4x16xf32>
// GENERIC: "tele.rms_norm_grad"(%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}) <{eps = 1.000000e-05 : f64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}> : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>)
// GENERIC: "tele.rms_norm_grad"(%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}) <{eps = 1.000000e-05 : f64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>}> : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<2x4x8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>)
// GENERIC: "tele.assign"(%{{.+}}) <{name = "model.norm.weight"}> : (tensor<8xf32>) -> ()
func.func @every_op(%tokens: tensor<2x4xi32>, %step: tensor<i64>) -> tensor<f32> {
  // State.
  %emb = tele.param "model.embed_tokens.weight" {group = #tele.group<vector>} : tensor<16x8xf32>
  %gain = tele.param "model.norm.weight" {group = #tele.group<vector>, init = #tele.init<ones>} : tensor<8xf32>
  %wq = tele.param "model.layers.0.self_attn.q_proj.weight" : tensor<8x8xf32>
  %wup = tele.param "model.layers.0.mlp.up_proj.weight" : tensor<12x8xf32>
  %wlm = tele.param "lm_head.weight" : tensor<16x8xf32>
  %c = tele.mask_value "mask.hidden" : tensor<f32>
  %mask = tele.mask_vector %c {kept = 6} : tensor<f32> -> tensor<8xf32>
  // Forward.
  %x = tele.embed %emb, %tokens : tensor<16x8xf32>, tensor<2x4xi32> -> tensor<2x4x8xf32>
  %n0 = tele.rms_norm %x, %gain {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  %n1 = tele.rms_norm %x, %gain mask %mask {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %q = tele.linear %n1, %wq : tensor<2x4x8xf32>, tensor<8x8xf32> -> tensor<2x4x8xf32>
  %qr = tele.rope %q {head_dim = 4 : i64, theta = 1.0e4 : f64} : tensor<2x4x8xf32>
  %qi = tele.rope %qr {head_dim = 4 : i64, theta = 1.0e4 : f64, inverse} : tensor<2x4x8xf32>
  %att = tele.attention %qr, %qi, %n0 {head_dim = 4 : i64} : tensor<2x4x8xf32>
  %up = tele.linear %att, %wup : tensor<2x4x8xf32>, tensor<12x8xf32> -> tensor<2x4x12xf32>
  %sw = tele.swiglu %up, %up : tensor<2x4x12xf32>
  %mm = tele.mask_mul %att, %mask : tensor<2x4x8xf32>, tensor<8xf32>
  %le = tele.lerp %x, %mm, %c : tensor<2x4x8xf32>, tensor<f32>
  %res = tele.add %le, %att : tensor<2x4x8xf32>
  %logits = tele.linear %res, %wlm : tensor<2x4x8xf32>, tensor<16x8xf32> -> tensor<2x4x16xf32>
  %sc = tele.scale %logits {factor = 0.5 : f64} : tensor<2x4x16xf32>
  %w = tele.param "loss.weights" : tensor<2x4xf32>
  %loss = tele.cross_entropy %sc, %tokens : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
  %wloss = tele.cross_entropy %sc, %tokens mask %w : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<2x4xf32> -> tensor<f32>
  // Gradients.
  %dl0 = tele.cross_entropy_grad %sc, %tokens, %loss : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
  %dl1 = tele.cross_entropy_grad %sc, %tokens, %loss mask %w : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>, tensor<2x4xf32>
  %dres = tele.linear_grad_input %logits, %wlm : tensor<2x4x16xf32>, tensor<16x8xf32> -> tensor<2x4x8xf32>
  %dwlm = tele.linear_grad_weight %logits, %res : tensor<2x4x16xf32>, tensor<2x4x8xf32> -> tensor<16x8xf32>
  %demb = tele.embed_grad %x, %tokens : tensor<2x4x8xf32>, tensor<2x4xi32> -> tensor<16x8xf32>
  %dx0, %dg0 = tele.rms_norm_grad %x, %gain, %x {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>
  %dx1, %dg1 = tele.rms_norm_grad %x, %gain, %x mask %mask {eps = 1.0e-5 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %dq, %dk, %dv = tele.attention_grad %qr, %qi, %n0, %att {head_dim = 4 : i64} : tensor<2x4x8xf32>
  %dgate, %dup = tele.swiglu_grad %up, %up, %sw : tensor<2x4x12xf32>
  %ds, %de = tele.lerp_grad %x, %c : tensor<2x4x8xf32>, tensor<f32>
  // Optimizer.
  %norm = tele.global_norm %gain, %wq : tensor<8xf32>, tensor<8x8xf32> -> tensor<f32>
  %clip = tele.clip_scale %norm {max_norm = 1.0 : f64} : tensor<f32>
  %lr = tele.lr_schedule %step {peak = 1.0e-3 : f64, min = 0.0 : f64, warmup = 2 : i64, total = 10 : i64, decay = #tele.decay<cosine>} : tensor<i64> -> tensor<f32>
  %p1, %m1, %v1 = tele.adamw %gain, %gain, %gain, %gain, %lr, %clip, %step {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<8xf32>, tensor<f32>, tensor<i64>
  tele.assign "model.norm.weight", %p1 : tensor<8xf32>
  return %wloss : tensor<f32>
}
