//===- RowKernels.cpp - RMSNorm forward and backward GPU kernels ----------===//
//
// This file builds the kernels of tele.rms_norm and tele.rms_norm_grad. One
// warp handles one row (four rows a block): each lane reads 16-byte chunks
// of the row (strided by the warp, so each load instruction covers 512
// contiguous bytes), keeps them in registers between the statistics and
// the output pass when the row is narrow enough, and partial sums are
// combined with a butterfly of warp shuffles. The gain gradient sums over
// all rows: each warp of the backward walks a run of rows, adds its rows'
// terms to per-lane partial sums in registers while it has their x and dy
// at hand, and stores them; a second kernel adds the warps' partials per
// column in a fixed order (no atomics: the sum is reproducible).
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

using namespace mlir;
using namespace mlir::tele;

namespace {
/// Rows one warp of the RMSNorm backward walks, summing their gain-gradient
/// terms. Fewer warps would leave too few loads in flight; more would make
/// more partial sums to add.
constexpr int64_t kGainRowsPerWarp = 8;
/// The partial sums' reduction: a block adds 32 columns, each over 32
/// slices of the warps' rows, 8 rows at a time (independent loads in
/// flight), then the slices' sums through shared memory.
constexpr int64_t kGainSlices = 32, kGainUnroll = 8;
/// Floats per lane a row kernel keeps in registers per row-sized tensor
/// between its two passes; wider rows are read again (from L1/L2).
constexpr int64_t kKeptFloats = 64;

bool keep(const RowWalk &walk) { return walk.count * walk.vec <= kKeptFloats; }

/// A row-sized tensor read by a row kernel's two passes: its chunks are
/// loaded once and kept in registers when the row is narrow enough, else
/// read again by the second pass.
struct RowValues {
  const RowWalk &walk;
  Value memref, rowBase, lane;
  SmallVector<Value> kept;

  static RowValues load(ImplicitLocOpBuilder &b, const RowWalk &walk, Value memref,
                        Value rowBase, Value lane) {
    RowValues r{walk, memref, rowBase, lane, {}};
    for (int64_t i = 0; keep(walk) && i < walk.count; ++i)
      r.kept.push_back(walk.load(b, memref, rowBase, lane, i));
    return r;
  }
  Value operator()(ImplicitLocOpBuilder &b, int64_t i) const {
    return keep(walk) ? kept[i] : walk.load(b, memref, rowBase, lane, i);
  }
};

/// rstd = (sum_i m_i x_i^2 / sum_i m_i + eps)^-1/2 over the whole row, and
/// W = sum_i m_i (the row's width without a mask).
std::pair<Value, Value> rowRstd(ImplicitLocOpBuilder &b, const RowWalk &walk,
                                const RowValues &x, Value mask, Value lane, double eps) {
  Value sq = splatFloat(b, walk.type(b), 0.0), count = sq;
  for (int64_t i = 0; i < walk.count; ++i) {
    Value xv = x(b, i);
    Value m = mask ? walk.load(b, mask, Value(), lane, i) : Value();
    Value x2 = arith::MulFOp::create(b, xv, xv);
    sq = vector::FMAOp::create(b, m ? m : xv, m ? x2 : xv, sq);
    if (m)
      count = arith::AddFOp::create(b, count, m);
  }
  Value total = warpSum(b, RowWalk::sum(b, sq));
  Value w = mask ? warpSum(b, RowWalk::sum(b, count)) : f32(b, double(walk.width));
  Value rstd = math::RsqrtOp::create(
      b, arith::AddFOp::create(b, arith::DivFOp::create(b, total, w), f32(b, eps)));
  return {rstd, w};
}

std::string shapeName(int64_t rows, int64_t d) {
  return (Twine(rows) + "x" + Twine(d) + "xf32").str();
}

OpKernels buildNormForward(RMSNormOp norm, gpu::GPUModuleOp kernels) {
  auto ty = norm.getInput().getType();
  int64_t d = ty.getShape().back(), rows = ty.getNumElements() / d;
  bool masked = static_cast<bool>(norm.getMask());
  double eps = norm.getEps().convertToDouble();
  SmallVector<Type> argTypes{flatMemRef(norm.getInput()), flatMemRef(norm.getGain())};
  if (masked)
    argTypes.push_back(flatMemRef(norm.getMask()));
  argTypes.push_back(flatMemRef(norm.getResult()));
  std::string name = (masked ? "rms_norm_masked_" : "rms_norm_") + shapeName(rows, d) +
                     narrowedSuffix(norm.getResult());
  RowWalk walk = RowWalk::of(d);
  auto fn = getOrCreateKernel(
      kernels, name, argTypes, norm.getLoc(),
      [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value x = args[0], gain = args[1];
        Value mask = masked ? args[2] : Value();
        Value y = args.back();
        forEachWarpRow(b, rows, d, [&](ImplicitLocOpBuilder &b, Value row, Value lane,
                                       Value rowBase) {
          RowValues xs = RowValues::load(b, walk, x, rowBase, lane);
          Value rstd = rowRstd(b, walk, xs, mask, lane, eps).first;
          // y = gain * x * rstd.
          Value r = vector::BroadcastOp::create(b, walk.type(b), rstd);
          for (int64_t i = 0; i < walk.count; ++i) {
            Value g = walk.load(b, gain, Value(), lane, i);
            walk.store(b, arith::MulFOp::create(b, arith::MulFOp::create(b, g, xs(b, i)), r), y,
                       rowBase, lane, i);
          }
        });
      });
  return OpKernels{{warpRowLaunch(fn, rows)}, {}, {}};
}

// With S = sum_j m_j x_j^2, W = sum_j m_j, r = (S/W + eps)^-1/2, y = g x r:
//   dx_j = r g_j dy_j - (r^3 / W) m_j x_j sum_i dy_i g_i x_i,
//   dg_i = sum_rows dy_i x_i r,
// where dy is the sum of the op's output gradients (f32, or bf16 copies).
OpKernels buildNormBackward(RMSNormGradOp norm, gpu::GPUModuleOp kernels) {
  auto ty = norm.getInput().getType();
  int64_t d = ty.getShape().back(), rows = ty.getNumElements() / d;
  bool masked = static_cast<bool>(norm.getMask());
  bool plus = static_cast<bool>(norm.getAddend());
  bool copy = static_cast<bool>(norm.getInputGradCopy());
  int64_t numGrads = norm.getGrads().size();
  double eps = norm.getEps().convertToDouble();
  Type f32Type = ty.getElementType();
  // Warp w walks rows [w R, (w + 1) R) and leaves its gain-gradient partial
  // sums in row w of the workspace.
  int64_t warps = (rows + kGainRowsPerWarp - 1) / kGainRowsPerWarp;
  // Operands: input 0, gain 1, grads 2.., [mask], [addend]; results dx,
  // dgain, [dx's bf16 copy]; then the workspace of partial sums.
  int64_t nOperands = norm->getNumOperands(), nResults = norm->getNumResults();
  int64_t dxArg = nOperands, dgArg = nOperands + 1, partialArg = nOperands + nResults;
  RowWalk walk = RowWalk::of(d);

  SmallVector<Type> rowArgs;
  for (Value v : norm->getOperands())
    rowArgs.push_back(flatMemRef(v));
  rowArgs.push_back(flatMemRef(norm.getInputGrad()));
  if (copy)
    rowArgs.push_back(flatMemRef(norm.getInputGradCopy()));
  rowArgs.push_back(flatMemRef(f32Type, warps * d));
  std::string suffix = shapeName(rows, d) + bf16Signature(norm);
  std::string stem = std::string("rms_norm_grad_") + (masked ? "masked_" : "") +
                     (plus ? "plus_" : "") +
                     (numGrads > 1 ? "sum" + std::to_string(numGrads) + "_" : "");
  auto rowKernel = getOrCreateKernel(
      kernels, stem + suffix, rowArgs, norm.getLoc(),
      [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value x = args[0], gain = args[1];
        ValueRange grads = args.slice(2, numGrads);
        Value mask = masked ? args[2 + numGrads] : Value();
        Value addend = plus ? args[nOperands - 1] : Value();
        Value dx = args[nOperands], dxCopy = copy ? args[nOperands + 1] : Value();
        Value partials = args.back();
        // One "row" per warp: the warp's row of partial sums.
        forEachWarpRow(b, warps, d, [&](ImplicitLocOpBuilder &b, Value warp, Value lane,
                                        Value partialBase) {
          Value first = arith::MulIOp::create(b, warp, idx(b, kGainRowsPerWarp));
          Value last = arith::MinUIOp::create(
              b, arith::AddIOp::create(b, first, idx(b, kGainRowsPerWarp)), idx(b, rows));
          SmallVector<Value> zeros(walk.count, splatFloat(b, walk.type(b), 0.0));
          SmallVector<Value> sums = forLoop(
              b, first, last, idx(b, 1), zeros,
              [&](ImplicitLocOpBuilder &b, Value row, ValueRange acc) -> SmallVector<Value> {
                Value rowBase = arith::MulIOp::create(b, row, idx(b, d));
                RowValues xs = RowValues::load(b, walk, x, rowBase, lane);
                SmallVector<RowValues> dyParts;
                for (Value g : grads)
                  dyParts.push_back(RowValues::load(b, walk, g, rowBase, lane));
                auto dys = [&](ImplicitLocOpBuilder &b, int64_t i) {
                  Value sum = dyParts[0](b, i);
                  for (const RowValues &part : ArrayRef(dyParts).drop_front())
                    sum = arith::AddFOp::create(b, sum, part(b, i));
                  return sum;
                };
                auto [rstd, w] = rowRstd(b, walk, xs, mask, lane, eps);
                Value dot = splatFloat(b, walk.type(b), 0.0);
                for (int64_t i = 0; i < walk.count; ++i) {
                  Value g = walk.load(b, gain, Value(), lane, i);
                  dot = vector::FMAOp::create(b, arith::MulFOp::create(b, dys(b, i), g),
                                              xs(b, i), dot);
                }
                Value r3 = arith::MulFOp::create(b, arith::MulFOp::create(b, rstd, rstd), rstd);
                Value c = arith::DivFOp::create(
                    b, arith::MulFOp::create(b, r3, warpSum(b, RowWalk::sum(b, dot))), w);
                Value rv = vector::BroadcastOp::create(b, walk.type(b), rstd);
                Value cv = vector::BroadcastOp::create(b, walk.type(b), c);
                SmallVector<Value> next;
                for (int64_t i = 0; i < walk.count; ++i) {
                  Value g = walk.load(b, gain, Value(), lane, i);
                  Value rdy = arith::MulFOp::create(b, rv, dys(b, i));
                  Value mx = xs(b, i);
                  // dg's term dy x r (unmasked: the mask only enters rstd).
                  next.push_back(vector::FMAOp::create(b, rdy, mx, acc[i]));
                  if (mask)
                    mx = arith::MulFOp::create(b, walk.load(b, mask, Value(), lane, i), mx);
                  Value out = arith::SubFOp::create(b, arith::MulFOp::create(b, g, rdy),
                                                    arith::MulFOp::create(b, cv, mx));
                  if (addend) // the residual stream's gradient
                    out = arith::AddFOp::create(b, out, walk.load(b, addend, rowBase, lane, i));
                  walk.store(b, out, dx, rowBase, lane, i);
                  if (dxCopy)
                    walk.store(b, out, dxCopy, rowBase, lane, i);
                }
                return next;
              });
          for (int64_t i = 0; i < walk.count; ++i)
            walk.store(b, sums[i], partials, partialBase, lane, i);
        });
      });

  // dgain: thread (slice s, column j of the block's 32) adds rows s, s + 32,
  // ... of the warps' partial sums; then the 32 slices' sums are added in
  // order (the same order every run).
  SmallVector<Type> colArgs{flatMemRef(f32Type, warps * d), flatMemRef(norm.getGainGrad())};
  int64_t stride = kGainSlices * kGainUnroll, whole = warps / stride * stride;
  auto colKernel = getOrCreateKernel(
      kernels, "rms_norm_gain_grad_" + shapeName(warps, d), colArgs, norm.getLoc(),
      [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value partials = args[0], dg = args[1];
        Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
        Value slice = arith::DivUIOp::create(b, tid, idx(b, kWarp));
        Value col = arith::AddIOp::create(
            b,
            arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                                  idx(b, kWarp)),
            arith::RemUIOp::create(b, tid, idx(b, kWarp)));
        Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, col, idx(b, d));
        Value safeCol = arith::MinUIOp::create(b, col, idx(b, d - 1));
        auto at = [&](ImplicitLocOpBuilder &b, Value w) {
          return load(b, partials,
                      arith::AddIOp::create(b, arith::MulIOp::create(b, w, idx(b, d)), safeCol));
        };
        SmallVector<Value> zeros(kGainUnroll, f32(b, 0.0));
        SmallVector<Value> accs = forLoop(
            b, slice, idx(b, whole), idx(b, stride), zeros,
            [&](ImplicitLocOpBuilder &b, Value w, ValueRange acc) -> SmallVector<Value> {
              SmallVector<Value> next;
              for (int64_t u = 0; u < kGainUnroll; ++u)
                next.push_back(arith::AddFOp::create(
                    b, acc[u], at(b, arith::AddIOp::create(b, w, idx(b, u * kGainSlices)))));
              return next;
            });
        Value sum = accs[0];
        for (int64_t u = 1; u < kGainUnroll; ++u)
          sum = arith::AddFOp::create(b, sum, accs[u]);
        sum = forLoop(b, arith::AddIOp::create(b, slice, idx(b, whole)), idx(b, warps),
                      idx(b, kGainSlices), {sum},
                      [&](ImplicitLocOpBuilder &b, Value w, ValueRange acc) -> SmallVector<Value> {
                        return {arith::AddFOp::create(b, acc[0], at(b, w))};
                      })[0];
        Value shared = addWorkgroupBuffer(b, kGainSlices * kWarp);
        store(b, sum, shared, tid);
        gpu::BarrierOp::create(b);
        Value firstSlice = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, slice, idx(b, 0));
        ifThen(b, arith::AndIOp::create(b, firstSlice, inside), [&](ImplicitLocOpBuilder &b) {
          Value total = f32(b, 0.0);
          for (int64_t s = 0; s < kGainSlices; ++s)
            total = arith::AddFOp::create(
                b, total, load(b, shared, arith::AddIOp::create(b, tid, idx(b, s * kWarp))));
          store(b, total, dg, col);
        });
      });

  KernelLaunch rowPass = warpRowLaunch(rowKernel, warps);
  for (int64_t i = 0; i < nOperands; ++i)
    rowPass.args.push_back(i);
  rowPass.args.push_back(dxArg);
  if (copy)
    rowPass.args.push_back(dxArg + 2);
  rowPass.args.push_back(partialArg);
  KernelLaunch colLaunch{colKernel,
                         {(d + kWarp - 1) / kWarp, 1, 1},
                         {kGainSlices * kWarp, 1, 1},
                         {partialArg, dgArg}};
  return OpKernels{{rowPass, colLaunch}, {warps * d * 4}, {}};
}
} // namespace

FailureOr<OpKernels> mlir::tele::buildRowKernels(Operation *op,
                                                 gpu::GPUModuleOp kernels) {
  if (auto norm = dyn_cast<RMSNormOp>(op)) {
    if (!norm.getInput().getType().getElementType().isF32())
      return failure();
    return buildNormForward(norm, kernels);
  }
  if (auto grad = dyn_cast<RMSNormGradOp>(op)) {
    if (!grad.getInput().getType().getElementType().isF32())
      return failure();
    return buildNormBackward(grad, kernels);
  }
  return failure();
}
