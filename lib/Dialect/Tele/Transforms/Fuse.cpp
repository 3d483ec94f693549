//===- Fuse.cpp - tele-fuse pass ------------------------------------------===//
//
// This file implements tele-fuse: op groups that read the same inputs become
// one fused op, so the GPU target reads those inputs once. The loss and its
// gradient are the first such group: both need the softmax statistics of
// every row of logits, the largest tensor of a step.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#define DEBUG_TYPE "tele-fuse"

namespace mlir::tele {
#define GEN_PASS_DEF_TELEFUSE
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
/// cross_entropy(x, t) and cross_entropy_grad(x, t, g) -> cross_entropy_fused
/// at the gradient, when g is defined before the loss (so it cannot depend
/// on it) and neither has a loss mask.
struct FuseCrossEntropy : OpRewritePattern<CrossEntropyGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CrossEntropyGradOp grad,
                                PatternRewriter &rewriter) const override {
    if (grad.getLossMask())
      return rewriter.notifyMatchFailure(grad, "masked losses are not fused");
    CrossEntropyOp loss;
    for (Operation *user : grad.getLogits().getUsers())
      if (auto ce = dyn_cast<CrossEntropyOp>(user);
          ce && ce.getTargets() == grad.getTargets() && !ce.getLossMask() &&
          ce->getBlock() == grad->getBlock() && ce->isBeforeInBlock(grad))
        loss = ce;
    if (!loss)
      return rewriter.notifyMatchFailure(grad, "no matching cross_entropy");
    Operation *gradDef = grad.getGrad().getDefiningOp();
    bool gradIsArg = !gradDef;
    if (!gradIsArg && (gradDef->getBlock() != loss->getBlock() ||
                       !gradDef->isBeforeInBlock(loss)))
      return rewriter.notifyMatchFailure(grad, "the incoming gradient may depend on the loss");
    // The fused op replaces the loss in place (its operands are all defined
    // before it) and the gradient takes its second result.
    rewriter.setInsertionPoint(loss);
    auto fused = CrossEntropyFusedOp::create(
        rewriter, grad.getLoc(), loss.getType(), grad.getType(), grad.getLogits(),
        grad.getTargets(), grad.getGrad());
    rewriter.replaceOp(loss, fused.getLoss());
    rewriter.replaceOp(grad, fused.getLogitsGrad());
    return success();
  }
};

struct FusePass : tele::impl::TeleFuseBase<FusePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseCrossEntropy>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
