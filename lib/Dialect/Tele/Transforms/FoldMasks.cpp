//===- FoldMasks.cpp - tele-fold-masks pass -------------------------------===//
//
// This file implements tele-fold-masks: with every MSG mask at 1, masked ops
// reduce to their plain forms, and the mask values and vectors become dead.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "tele-fold-masks"

namespace mlir::tele {
#define GEN_PASS_DEF_TELEFOLDMASKS
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
/// x * mask -> x.
struct FoldMaskMul : OpRewritePattern<MaskMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaskMulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getMask().getDefiningOp<MaskVectorOp>())
      return failure();
    rewriter.replaceOp(op, op.getInput());
    return success();
  }
};

/// Masked RMSNorm statistic -> plain statistic.
struct FoldNormMask : OpRewritePattern<RMSNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getMask() || !op.getMask().getDefiningOp<MaskVectorOp>())
      return failure();
    rewriter.modifyOpInPlace(op, [&] { op.getMaskMutable().clear(); });
    return success();
  }
};

/// x + c (Block(x) - x) -> Block(x).
struct FoldLerp : OpRewritePattern<LerpOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LerpOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getWeight().getDefiningOp<MaskValueOp>())
      return failure();
    rewriter.replaceOp(op, op.getEnd());
    return success();
  }
};

struct FoldMasksPass : tele::impl::TeleFoldMasksBase<FoldMasksPass> {
  void runOnOperation() override {
    WalkResult gradients = getOperation().walk([](Operation *op) {
      if (isa<RMSNormGradOp, LerpGradOp>(op) &&
          llvm::any_of(op->getOperands(), [](Value v) {
            return v.getDefiningOp<MaskVectorOp>() ||
                   v.getDefiningOp<MaskValueOp>();
          })) {
        op->emitOpError() << "uses a growth mask: run tele-fold-masks before "
                             "tele-autodiff";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (gradients.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldMaskMul, FoldNormMask, FoldLerp>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) {
      getOperation().emitError()
          << "tele-fold-masks: folding the masks did not converge";
      return signalPassFailure();
    }
    // Mask reads and vectors are now dead (they are side-effect free reads).
    getOperation().walk([](Operation *op) {
      if (isa<MaskVectorOp>(op) && op->use_empty())
        op->erase();
    });
    getOperation().walk([](Operation *op) {
      if (isa<MaskValueOp>(op) && op->use_empty())
        op->erase();
    });
  }
};
} // namespace
