//===- RowKernels.cpp - RMSNorm forward and backward GPU kernels ----------===//
//
// This file builds the kernels of tele.rms_norm and tele.rms_norm_grad. In
// the forward one warp handles one row (four rows a block): each lane reads
// 16-byte chunks of the row (strided by the warp, so each load instruction
// covers 512 contiguous bytes), keeps them in registers between the
// statistics and the output pass when the row is narrow enough, and partial
// sums are combined with a butterfly of warp shuffles. In the backward a
// group of 1, 2 or 4 warps shares a row (wide rows), combining the warps'
// sums through shared memory. The gain gradient sums over all rows: each
// group of the backward walks a run of rows, adds its rows' terms to
// per-lane partial sums in registers while it has their x and dy at hand,
// and stores them; a second kernel adds the groups' partials per column in
// a fixed order (no atomics: the sum is reproducible).
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;
using namespace mlir::tele;

namespace {
/// Rows one group of warps of the RMSNorm backward walks, summing their
/// gain-gradient terms. Fewer groups would leave too few loads in flight;
/// more would make more partial sums to add. Even: a group's first row then
/// has parity 0, so the masked width's sums (parity-1 slots, see
/// RowGroupSum) are read before any row's sums reuse those slots.
constexpr int64_t kGainRowsPerGroup = 8;
static_assert(kGainRowsPerGroup % 2 == 0, "a group's first row must be even");
/// The partial sums' reduction: a block adds 32 columns, each over 32
/// slices of the groups' rows, 8 rows at a time (independent loads in
/// flight), then the slices' sums through shared memory.
constexpr int64_t kGainSlices = 32, kGainUnroll = 8;
/// Floats per lane the RMSNorm forward keeps in registers per row-sized
/// tensor between its two passes; wider rows are read again (from L1/L2).
constexpr int64_t kKeptFloats = 64;
/// Chunks per lane and row-sized tensor of the RMSNorm backward: rows with
/// more are split over 2 or 4 warps, which keep x, the summed dy, the
/// addend, the gain and the gain-gradient sums in registers (five tensors'
/// chunks) and load a row all at once. One warp a row at flm-1b's 2048 kept
/// 64 floats per tensor, spilled, and read the addend only after the row's
/// sums: 2.0-2.7 TB/s on an H200.
constexpr int64_t kBackwardChunks = 4;
/// Floats per lane up to which the backward keeps the gain and mask in
/// registers across its rows and x, dy and the addend across a row's two
/// passes (wider rows read them again).
constexpr int64_t kBackwardKeptFloats = 16;

/// Warps sharing a row of the RMSNorm backward: 1, 2 or 4 (a block).
int64_t backwardWarpsPerRow(int64_t d) {
  int64_t warps = 1;
  while (warps < kWarpRowsPerBlock && RowWalk::of(d, warps * kWarp).count > kBackwardChunks)
    warps *= 2;
  return warps;
}

/// Sums over a row that `warps` warps share: each warp's butterfly, then
/// the warps' sums through shared memory in warp order (the same every
/// run) behind a named barrier of the row's threads (id 1 + the row's
/// group in the block; 0 is the block's). The slots alternate by row
/// parity, so a warp writing the next row's sums cannot overwrite sums
/// another warp has yet to read: it passed that warp's barrier in between.
struct RowGroupSum {
  int64_t warps, quantities;
  Value shared, warpInBlock, firstWarp, barrierId;

  SmallVector<Value> operator()(ImplicitLocOpBuilder &b, ArrayRef<Value> partials,
                                Value parity) const {
    SmallVector<Value> sums;
    for (Value p : partials)
      sums.push_back(warpSum(b, p));
    if (warps == 1)
      return sums;
    auto slot = [&](Value warp, int64_t q) {
      Value half = arith::MulIOp::create(b, parity, idx(b, kWarpRowsPerBlock));
      Value at = arith::MulIOp::create(b, arith::AddIOp::create(b, half, warp),
                                       idx(b, quantities));
      return arith::AddIOp::create(b, at, idx(b, q));
    };
    for (size_t q = 0; q < sums.size(); ++q)
      store(b, sums[q], shared, slot(warpInBlock, q));
    Value threads = arith::ConstantIntOp::create(b, b.getI32Type(), warps * kWarp);
    NVVM::BarrierOp::create(b, Type(), barrierId, threads, {}, Value());
    for (size_t q = 0; q < sums.size(); ++q) {
      Value total = f32(b, 0.0);
      for (int64_t w = 0; w < warps; ++w)
        total = arith::AddFOp::create(
            b, total, load(b, shared, slot(arith::AddIOp::create(b, firstWarp, idx(b, w)), q)));
      sums[q] = total;
    }
    return sums;
  }
};

/// Chunk i of a tensor a row kernel reads more than once (a row's x, dy or
/// addend; a per-feature gain or mask).
using Chunks = std::function<Value(ImplicitLocOpBuilder &, int64_t)>;

/// `at`'s `count` chunks computed here and kept in registers when `kept`
/// (the row is narrow enough), else computed again at each use (read again
/// from L1/L2).
Chunks keptOrAgain(ImplicitLocOpBuilder &b, bool kept, int64_t count, Chunks at) {
  SmallVector<Value> chunks;
  for (int64_t i = 0; kept && i < count; ++i)
    chunks.push_back(at(b, i));
  return [=](ImplicitLocOpBuilder &b, int64_t i) { return kept ? chunks[i] : at(b, i); };
}

/// rstd = (sum_i m_i x_i^2 / sum_i m_i + eps)^-1/2 over a warp's row.
Value rowRstd(ImplicitLocOpBuilder &b, const RowWalk &walk, const Chunks &x, Value mask, Value lane,
              double eps) {
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
  return math::RsqrtOp::create(
      b, arith::AddFOp::create(b, arith::DivFOp::create(b, total, w), f32(b, eps)));
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
          Chunks xs = keptOrAgain(b, walk.count * walk.vec <= kKeptFloats, walk.count,
                                  [&](ImplicitLocOpBuilder &b, int64_t i) {
                                    return walk.load(b, x, rowBase, lane, i);
                                  });
          Value rstd = rowRstd(b, walk, xs, mask, lane, eps);
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
  // A group of `warpsPerRow` warps walks rows [g R, (g + 1) R) and leaves
  // its gain-gradient partial sums in row g of the workspace.
  int64_t warpsPerRow = backwardWarpsPerRow(d);
  int64_t groupsPerBlock = kWarpRowsPerBlock / warpsPerRow;
  int64_t groups = (rows + kGainRowsPerGroup - 1) / kGainRowsPerGroup;
  // Operands: input 0, gain 1, grads 2.., [mask], [addend]; results dx,
  // dgain, [dx's bf16 copy]; then the workspace of partial sums.
  int64_t nOperands = norm->getNumOperands(), nResults = norm->getNumResults();
  int64_t dxArg = nOperands, dgArg = nOperands + 1, partialArg = nOperands + nResults;
  RowWalk walk = RowWalk::of(d, warpsPerRow * kWarp);
  bool kept = walk.count * walk.vec <= kBackwardKeptFloats;

  SmallVector<Type> rowArgs;
  for (Value v : norm->getOperands())
    rowArgs.push_back(flatMemRef(v));
  rowArgs.push_back(flatMemRef(norm.getInputGrad()));
  if (copy)
    rowArgs.push_back(flatMemRef(norm.getInputGradCopy()));
  rowArgs.push_back(flatMemRef(f32Type, groups * d));
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

        Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
        Value warpInBlock = arith::DivUIOp::create(b, tid, idx(b, kWarp));
        Value groupInBlock = arith::DivUIOp::create(b, warpInBlock, idx(b, warpsPerRow));
        Value firstWarp = arith::MulIOp::create(b, groupInBlock, idx(b, warpsPerRow));
        Value lane = arith::AddIOp::create(
            b, arith::MulIOp::create(b, arith::SubIOp::create(b, warpInBlock, firstWarp),
                                     idx(b, kWarp)),
            arith::RemUIOp::create(b, tid, idx(b, kWarp)));
        Value group = arith::AddIOp::create(
            b,
            arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                                  idx(b, groupsPerBlock)),
            groupInBlock);
        RowGroupSum groupSum{
            warpsPerRow, 2,
            warpsPerRow > 1 ? addWorkgroupBuffer(b, 2 * kWarpRowsPerBlock * 2) : Value(),
            warpInBlock, firstWarp,
            // A constant where one group fills the block (ptxas then
            // reserves one barrier, not all 16).
            groupsPerBlock == 1
                ? arith::ConstantIntOp::create(b, b.getI32Type(), 1).getResult()
                : arith::IndexCastOp::create(b, b.getI32Type(),
                                             arith::AddIOp::create(b, groupInBlock, idx(b, 1)))
                      .getResult()};
        ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, group, idx(b, groups)),
               [&](ImplicitLocOpBuilder &b) {
          // Chunks of a row-sized tensor at `rowBase`, or (null) of a
          // per-feature vector, the same for every row.
          auto chunksOf = [&](ImplicitLocOpBuilder &b, Value memref, Value rowBase) {
            return keptOrAgain(b, kept, walk.count, [=, &walk](ImplicitLocOpBuilder &b, int64_t i) {
              return walk.load(b, memref, rowBase, lane, i);
            });
          };
          Chunks gainAt = chunksOf(b, gain, Value());
          Chunks maskAt = mask ? chunksOf(b, mask, Value()) : Chunks();
          // W = sum_i m_i: the same for every row.
          Value width = f32(b, double(d));
          if (mask) {
            Value count = splatFloat(b, walk.type(b), 0.0);
            for (int64_t i = 0; i < walk.count; ++i)
              count = arith::AddFOp::create(b, count, maskAt(b, i));
            width = groupSum(b, {RowWalk::sum(b, count)}, idx(b, 1))[0];
          }
          Value first = arith::MulIOp::create(b, group, idx(b, kGainRowsPerGroup));
          Value last = arith::MinUIOp::create(
              b, arith::AddIOp::create(b, first, idx(b, kGainRowsPerGroup)), idx(b, rows));
          SmallVector<Value> zeros(walk.count, splatFloat(b, walk.type(b), 0.0));
          SmallVector<Value> sums = forLoop(
              b, first, last, idx(b, 1), zeros,
              [&](ImplicitLocOpBuilder &b, Value row, ValueRange acc) -> SmallVector<Value> {
                Value rowBase = arith::MulIOp::create(b, row, idx(b, d));
                // The row's x, summed dy and addend, loaded together (kept)
                // or at each use.
                Chunks xs = chunksOf(b, x, rowBase);
                Chunks dys = keptOrAgain(b, kept, walk.count, [&](ImplicitLocOpBuilder &b,
                                                                  int64_t i) {
                  Value sum = walk.load(b, grads[0], rowBase, lane, i);
                  for (Value g : grads.drop_front())
                    sum = arith::AddFOp::create(b, sum, walk.load(b, g, rowBase, lane, i));
                  return sum;
                });
                Chunks addends = addend ? chunksOf(b, addend, rowBase) : Chunks();
                Value sq = splatFloat(b, walk.type(b), 0.0), dot = sq;
                for (int64_t i = 0; i < walk.count; ++i) {
                  Value xv = xs(b, i);
                  Value x2 = arith::MulFOp::create(b, xv, xv);
                  sq = vector::FMAOp::create(b, mask ? maskAt(b, i) : xv, mask ? x2 : xv, sq);
                  dot = vector::FMAOp::create(b, arith::MulFOp::create(b, dys(b, i), gainAt(b, i)),
                                              xv, dot);
                }
                Value parity = arith::RemUIOp::create(b, row, idx(b, 2));
                SmallVector<Value> rowSums =
                    groupSum(b, {RowWalk::sum(b, sq), RowWalk::sum(b, dot)}, parity);
                Value rstd = math::RsqrtOp::create(
                    b, arith::AddFOp::create(b, arith::DivFOp::create(b, rowSums[0], width),
                                             f32(b, eps)));
                Value r3 = arith::MulFOp::create(b, arith::MulFOp::create(b, rstd, rstd), rstd);
                Value c = arith::DivFOp::create(b, arith::MulFOp::create(b, r3, rowSums[1]), width);
                Value rv = vector::BroadcastOp::create(b, walk.type(b), rstd);
                Value cv = vector::BroadcastOp::create(b, walk.type(b), c);
                SmallVector<Value> next;
                for (int64_t i = 0; i < walk.count; ++i) {
                  Value rdy = arith::MulFOp::create(b, rv, dys(b, i));
                  Value mx = xs(b, i);
                  // dg's term dy x r (unmasked: the mask only enters rstd).
                  next.push_back(vector::FMAOp::create(b, rdy, mx, acc[i]));
                  if (mask)
                    mx = arith::MulFOp::create(b, maskAt(b, i), mx);
                  Value out = arith::SubFOp::create(b, arith::MulFOp::create(b, gainAt(b, i), rdy),
                                                    arith::MulFOp::create(b, cv, mx));
                  if (addend) // the residual stream's gradient
                    out = arith::AddFOp::create(b, out, addends(b, i));
                  walk.store(b, out, dx, rowBase, lane, i);
                  if (dxCopy)
                    walk.store(b, out, dxCopy, rowBase, lane, i);
                }
                return next;
              });
          Value partialBase = arith::MulIOp::create(b, group, idx(b, d));
          for (int64_t i = 0; i < walk.count; ++i)
            walk.store(b, sums[i], partials, partialBase, lane, i);
        });
      });

  // dgain: thread (slice s, column j of the block's 32) adds rows s, s + 32,
  // ... of the groups' partial sums; then the 32 slices' sums are added in
  // order (the same order every run).
  SmallVector<Type> colArgs{flatMemRef(f32Type, groups * d), flatMemRef(norm.getGainGrad())};
  int64_t stride = kGainSlices * kGainUnroll, whole = groups / stride * stride;
  auto colKernel = getOrCreateKernel(
      kernels, "rms_norm_gain_grad_" + shapeName(groups, d), colArgs, norm.getLoc(),
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
        sum = forLoop(b, arith::AddIOp::create(b, slice, idx(b, whole)), idx(b, groups),
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

  KernelLaunch rowPass{rowKernel,
                      {(groups + groupsPerBlock - 1) / groupsPerBlock, 1, 1},
                      {kWarpRowsPerBlock * kWarp, 1, 1},
                      {}};
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
  return OpKernels{{rowPass, colLaunch}, {groups * d * 4}, {}};
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
