//===- RowKernels.cpp - RMSNorm forward and backward GPU kernels ----------===//
//
// This file builds the kernels of tele.rms_norm and tele.rms_norm_grad. One
// warp handles one row (four rows a block): each lane reads 16-byte chunks
// of the row (strided by the warp, so each load instruction covers 512
// contiguous bytes), keeps them in registers between the statistics and
// the output pass when the row is narrow enough, and partial sums are
// combined with a butterfly of warp shuffles. The gain gradient sums over
// all rows: a second kernel gives each thread one column and a slice of the
// rows and adds its partial sum atomically, so no thread walks every row
// and no address sees more than one atomic per slice.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

using namespace mlir;
using namespace mlir::tele;

namespace {
/// Rows of the gain-gradient reduction one thread sums before its atomic.
/// Each column's address sees one atomic per slice: with 32-row slices and
/// four columns a thread the flm-1b step spent 5.0 ms in this kernel, with
/// 128-row slices and one column a thread 4.0.
constexpr int64_t kRowsPerSlice = 128;
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
        forEachWarpRow(b, rows, d, [&](ImplicitLocOpBuilder &b, Value row, Value lane,
                                       Value rowBase) {
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

  // dgain: thread (column j, slice s) sums rows [s*R, (s+1)*R).
  SmallVector<Type> colArgs{flatMemRef(norm.getInput()), flatMemRef(norm.getGrad()),
                            flatMemRef(f32Type, rows), flatMemRef(norm.getGainGrad())};
  auto colKernel = getOrCreateKernel(
      kernels, "rms_norm_gain_grad_" + suffix, colArgs, norm.getLoc(),
      [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value x = args[0], dy = args[1], rstd = args[2], dg = args[3];
        Value col = arith::AddIOp::create(
            b,
            arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                                  idx(b, kChunkBlock)),
            gpu::ThreadIdOp::create(b, gpu::Dimension::x));
        Value slice = gpu::BlockIdOp::create(b, gpu::Dimension::y);
        ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, col, idx(b, d)),
               [&](ImplicitLocOpBuilder &b) {
                 Value lo = arith::MulIOp::create(b, slice, idx(b, kRowsPerSlice));
                 Value hi = arith::MinUIOp::create(
                     b, arith::AddIOp::create(b, lo, idx(b, kRowsPerSlice)), idx(b, rows));
                 auto acc = forLoop(
                     b, lo, hi, idx(b, 1), {f32(b, 0.0)},
                     [&](ImplicitLocOpBuilder &b, Value r, ValueRange acc) -> SmallVector<Value> {
                       Value at = arith::AddIOp::create(
                           b, arith::MulIOp::create(b, r, idx(b, d)), col);
                       Value term = arith::MulFOp::create(
                           b, arith::MulFOp::create(b, load(b, dy, at), load(b, x, at)),
                           load(b, rstd, r));
                       return {arith::AddFOp::create(b, acc[0], term)};
                     });
                 atomicAdd(b, acc[0], dg, col);
               });
      });

  KernelLaunch rowPass = warpRowLaunch(rowKernel, rows);
  for (int64_t i = 0; i < nOperands; ++i)
    rowPass.args.push_back(i);
  rowPass.args.append({dxArg, rstdArg});
  KernelLaunch colLaunch{colKernel,
                         {(d + kChunkBlock - 1) / kChunkBlock,
                          (rows + kRowsPerSlice - 1) / kRowsPerSlice, 1},
                         {kChunkBlock, 1, 1},
                         {0, 2, rstdArg, dgArg}};
  return OpKernels{{rowPass, colLaunch}, {rows * 4}, {dgArg}};
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
