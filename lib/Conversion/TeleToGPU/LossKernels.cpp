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

/// Which buffers (kernel argument indices) a loss kernel reads and writes;
/// -1 for absent. Logits and targets are always arguments 0 and 1.
struct LossKernelArgs {
  int64_t grad = -1;       ///< incoming gradient scalar (with `logitsGrad`)
  int64_t loss = -1;       ///< mean loss, accumulated atomically
  int64_t logitsGrad = -1; ///< (softmax - onehot) * grad / rows
};

/// One warp per row of logits: the softmax statistics, then the row's loss
/// and/or its gradient as `which` asks.
gpu::GPUFuncOp buildLossKernel(gpu::GPUModuleOp kernels, StringRef stem, Location loc,
                               ArrayRef<Type> argTypes, int64_t rows, int64_t vocab,
                               LossKernelArgs which) {
  std::string name = (stem + "_" + Twine(rows) + "x" + Twine(vocab) + "xf32").str();
  return getOrCreateKernel(
      kernels, name, argTypes, loc, [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value logits = args[0];
        Value scale;
        if (which.logitsGrad >= 0)
          scale = arith::MulFOp::create(b, load(b, args[which.grad], idx(b, 0)),
                                        f32(b, 1.0 / double(rows)));
        forEachRow(b, rows, vocab, [&](ImplicitLocOpBuilder &b, Value row, Value lane,
                                       Value rowBase) {
          SoftmaxStats s = softmaxStats(b, logits, rowBase, lane, vocab);
          Value target = targetColumn(b, args[1], row);
          Value lse = arith::AddFOp::create(b, s.max, math::LogOp::create(b, s.sum));
          if (which.loss >= 0) {
            Value loss = arith::SubFOp::create(
                b, lse, load(b, logits, arith::AddIOp::create(b, rowBase, target)));
            ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(b, 0)),
                   [&](ImplicitLocOpBuilder &b) {
                     atomicAdd(b, arith::MulFOp::create(b, loss, f32(b, 1.0 / double(rows))),
                               args[which.loss], idx(b, 0));
                   });
          }
          if (which.logitsGrad < 0)
            return;
          // d = (exp(x - lse) - onehot) * grad / rows.
          forLoop(b, lane, idx(b, vocab), idx(b, kWarp), {},
                  [&](ImplicitLocOpBuilder &b, Value j, ValueRange) -> SmallVector<Value> {
                    Value at = arith::AddIOp::create(b, rowBase, j);
                    Value p = math::ExpOp::create(
                        b, arith::SubFOp::create(b, load(b, logits, at), lse));
                    Value isTarget = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, j, target);
                    Value d = arith::SelectOp::create(
                        b, isTarget, arith::SubFOp::create(b, p, f32(b, 1.0)), p);
                    store(b, arith::MulFOp::create(b, d, scale), args[which.logitsGrad], at);
                    return {};
                  });
        });
      });
}
} // namespace

FailureOr<OpKernels> mlir::tele::buildLossKernels(Operation *op,
                                                  gpu::GPUModuleOp kernels) {
  if (!isa<CrossEntropyOp, CrossEntropyGradOp, CrossEntropyFusedOp>(op))
    return failure();
  auto ty = cast<RankedTensorType>(op->getOperand(0).getType());
  if (!ty.getElementType().isF32())
    return failure();
  int64_t vocab = ty.getShape().back(), rows = ty.getNumElements() / vocab;
  SmallVector<Type> argTypes;
  for (Value v : llvm::concat<Value>(op->getOperands(), op->getResults()))
    argTypes.push_back(flatMemRef(v));
  Location loc = op->getLoc();
  if (auto ce = dyn_cast<CrossEntropyOp>(op)) {
    if (ce.getLossMask())
      return failure();
    // logits 0, targets 1 -> loss 2.
    auto fn = buildLossKernel(kernels, "cross_entropy", loc, argTypes, rows, vocab,
                              {/*grad=*/-1, /*loss=*/2, /*logitsGrad=*/-1});
    return OpKernels{{rowLaunch(fn, rows)}, {}, {/*loss=*/2}};
  }
  if (auto grad = dyn_cast<CrossEntropyGradOp>(op)) {
    if (grad.getLossMask())
      return failure();
    // logits 0, targets 1, grad 2 -> logits_grad 3.
    auto fn = buildLossKernel(kernels, "cross_entropy_grad", loc, argTypes, rows, vocab,
                              {/*grad=*/2, /*loss=*/-1, /*logitsGrad=*/3});
    return OpKernels{{rowLaunch(fn, rows)}, {}, {}};
  }
  // logits 0, targets 1, grad 2 -> loss 3, logits_grad 4.
  auto fn = buildLossKernel(kernels, "cross_entropy_fused", loc, argTypes, rows, vocab,
                            {/*grad=*/2, /*loss=*/3, /*logitsGrad=*/4});
  return OpKernels{{rowLaunch(fn, rows)}, {}, {/*loss=*/3}};
}
