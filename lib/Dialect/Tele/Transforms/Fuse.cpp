//===- Fuse.cpp - tele-fuse pass ------------------------------------------===//
//
// This file implements tele-fuse: op groups that read the same inputs become
// one fused op, so the GPU target reads those inputs once: the loss and its
// gradient (both need the softmax statistics of every row of logits, the
// largest tensor of a step), attention and its gradient (the backward
// reads the forward's output and log-sum-exp instead of recomputing them),
// an add into the GEMM or the RMSNorm backward that produces one of its
// operands (cuBLASLt's epilogue or the norm's row kernel adds the other),
// and the sum of a norm's output gradients into the norm's backward.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"

#include "mlir/IR/Dominance.h"
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
/// Whether `value` is available at `op` without moving anything: a block
/// argument or result of an op that properly dominates it.
bool availableAt(Value value, Operation *op) {
  return DominanceInfo().properlyDominates(value, op);
}

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
    if (!availableAt(grad.getGrad(), loss))
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

/// attention(q, k, v) and attention_grad(q, k, v, dO) -> flash_attention
/// (which also returns the softmax log-sum-exp) and flash_attention_grad
/// (which reads it and the output instead of recomputing the forward).
struct FuseAttention : OpRewritePattern<AttentionGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AttentionGradOp grad,
                                PatternRewriter &rewriter) const override {
    AttentionOp fwd;
    for (Operation *user : grad.getQuery().getUsers())
      if (auto a = dyn_cast<AttentionOp>(user);
          a && a.getKey() == grad.getKey() && a.getValue() == grad.getValue() &&
          a.getHeadDim() == grad.getHeadDim() && a->getBlock() == grad->getBlock() &&
          a->isBeforeInBlock(grad))
        fwd = a;
    if (!fwd)
      return rewriter.notifyMatchFailure(grad, "no matching attention");
    auto lseType = attentionStatsType(grad.getQuery().getType(), grad.getHeadDim());
    rewriter.setInsertionPoint(fwd);
    auto flash = FlashAttentionOp::create(rewriter, fwd.getLoc(), fwd.getType(), lseType,
                                          fwd.getQuery(), fwd.getKey(), fwd.getValue(),
                                          fwd.getHeadDimAttr());
    rewriter.replaceOp(fwd, flash.getResult());
    rewriter.setInsertionPoint(grad);
    Type t = grad.getQuery().getType();
    auto flashGrad = FlashAttentionGradOp::create(
        rewriter, grad.getLoc(), t, t, t, grad.getQuery(), grad.getKey(), grad.getValue(),
        flash.getResult(), flash.getLse(), grad.getGrad(), grad.getHeadDimAttr());
    rewriter.replaceOp(grad, flashGrad.getResults());
    return success();
  }
};

/// add(gemm(a, b), r) -> gemm(a, b) plus r, for tele.linear and
/// tele.linear_grad_input whose result only the add reads: the residual add
/// after a projection, and the sum of the input gradients of several
/// projections of one input, run in the GEMM's epilogue (D = A B + C)
/// instead of a separate pass over three tensors. The GEMM moves to the
/// add, where both its operands and r are defined.
struct FuseAddIntoGemm : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  static bool absorbs(Value v) {
    Operation *def = v.getDefiningOp();
    if (!def || !v.hasOneUse())
      return false;
    if (auto l = dyn_cast<LinearOp>(def))
      return !l.getAddend();
    if (auto l = dyn_cast<LinearGradInputOp>(def))
      return !l.getAddend();
    return false;
  }
  LogicalResult matchAndRewrite(AddOp add, PatternRewriter &rewriter) const override {
    // Of two GEMM operands, the later one absorbs the earlier (either would do).
    int which = -1;
    for (int i : {1, 0})
      if (which < 0 && absorbs(add->getOperand(i)))
        which = i;
    if (which < 0)
      return rewriter.notifyMatchFailure(add, "no single-use GEMM operand");
    Operation *gemm = add->getOperand(which).getDefiningOp();
    Value addend = add->getOperand(1 - which);
    if (gemm->getBlock() != add->getBlock())
      return rewriter.notifyMatchFailure(add, "GEMM in another block");
    rewriter.setInsertionPoint(add);
    Value fused;
    if (auto l = dyn_cast<LinearOp>(gemm))
      fused = LinearOp::create(rewriter, l.getLoc(), add.getType(), l.getInput(),
                               l.getWeight(), addend);
    else {
      auto g = cast<LinearGradInputOp>(gemm);
      fused = LinearGradInputOp::create(rewriter, g.getLoc(), add.getType(), g.getGrad(),
                                        g.getWeight(), addend);
    }
    rewriter.replaceOp(add, fused);
    rewriter.eraseOp(gemm);
    return success();
  }
};

/// add(rms_norm_grad(...).input_grad, r) -> rms_norm_grad(...) plus r,
/// when only the add reads that gradient and r is defined before the norm's
/// backward (the residual stream's gradient, computed before the block's):
/// the row kernel adds r as it writes dx.
struct FuseAddIntoNormGrad : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp add, PatternRewriter &rewriter) const override {
    for (int i : {1, 0}) {
      auto grad = add->getOperand(i).getDefiningOp<RMSNormGradOp>();
      Value addend = add->getOperand(1 - i);
      if (!grad || grad.getAddend() || grad.getInputGradCopy() ||
          !grad.getInputGrad().hasOneUse() || grad->getBlock() != add->getBlock())
        continue;
      if (!availableAt(addend, grad))
        continue;
      rewriter.setInsertionPoint(grad);
      auto fused = RMSNormGradOp::create(rewriter, grad.getLoc(), grad->getResultTypes(),
                                         grad.getInput(), grad.getGain(), grad.getGrads(),
                                         grad.getMask(), addend, grad.getEpsAttr());
      rewriter.replaceOp(add, fused.getInputGrad());
      rewriter.replaceAllUsesWith(grad.getGainGrad(), fused.getGainGrad());
      rewriter.eraseOp(grad);
      return success();
    }
    return rewriter.notifyMatchFailure(add, "no single-use norm gradient after its addend");
  }
};

/// rms_norm_grad(x, g, add(a, b), ...) -> rms_norm_grad(x, g, a, b, ...)
/// when only the norm reads the sum: the input gradients of the projections
/// that read one normalized input (q, k and v; gate and up) are summed in
/// the norm's row kernel, so each GEMM writes its own (bf16 after
/// tele-bf16-gemms) instead of adding into an f32 sum through its epilogue,
/// which reads and writes that sum once per GEMM.
struct FuseGradSumIntoNormGrad : OpRewritePattern<RMSNormGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSNormGradOp grad, PatternRewriter &rewriter) const override {
    SmallVector<Value> grads;
    SmallVector<AddOp> sums;
    for (Value g : grad.getGrads()) {
      auto add = g.getDefiningOp<AddOp>();
      if (add && g.hasOneUse() && add->getBlock() == grad->getBlock()) {
        grads.append({add.getLhs(), add.getRhs()});
        sums.push_back(add);
      } else {
        grads.push_back(g);
      }
    }
    if (sums.empty())
      return rewriter.notifyMatchFailure(grad, "no single-use sum among the gradients");
    rewriter.modifyOpInPlace(grad, [&] { grad.getGradsMutable().assign(grads); });
    for (AddOp add : sums) // sums of sums are taken apart on the next match
      rewriter.eraseOp(add);
    return success();
  }
};

struct FusePass : tele::impl::TeleFuseBase<FusePass> {
  void runOnOperation() override {
    // Sums into the norms' backward first, before the GEMMs' epilogues
    // could absorb them.
    RewritePatternSet sums(&getContext());
    sums.add<FuseGradSumIntoNormGrad>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(sums))))
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseCrossEntropy, FuseAttention, FuseAddIntoGemm, FuseAddIntoNormGrad>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
