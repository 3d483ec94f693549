// RUN: not tele-opt %s 2>&1 | FileCheck %s

// tele.mask_vector's result constraint is a ranked, not a statically shaped,
// 1-D tensor, so tensor<?xf32> reaches the verifier, which compares kept with
// the dynamic size and reports "kept (4) must be in [0,
// -9223372036854775808]". It should be rejected like every other dynamic
// shape of the tensor-level ops, with a message about the shape (and never
// quote the dynamic-size sentinel).

// CHECK: error: 'tele.mask_vector' op
// CHECK-NOT: -9223372036854775808
func.func @dynamic_mask(%c: tensor<f32>) -> tensor<?xf32> {
  %m = tele.mask_vector %c {kept = 4} : tensor<f32> -> tensor<?xf32>
  return %m : tensor<?xf32>
}
