//===- LossKernels.cpp - softmax cross-entropy GPU kernels ----------------===//
//
// tele.cross_entropy and tele.cross_entropy_grad, one warp per row of
// logits. Each lane keeps an online (max, sum of exp) pair over its columns
// so a row is read once for its statistics; the pairs are merged across the
// warp. The forward pass adds row_loss / rows to the result atomically (the
// runtime zeroes it first) and never writes probabilities; the backward pass
// recomputes the statistics and writes softmax - onehot scaled by the
// incoming gradient / rows. tele.cross_entropy_fused (from tele-fuse) does
// both from one read of the logits. Loss masks (SFT) are not generated yet.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

#include <limits>

using namespace mlir;
using namespace mlir::tele;

namespace {
constexpr int64_t kRowsPerBlock = 4;

struct SoftmaxStats {
  Value max, sum; ///< warp-wide max and sum_j exp(x_j - max)
};

SoftmaxStats softmaxStats(ImplicitLocOpBuilder &b, Value logits, Value rowBase,
                          Value lane, int64_t vocab) {
  Value negInf = f32(b, -std::numeric_limits<double>::infinity());
  auto acc = forLoop(
      b, lane, idx(b, vocab), idx(b, kWarp), {negInf, f32(b, 0.0)},
      [&](ImplicitLocOpBuilder &b, Value j, ValueRange acc) -> SmallVector<Value> {
        Value x = load(b, logits, arith::AddIOp::create(b, rowBase, j));
        Value m = arith::MaximumFOp::create(b, acc[0], x);
        Value rescaled = arith::MulFOp::create(
            b, acc[1], math::ExpOp::create(b, arith::SubFOp::create(b, acc[0], m)));
        Value e = math::ExpOp::create(b, arith::SubFOp::create(b, x, m));
        return {m, arith::AddFOp::create(b, rescaled, e)};
      });
  Value max = warpMax(b, acc[0]);
  // A lane that saw no column has (-inf, 0): its share is 0 * exp(-inf) = 0.
  Value share = arith::MulFOp::create(
      b, acc[1], math::ExpOp::create(b, arith::SubFOp::create(b, acc[0], max)));
  return {max, warpSum(b, share)};
}

/// Emits the row index of this warp and the `if row < rows` guard; `body`
/// gets the row, its lane and the row's first element.
void forEachRow(ImplicitLocOpBuilder &b, int64_t rows, int64_t width,
                function_ref<void(ImplicitLocOpBuilder &, Value, Value, Value)> body) {
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value lane = arith::RemUIOp::create(b, tid, idx(b, kWarp));
  Value row = arith::AddIOp::create(
      b,
      arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                            idx(b, kRowsPerBlock)),
      arith::DivUIOp::create(b, tid, idx(b, kWarp)));
  ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, idx(b, rows)),
         [&](ImplicitLocOpBuilder &b) {
           body(b, row, lane, arith::MulIOp::create(b, row, idx(b, width)));
         });
}

KernelLaunch rowLaunch(gpu::GPUFuncOp fn, int64_t rows) {
  return KernelLaunch{fn,
                      {(rows + kRowsPerBlock - 1) / kRowsPerBlock, 1, 1},
                      {kRowsPerBlock * kWarp, 1, 1},
                      {}};
}

Value targetColumn(ImplicitLocOpBuilder &b, Value targets, Value row) {
  return arith::IndexCastOp::create(b, b.getIndexType(), load(b, targets, row));
}
} // namespace

FailureOr<OpKernels> mlir::tele::buildLossKernels(Operation *op,
                                                  gpu::GPUModuleOp kernels) {
  if (auto ce = dyn_cast<CrossEntropyOp>(op)) {
    auto ty = ce.getLogits().getType();
    if (!ty.getElementType().isF32() || ce.getLossMask())
      return failure();
    int64_t vocab = ty.getShape().back(), rows = ty.getNumElements() / vocab;
    std::string name = ("cross_entropy_" + Twine(rows) + "x" + Twine(vocab) + "xf32").str();
    auto fn = getOrCreateKernel(
        kernels, name,
        {flatMemRef(ce.getLogits()), flatMemRef(ce.getTargets()), flatMemRef(ce.getResult())},
        op->getLoc(), [&](ImplicitLocOpBuilder &b, ValueRange args) {
          forEachRow(b, rows, vocab, [&](ImplicitLocOpBuilder &b, Value row, Value lane,
                                         Value rowBase) {
            SoftmaxStats s = softmaxStats(b, args[0], rowBase, lane, vocab);
            Value target = load(b, args[0], arith::AddIOp::create(
                                                b, rowBase, targetColumn(b, args[1], row)));
            Value loss = arith::SubFOp::create(
                b, arith::AddFOp::create(b, s.max, math::LogOp::create(b, s.sum)), target);
            ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(b, 0)),
                   [&](ImplicitLocOpBuilder &b) {
                     atomicAdd(b, arith::MulFOp::create(b, loss, f32(b, 1.0 / double(rows))),
                               args[2], idx(b, 0));
                   });
          });
        });
    return OpKernels{{rowLaunch(fn, rows)}, {}, {/*result=*/2}};
  }
  if (auto fused = dyn_cast<CrossEntropyFusedOp>(op)) {
    auto ty = fused.getLogits().getType();
    if (!ty.getElementType().isF32())
      return failure();
    int64_t vocab = ty.getShape().back(), rows = ty.getNumElements() / vocab;
    std::string name =
        ("cross_entropy_fused_" + Twine(rows) + "x" + Twine(vocab) + "xf32").str();
    // Operands logits 0, targets 1, grad 2; results loss 3, logits_grad 4.
    auto fn = getOrCreateKernel(
        kernels, name,
        {flatMemRef(fused.getLogits()), flatMemRef(fused.getTargets()),
         flatMemRef(fused.getGrad()), flatMemRef(fused.getLoss()),
         flatMemRef(fused.getLogitsGrad())},
        op->getLoc(), [&](ImplicitLocOpBuilder &b, ValueRange args) {
          Value scale = arith::MulFOp::create(b, load(b, args[2], idx(b, 0)),
                                              f32(b, 1.0 / double(rows)));
          forEachRow(b, rows, vocab, [&](ImplicitLocOpBuilder &b, Value row, Value lane,
                                         Value rowBase) {
            SoftmaxStats s = softmaxStats(b, args[0], rowBase, lane, vocab);
            Value target = targetColumn(b, args[1], row);
            Value lse = arith::AddFOp::create(b, s.max, math::LogOp::create(b, s.sum));
            Value loss = arith::SubFOp::create(
                b, lse, load(b, args[0], arith::AddIOp::create(b, rowBase, target)));
            ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(b, 0)),
                   [&](ImplicitLocOpBuilder &b) {
                     atomicAdd(b, arith::MulFOp::create(b, loss, f32(b, 1.0 / double(rows))),
                               args[3], idx(b, 0));
                   });
            // d = (exp(x - lse) - onehot) * grad / rows.
            forLoop(b, lane, idx(b, vocab), idx(b, kWarp), {},
                    [&](ImplicitLocOpBuilder &b, Value j, ValueRange) -> SmallVector<Value> {
                      Value at = arith::AddIOp::create(b, rowBase, j);
                      Value p = math::ExpOp::create(
                          b, arith::SubFOp::create(b, load(b, args[0], at), lse));
                      Value isTarget =
                          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, j, target);
                      Value d = arith::SelectOp::create(
                          b, isTarget, arith::SubFOp::create(b, p, f32(b, 1.0)), p);
                      store(b, arith::MulFOp::create(b, d, scale), args[4], at);
                      return {};
                    });
          });
        });
    return OpKernels{{rowLaunch(fn, rows)}, {}, {/*loss=*/3}};
  }
  if (auto grad = dyn_cast<CrossEntropyGradOp>(op)) {
    auto ty = grad.getLogits().getType();
    if (!ty.getElementType().isF32() || grad.getLossMask())
      return failure();
    int64_t vocab = ty.getShape().back(), rows = ty.getNumElements() / vocab;
    std::string name =
        ("cross_entropy_grad_" + Twine(rows) + "x" + Twine(vocab) + "xf32").str();
    auto fn = getOrCreateKernel(
        kernels, name,
        {flatMemRef(grad.getLogits()), flatMemRef(grad.getTargets()),
         flatMemRef(grad.getGrad()), flatMemRef(grad.getResult())},
        op->getLoc(), [&](ImplicitLocOpBuilder &b, ValueRange args) {
          Value scale = arith::MulFOp::create(b, load(b, args[2], idx(b, 0)),
                                              f32(b, 1.0 / double(rows)));
          forEachRow(b, rows, vocab, [&](ImplicitLocOpBuilder &b, Value row, Value lane,
                                         Value rowBase) {
            SoftmaxStats s = softmaxStats(b, args[0], rowBase, lane, vocab);
            Value inv = arith::DivFOp::create(b, f32(b, 1.0), s.sum);
            Value target = targetColumn(b, args[1], row);
            forLoop(b, lane, idx(b, vocab), idx(b, kWarp), {},
                    [&](ImplicitLocOpBuilder &b, Value j, ValueRange) -> SmallVector<Value> {
                      Value at = arith::AddIOp::create(b, rowBase, j);
                      Value p = arith::MulFOp::create(
                          b, math::ExpOp::create(
                                 b, arith::SubFOp::create(b, load(b, args[0], at), s.max)),
                          inv);
                      Value isTarget =
                          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, j, target);
                      Value d = arith::SelectOp::create(
                          b, isTarget, arith::SubFOp::create(b, p, f32(b, 1.0)), p);
                      store(b, arith::MulFOp::create(b, d, scale), args[3], at);
                      return {};
                    });
          });
        });
    return OpKernels{{rowLaunch(fn, rows)}, {}, {}};
  }
  return failure();
}
