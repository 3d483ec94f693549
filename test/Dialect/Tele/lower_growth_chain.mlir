// RUN: tele-opt %s --tele-lower-growth="index=1 batch=2" | FileCheck %s

// Growth ops in a row form a chain: lowering its last op brings the earlier
// op's parameter map along (in plan order) and masks the target's loss with
// the masks of both: width masks on the residual stream and norms, a lerp
// for the copied layer.
// CHECK-LABEL: func.func @grow_a_to_b()
// CHECK: tele.grow.pad
// CHECK-LABEL: func.func @grow_b_to_c()
// CHECK: tele.assign "model.layers.1.input_layernorm.weight"
// CHECK-LABEL: func.func @c_loss(
// CHECK: tele.mask_value "mask.hidden"
// CHECK: tele.mask_value "mask.ffn"
// CHECK: tele.mask_value "mask.layer.1"
// CHECK: tele.lerp
// CHECK-NOT: func.func @b_loss
tele.model @a <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @b <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 1, seq_len = 4>
tele.model @c <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 2, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @a <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @a -> @b {transition_steps = 4 : i64}
  tele.grow.depth @b -> @c {copy_layers = array<i64: 0>, transition_steps = 4 : i64}
  tele.stage @s1 on @c <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
