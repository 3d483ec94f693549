//===- Bf16Gemms.cpp - tele-bf16-gemms pass -------------------------------===//
//
// This file implements tele-bf16-gemms: the GEMMs of a step (tele.linear and
// its two gradients) read bf16 operands, made by a tele.convert right before
// them, and still write f32 (cuBLASLt accumulates in fp32). Tensor cores run
// bf16 at twice the rate of fp32 inputs, and the GEMM reads half the bytes.
//
// Flash attention is treated alike: its kernels multiply on the tensor
// cores and round query, key and value (and, backward, the output and its
// gradient) to bf16 anyway, so they may as well read bf16 copies.
//
// A conversion is shared by the GEMMs that read the same value within
// `reuse-window` ops of its previous use: the q/k/v projections of one
// normalized input, or the input- and weight-gradient GEMMs of one incoming
// gradient. Further apart (a weight in the forward and again in the
// backward, an activation saved for its weight gradient) the value is
// converted again, so that no bf16 copy stays live from the forward to the
// backward: that would add half of the saved activations to the peak.
//
// Where every reader of a value is such a conversion and its producer can
// store bf16 itself (RMSNorm, RoPE, SwiGLU and its gradient, flash
// attention's output and GEMMs without an addend compute in f32 and may
// round at the store), the producer's result becomes bf16 and the
// conversions go: the normalized inputs of the projections, the rotated
// queries and keys, the values, the attention output and its gradient, the
// SwiGLU product and the gate/up and q/k gradients then live in bf16, which
// halves their memory (most are saved for the backward) and saves the
// conversions' traffic.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"

#define DEBUG_TYPE "tele-bf16-gemms"

namespace mlir::tele {
#define GEN_PASS_DEF_TELEBF16GEMMS
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
bool isF32(Value v) { return getElementTypeOrSelf(v.getType()).isF32(); }

/// The operands an f32 op feeds to the tensor cores: the two multiplied
/// operands of a GEMM (not its f32 addend, which its epilogue reads), and
/// the query, key and value of flash attention, plus the output and its
/// gradient in the backward. Empty for other ops.
SmallVector<OpOperand *> matmulOperands(Operation *op) {
  SmallVector<OpOperand *> out;
  auto pick = [&](ArrayRef<unsigned> indices) {
    for (unsigned i : indices)
      out.push_back(&op->getOpOperand(i));
  };
  if (isa<LinearOp, LinearGradInputOp, LinearGradWeightOp>(op) &&
      llvm::all_of(op->getOperands(), isF32) && isF32(op->getResult(0)))
    pick({0, 1});
  else if (auto fwd = dyn_cast<FlashAttentionOp>(op); fwd && isF32(fwd.getLse()) &&
                                                      isF32(fwd.getQuery()))
    pick({0, 1, 2});
  else if (auto grad = dyn_cast<FlashAttentionGradOp>(op); grad && isF32(grad.getLse()))
    pick({0, 1, 2, 3, 5});
  llvm::erase_if(out, [](OpOperand *o) { return !isF32(o->get()); });
  return out;
}

/// Ops whose kernels compute in f32 and may store `result` as bf16: the
/// row-wise and elementwise producers, flash attention's output, and GEMMs
/// on bf16 operands without an addend (cuBLASLt rounds D; an addend C would
/// have to be bf16 too).
bool canNarrow(OpResult result) {
  Operation *op = result.getOwner();
  if (isa<RMSNormOp, RopeOp, SwiGLUOp, SwiGLUGradOp>(op))
    return true;
  if (auto fwd = dyn_cast<FlashAttentionOp>(op))
    return result == fwd.getResult();
  if (isa<LinearOp, LinearGradInputOp>(op))
    return getElementTypeOrSelf(op->getOperand(0).getType()).isBF16() &&
           op->getNumOperands() == 2;
  return false;
}

/// If every reader of `value` converts it to bf16 and its producer can
/// store bf16, makes the producer do so and drops the conversions.
void narrowProducer(Value value) {
  auto result = dyn_cast<OpResult>(value);
  if (!result || !canNarrow(result) || value.use_empty())
    return;
  auto bf16 = cast<RankedTensorType>(value.getType()).clone(
      BFloat16Type::get(value.getContext()));
  for (Operation *user : value.getUsers())
    if (!isa<ConvertOp>(user) || user->getResult(0).getType() != bf16)
      return;
  value.setType(bf16);
  for (Operation *user : llvm::make_early_inc_range(value.getUsers())) {
    user->getResult(0).replaceAllUsesWith(value);
    user->erase();
  }
}

struct Bf16GemmsPass : tele::impl::TeleBf16GemmsBase<Bf16GemmsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (reuseWindow < 0) {
      getOperation().emitError("tele-bf16-gemms: reuse-window must be >= 0");
      return signalPassFailure();
    }
    struct Copy {
      Value bf16;
      int64_t lastUse = 0; ///< position of the last GEMM that read it
    };
    for (Block &block : getOperation().getBody()) {
      DenseMap<Value, Copy> copies;
      int64_t position = 0;
      for (Operation &op : block) {
        ++position;
        for (OpOperand *operand : matmulOperands(&op)) {
          Copy &copy = copies[operand->get()];
          if (!copy.bf16 || position - copy.lastUse > reuseWindow) {
            OpBuilder b(&op);
            auto ty = cast<RankedTensorType>(operand->get().getType());
            copy.bf16 = ConvertOp::create(b, op.getLoc(), ty.clone(b.getBF16Type()),
                                          operand->get());
          }
          copy.lastUse = position;
          operand->set(copy.bf16);
        }
      }
      for (auto &[value, copy] : copies)
        narrowProducer(value);
    }
  }
};
} // namespace
