//===- Bf16Gemms.cpp - tele-bf16-gemms pass -------------------------------===//
//
// This file implements tele-bf16-gemms: the GEMMs of a step (tele.linear and
// its two gradients) read bf16 operands, made by a tele.convert right before
// them, and still write f32 (cuBLASLt accumulates in fp32). Tensor cores run
// bf16 at twice the rate of fp32 inputs, and the GEMM reads half the bytes.
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
// store bf16 itself (RMSNorm, RoPE, SwiGLU and its gradient compute in f32
// and may round at the store), the producer's result becomes bf16 and the
// conversions go: the normalized inputs of the projections, the SwiGLU
// product and the gate/up and q/k gradients then live in bf16, which halves
// their memory and saves the conversions' traffic.
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
/// The two multiplied operands of an f32 GEMM (not its f32 addend, which
/// its epilogue reads), or an empty range.
MutableArrayRef<OpOperand> f32GemmOperands(Operation *op) {
  if (!isa<LinearOp, LinearGradInputOp, LinearGradWeightOp>(op) ||
      !llvm::all_of(op->getOperandTypes(),
                    [](Type t) { return getElementTypeOrSelf(t).isF32(); }) ||
      !getElementTypeOrSelf(op->getResult(0).getType()).isF32())
    return {};
  return op->getOpOperands().take_front(2);
}

/// Ops whose kernels compute in f32 and may store a result as bf16.
bool canNarrowResults(Operation *op) {
  return isa<RMSNormOp, RopeOp, SwiGLUOp, SwiGLUGradOp>(op);
}

/// If every reader of `value` converts it to bf16 and its producer can
/// store bf16, makes the producer do so and drops the conversions.
void narrowProducer(Value value) {
  Operation *producer = value.getDefiningOp();
  if (!producer || !canNarrowResults(producer) || value.use_empty())
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
        for (OpOperand &operand : f32GemmOperands(&op)) {
          Copy &copy = copies[operand.get()];
          if (!copy.bf16 || position - copy.lastUse > reuseWindow) {
            OpBuilder b(&op);
            auto ty = cast<RankedTensorType>(operand.get().getType());
            copy.bf16 = ConvertOp::create(b, op.getLoc(), ty.clone(b.getBF16Type()),
                                          operand.get());
          }
          copy.lastUse = position;
          operand.set(copy.bf16);
        }
      }
      for (auto &[value, copy] : copies)
        narrowProducer(value);
    }
  }
};
} // namespace
