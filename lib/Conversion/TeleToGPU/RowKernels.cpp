//===- RowKernels.cpp - RMSNorm forward and backward GPU kernels ----------===//
//
// This file builds the kernels of tele.rms_norm and tele.rms_norm_grad. One
// warp handles one row (four rows a block): each lane reads 16-byte chunks
// of the row (strided by the warp, so each load instruction covers 512
// contiguous bytes), keeps them in registers between the statistics and
// the output pass when the row is narrow enough, and partial sums are
// combined with a butterfly of warp shuffles. The gain gradient sums over
// all rows: a second kernel gives each thread four columns and a slice of
// the rows and adds its partial sums atomically, so no thread walks every
// row and no address sees more than one atomic per slice.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

using namespace mlir;
using namespace mlir::tele;

namespace {
/// Rows a block of the row kernels handles: one per warp.
constexpr int64_t kRowsPerBlock = 4;
/// Rows of the gain-gradient reduction one thread sums before its atomic.
constexpr int64_t kRowsPerSlice = 32;
/// Floats per lane a row kernel keeps in registers per row-sized tensor
/// between its two passes; wider rows are read again (from L1/L2).
constexpr int64_t kKeptFloats = 64;

/// How a warp walks one row of `d` features: lane l's chunks are columns
/// [(i * 32 + l) * vec, ... + vec) for i < count. Rows a multiple of 128
/// wide take 16-byte chunks; others single features, the last chunks
/// guarded when the row is not a multiple of 32.
struct RowWalk {
  int64_t d, vec, count;
  bool ragged;

  static RowWalk of(int64_t d) {
    int64_t vec = d % (4 * kWarp) == 0 ? 4 : d % (2 * kWarp) == 0 ? 2 : 1;
    int64_t count = (d + vec * kWarp - 1) / (vec * kWarp);
    return {d, vec, count, d % (vec * kWarp) != 0};
  }
  bool keep() const { return count * vec <= kKeptFloats; }
  VectorType type(ImplicitLocOpBuilder &b) const {
    return VectorType::get({vec}, b.getF32Type());
  }
  Value column(ImplicitLocOpBuilder &b, Value lane, int64_t i) const {
    return arith::MulIOp::create(
        b, arith::AddIOp::create(b, idx(b, i * kWarp), lane), idx(b, vec));
  }
  /// Chunk i of a row at `rowBase` of `memref` (f32, or a bf16 copy, read
  /// widened); zeros past the row's end.
  Value load(ImplicitLocOpBuilder &b, Value memref, Value rowBase, Value lane, int64_t i) const {
    Value col = column(b, lane, i);
    Value at = rowBase ? arith::AddIOp::create(b, rowBase, col) : col;
    if (!ragged || (i + 1) * vec * kWarp <= d)
      return loadChunk(b, type(b), memref, at);
    Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, col, idx(b, d));
    return ifElse(
        b, inside,
        [&](ImplicitLocOpBuilder &b) -> SmallVector<Value> {
          return {loadChunk(b, type(b), memref, at)};
        },
        [&](ImplicitLocOpBuilder &b) -> SmallVector<Value> {
          return {splatFloat(b, type(b), 0.0)};
        })[0];
  }
  /// Stores chunk i of a row (rounded if the memref is a bf16 copy).
  void store(ImplicitLocOpBuilder &b, Value value, Value memref, Value rowBase, Value lane,
             int64_t i) const {
    Value col = column(b, lane, i);
    Value at = arith::AddIOp::create(b, rowBase, col);
    if (!ragged || (i + 1) * vec * kWarp <= d)
      return storeChunk(b, value, memref, at);
    ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, col, idx(b, d)),
           [&](ImplicitLocOpBuilder &b) { storeChunk(b, value, memref, at); });
  }
  /// The sum of a vector's lanes.
  static Value sum(ImplicitLocOpBuilder &b, Value v) {
    return vector::ReductionOp::create(b, vector::CombiningKind::ADD, v);
  }
};

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
    for (int64_t i = 0; walk.keep() && i < walk.count; ++i)
      r.kept.push_back(walk.load(b, memref, rowBase, lane, i));
    return r;
  }
  Value operator()(ImplicitLocOpBuilder &b, int64_t i) const {
    return walk.keep() ? kept[i] : walk.load(b, memref, rowBase, lane, i);
  }
};

/// The row this warp handles (kRowsPerBlock per block), its lane, and the
/// guard that the row exists; `body` runs under it.
void forEachWarpRow(ImplicitLocOpBuilder &b, int64_t rows,
                    function_ref<void(ImplicitLocOpBuilder &, Value row, Value lane)> body) {
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value warp = arith::DivUIOp::create(b, tid, idx(b, kWarp));
  Value lane = arith::RemUIOp::create(b, tid, idx(b, kWarp));
  Value row = arith::AddIOp::create(
      b,
      arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                            idx(b, kRowsPerBlock)),
      warp);
  ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, idx(b, rows)),
         [&](ImplicitLocOpBuilder &b) { body(b, row, lane); });
}

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
  Value w = mask ? warpSum(b, RowWalk::sum(b, count)) : f32(b, double(walk.d));
  Value rstd = math::RsqrtOp::create(
      b, arith::AddFOp::create(b, arith::DivFOp::create(b, total, w), f32(b, eps)));
  return {rstd, w};
}

std::string shapeName(int64_t rows, int64_t d) {
  return (Twine(rows) + "x" + Twine(d) + "xf32").str();
}

KernelLaunch rowLaunch(gpu::GPUFuncOp fn, int64_t rows) {
  return KernelLaunch{fn,
                      {(rows + kRowsPerBlock - 1) / kRowsPerBlock, 1, 1},
                      {kRowsPerBlock * kWarp, 1, 1},
                      {}};
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
        forEachWarpRow(b, rows, [&](ImplicitLocOpBuilder &b, Value row, Value lane) {
          Value rowBase = arith::MulIOp::create(b, row, idx(b, d));
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
  return OpKernels{{rowLaunch(fn, rows)}, {}, {}};
}

// With S = sum_j m_j x_j^2, W = sum_j m_j, r = (S/W + eps)^-1/2, y = g x r:
//   dx_j = r g_j dy_j - (r^3 / W) m_j x_j sum_i dy_i g_i x_i,
//   dg_i = sum_rows dy_i x_i r.
OpKernels buildNormBackward(RMSNormGradOp norm, gpu::GPUModuleOp kernels) {
  auto ty = norm.getInput().getType();
  int64_t d = ty.getShape().back(), rows = ty.getNumElements() / d;
  bool masked = static_cast<bool>(norm.getMask());
  bool plus = static_cast<bool>(norm.getAddend());
  double eps = norm.getEps().convertToDouble();
  Type f32Type = ty.getElementType();
  // Operands: input 0, gain 1, grad 2, [mask], [addend]; results dx, dgain;
  // then the workspace of per-row rstd.
  int64_t nOperands = norm->getNumOperands();
  int64_t dxArg = nOperands, dgArg = nOperands + 1, rstdArg = nOperands + 2;
  RowWalk walk = RowWalk::of(d);

  SmallVector<Type> rowArgs;
  for (Value v : norm->getOperands())
    rowArgs.push_back(flatMemRef(v));
  rowArgs.push_back(flatMemRef(norm.getInputGrad()));
  rowArgs.push_back(flatMemRef(f32Type, rows));
  std::string suffix = shapeName(rows, d);
  std::string stem = std::string("rms_norm_grad_") + (masked ? "masked_" : "") +
                     (plus ? "plus_" : "");
  auto rowKernel = getOrCreateKernel(
      kernels, stem + suffix,
      rowArgs, norm.getLoc(), [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value x = args[0], gain = args[1], dy = args[2];
        Value mask = masked ? args[3] : Value();
        Value addend = plus ? args[nOperands - 1] : Value();
        Value dx = args[nOperands], rstdOut = args[nOperands + 1];
        forEachWarpRow(b, rows, [&](ImplicitLocOpBuilder &b, Value row, Value lane) {
          Value rowBase = arith::MulIOp::create(b, row, idx(b, d));
          RowValues xs = RowValues::load(b, walk, x, rowBase, lane);
          RowValues dys = RowValues::load(b, walk, dy, rowBase, lane);
          auto [rstd, w] = rowRstd(b, walk, xs, mask, lane, eps);
          Value dot = splatFloat(b, walk.type(b), 0.0);
          for (int64_t i = 0; i < walk.count; ++i) {
            Value g = walk.load(b, gain, Value(), lane, i);
            dot = vector::FMAOp::create(b, arith::MulFOp::create(b, dys(b, i), g), xs(b, i), dot);
          }
          Value r3 = arith::MulFOp::create(b, arith::MulFOp::create(b, rstd, rstd), rstd);
          Value c = arith::DivFOp::create(
              b, arith::MulFOp::create(b, r3, warpSum(b, RowWalk::sum(b, dot))), w);
          Value rv = vector::BroadcastOp::create(b, walk.type(b), rstd);
          Value cv = vector::BroadcastOp::create(b, walk.type(b), c);
          for (int64_t i = 0; i < walk.count; ++i) {
            Value g = walk.load(b, gain, Value(), lane, i);
            Value first = arith::MulFOp::create(b, rv, arith::MulFOp::create(b, g, dys(b, i)));
            Value mx = xs(b, i);
            if (mask)
              mx = arith::MulFOp::create(b, walk.load(b, mask, Value(), lane, i), mx);
            Value out = arith::SubFOp::create(b, first, arith::MulFOp::create(b, cv, mx));
            if (addend) // the residual stream's gradient
              out = arith::AddFOp::create(b, out, walk.load(b, addend, rowBase, lane, i));
            walk.store(b, out, dx, rowBase, lane, i);
          }
          ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(b, 0)),
                 [&](ImplicitLocOpBuilder &b) { store(b, rstd, rstdOut, row); });
        });
      });

  // dgain: thread (columns [j, j + vec), slice s) sums rows [s*R, (s+1)*R).
  int64_t vec = d % 4 == 0 ? 4 : 1, columns = d / vec;
  SmallVector<Type> colArgs{flatMemRef(norm.getInput()), flatMemRef(norm.getGrad()),
                            flatMemRef(f32Type, rows), flatMemRef(norm.getGainGrad())};
  auto colKernel = getOrCreateKernel(
      kernels, "rms_norm_gain_grad_" + suffix, colArgs, norm.getLoc(),
      [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value x = args[0], dy = args[1], rstd = args[2], dg = args[3];
        auto vt = VectorType::get({vec}, b.getF32Type());
        Value chunk = arith::AddIOp::create(
            b,
            arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                                  idx(b, kChunkBlock)),
            gpu::ThreadIdOp::create(b, gpu::Dimension::x));
        Value slice = gpu::BlockIdOp::create(b, gpu::Dimension::y);
        ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, chunk, idx(b, columns)),
               [&](ImplicitLocOpBuilder &b) {
                 Value col = arith::MulIOp::create(b, chunk, idx(b, vec));
                 Value lo = arith::MulIOp::create(b, slice, idx(b, kRowsPerSlice));
                 Value hi = arith::MinUIOp::create(
                     b, arith::AddIOp::create(b, lo, idx(b, kRowsPerSlice)), idx(b, rows));
                 auto acc = forLoop(
                     b, lo, hi, idx(b, 1), {splatFloat(b, vt, 0.0)},
                     [&](ImplicitLocOpBuilder &b, Value r, ValueRange acc) -> SmallVector<Value> {
                       Value at = arith::AddIOp::create(
                           b, arith::MulIOp::create(b, r, idx(b, d)), col);
                       Value term = arith::MulFOp::create(b, loadChunk(b, vt, dy, at),
                                                          loadChunk(b, vt, x, at));
                       Value rv = vector::BroadcastOp::create(b, vt, load(b, rstd, r));
                       return {vector::FMAOp::create(b, term, rv, acc[0])};
                     });
                 for (int64_t l = 0; l < vec; ++l)
                   atomicAdd(b, vector::ExtractOp::create(b, acc[0], ArrayRef<int64_t>{l}), dg,
                             arith::AddIOp::create(b, col, idx(b, l)));
               });
      });

  KernelLaunch rows_ = rowLaunch(rowKernel, rows);
  for (int64_t i = 0; i < nOperands; ++i)
    rows_.args.push_back(i);
  rows_.args.append({dxArg, rstdArg});
  KernelLaunch colLaunch{colKernel,
                         {(columns + kChunkBlock - 1) / kChunkBlock,
                          (rows + kRowsPerSlice - 1) / kRowsPerSlice, 1},
                         {kChunkBlock, 1, 1},
                         {0, 2, rstdArg, dgArg}};
  return OpKernels{{rows_, colLaunch}, {rows * 4}, {dgArg}};
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
