//===- LossKernels.cpp - softmax cross-entropy GPU kernels ----------------===//
//
// tele.cross_entropy and tele.cross_entropy_grad, one warp per row of
// logits (four rows a block). Each lane reads chunks of up to four logits
// (f32, or a bf16 copy widened) and keeps an online (max, sum of 2^x) pair
// in the log2 domain, rescaled once per chunk, so a row is read once for
// its statistics; the pairs are merged across the warp. The forward pass
// adds row_loss / rows to the result atomically (the runtime zeroes it
// first) and never writes probabilities; the backward pass
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
constexpr double kLog2e = 1.4426950408889634;

/// A row's softmax statistics in the log2 domain (logits times log2 e):
/// the warp-wide maximum and sum_j 2^(x_j - max).
struct SoftmaxStats {
  Value max, sum;
};

/// Chunk `i` of the row's logits (f32, or a bf16 copy), times log2 e; -inf
/// past the row's end.
Value logitsLog2(ImplicitLocOpBuilder &b, const RowWalk &walk, Value logits, Value rowBase,
                 Value lane, Value i) {
  Value x = walk.load(b, logits, rowBase, lane, i,
                      -std::numeric_limits<double>::infinity());
  return arith::MulFOp::create(b, x, splatFloat(b, walk.type(b), kLog2e));
}

/// One read of the row: each lane keeps an online (max, sum) over its
/// chunks (one rescale per chunk), then the lanes' pairs are merged.
SoftmaxStats softmaxStats(ImplicitLocOpBuilder &b, const RowWalk &walk, Value logits,
                          Value rowBase, Value lane) {
  // A finite start: a lane that sees only -inf (past a narrow row's end)
  // keeps (-1e30, 0) and adds 0 * 2^(-1e30 - max) = 0 to the merge.
  auto acc = forLoop(
      b, idx(b, 0), idx(b, walk.count), idx(b, 1), {f32(b, -1e30), f32(b, 0.0)},
      [&](ImplicitLocOpBuilder &b, Value i, ValueRange acc) -> SmallVector<Value> {
        Value x = logitsLog2(b, walk, logits, rowBase, lane, i);
        Value m = arith::MaximumFOp::create(b, acc[0], RowWalk::max(b, x));
        Value rescaled = arith::MulFOp::create(
            b, acc[1], math::Exp2Op::create(b, arith::SubFOp::create(b, acc[0], m)));
        Value e = math::Exp2Op::create(
            b, arith::SubFOp::create(b, x, vector::BroadcastOp::create(b, walk.type(b), m)));
        return {m, arith::AddFOp::create(b, rescaled, RowWalk::sum(b, e))};
      });
  Value max = warpMax(b, acc[0]);
  Value share = arith::MulFOp::create(
      b, acc[1], math::Exp2Op::create(b, arith::SubFOp::create(b, acc[0], max)));
  return {max, warpSum(b, share)};
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
/// and/or its gradient as `which` asks. The logits may be a bf16 copy and
/// the gradient stored as bf16 (tele-bf16-gemms; `sig` names which).
gpu::GPUFuncOp buildLossKernel(gpu::GPUModuleOp kernels, StringRef stem, StringRef sig,
                               Location loc, ArrayRef<Type> argTypes, int64_t rows,
                               int64_t vocab, LossKernelArgs which) {
  std::string name = (stem + "_" + Twine(rows) + "x" + Twine(vocab) + "xf32" + sig).str();
  RowWalk walk = RowWalk::of(vocab);
  return getOrCreateKernel(
      kernels, name, argTypes, loc, [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value logits = args[0];
        Value scale;
        if (which.logitsGrad >= 0)
          scale = arith::MulFOp::create(b, load(b, args[which.grad], idx(b, 0)),
                                        f32(b, 1.0 / double(rows)));
        forEachWarpRow(b, rows, vocab, [&](ImplicitLocOpBuilder &b, Value row, Value lane,
                                       Value rowBase) {
          SoftmaxStats s = softmaxStats(b, walk, logits, rowBase, lane);
          Value target = targetColumn(b, args[1], row);
          Value lse2 = arith::AddFOp::create(b, s.max, math::Log2Op::create(b, s.sum));
          if (which.loss >= 0) {
            // loss = lse - x[target], in natural units.
            auto one = VectorType::get({1}, b.getF32Type());
            Value xt = vector::ExtractOp::create(
                b, loadChunk(b, one, logits, arith::AddIOp::create(b, rowBase, target)),
                ArrayRef<int64_t>{0});
            Value loss =
                arith::SubFOp::create(b, arith::MulFOp::create(b, lse2, f32(b, 1.0 / kLog2e)), xt);
            ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(b, 0)),
                   [&](ImplicitLocOpBuilder &b) {
                     atomicAdd(b, arith::MulFOp::create(b, loss, f32(b, 1.0 / double(rows))),
                               args[which.loss], idx(b, 0));
                   });
          }
          if (which.logitsGrad < 0)
            return;
          // d = (2^(x log2 e - lse2) - onehot) * grad / rows, a chunk at a time.
          VectorType vt = walk.type(b);
          auto lanes = VectorType::get({walk.vec}, b.getI32Type());
          SmallVector<int32_t> iota;
          for (int32_t l = 0; l < walk.vec; ++l)
            iota.push_back(l);
          Value offsets = arith::ConstantOp::create(
              b, lanes, DenseElementsAttr::get(lanes, ArrayRef<int32_t>(iota)));
          auto asI32 = [&](Value index) {
            return vector::BroadcastOp::create(
                b, lanes, arith::IndexCastOp::create(b, b.getI32Type(), index));
          };
          Value targetLanes = asI32(target);
          Value lseV = vector::BroadcastOp::create(b, vt, lse2);
          Value scaleV = vector::BroadcastOp::create(b, vt, scale);
          Value oneV = splatFloat(b, vt, 1.0);
          forLoop(b, idx(b, 0), idx(b, walk.count), idx(b, 1), {},
                  [&](ImplicitLocOpBuilder &b, Value i, ValueRange) -> SmallVector<Value> {
                    Value x = logitsLog2(b, walk, logits, rowBase, lane, i);
                    Value p = math::Exp2Op::create(b, arith::SubFOp::create(b, x, lseV));
                    Value cols =
                        arith::AddIOp::create(b, asI32(walk.column(b, lane, i)), offsets);
                    Value isTarget =
                        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, cols, targetLanes);
                    Value d = arith::SelectOp::create(b, isTarget,
                                                      arith::SubFOp::create(b, p, oneV), p);
                    walk.store(b, arith::MulFOp::create(b, d, scaleV), args[which.logitsGrad],
                               rowBase, lane, i);
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
  // f32 statistics; the fused op's logits may be a bf16 copy when it
  // computes in f32 (its grad's type).
  Type et = ty.getElementType();
  auto fused = dyn_cast<CrossEntropyFusedOp>(op);
  if (!et.isF32() && !(et.isBF16() && fused &&
                       getElementTypeOrSelf(fused.getGrad().getType()).isF32()))
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
    auto fn = buildLossKernel(kernels, "cross_entropy", "", loc, argTypes, rows, vocab,
                              {/*grad=*/-1, /*loss=*/2, /*logitsGrad=*/-1});
    return OpKernels{{warpRowLaunch(fn, rows)}, {}, {/*loss=*/2}};
  }
  if (auto grad = dyn_cast<CrossEntropyGradOp>(op)) {
    if (grad.getLossMask())
      return failure();
    // logits 0, targets 1, grad 2 -> logits_grad 3.
    auto fn = buildLossKernel(kernels, "cross_entropy_grad", "", loc, argTypes, rows, vocab,
                              {/*grad=*/2, /*loss=*/-1, /*logitsGrad=*/3});
    return OpKernels{{warpRowLaunch(fn, rows)}, {}, {}};
  }
  // logits 0, targets 1, grad 2 -> loss 3, logits_grad 4.
  auto fn = buildLossKernel(kernels, "cross_entropy_fused", bf16Signature(op), loc, argTypes,
                            rows, vocab,
                            {/*grad=*/2, /*loss=*/3, /*logitsGrad=*/4});
  return OpKernels{{warpRowLaunch(fn, rows)}, {}, {/*loss=*/3}};
}
