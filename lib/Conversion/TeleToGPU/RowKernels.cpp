//===- RowKernels.cpp - RMSNorm forward and backward GPU kernels ----------===//
//
// This file builds the kernels of tele.rms_norm and tele.rms_norm_grad. One
// warp handles one row: each lane strides over the row and partial sums are
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
constexpr int64_t kRowsPerSlice = 128;

struct RowStats {
  Value rstd;  ///< (sum_i m_i x_i^2 / sum_i m_i + eps)^-1/2
  Value dot;   ///< sum_i dy_i g_i x_i (backward only)
  Value count; ///< sum_i m_i
};

/// The statistics of row `row` with this lane's share of the columns.
RowStats rowStats(ImplicitLocOpBuilder &b, Value x, Value mask, Value gain,
                  Value dy, Value rowBase, Value lane, int64_t d, double eps) {
  Value zero = f32(b, 0.0);
  SmallVector<Value> init{zero, zero, zero};
  auto sums = forLoop(
      b, lane, idx(b, d), idx(b, kWarp), init,
      [&](ImplicitLocOpBuilder &b, Value j, ValueRange acc) -> SmallVector<Value> {
        Value xv = load(b, x, arith::AddIOp::create(b, rowBase, j));
        Value m = mask ? load(b, mask, j) : f32(b, 1.0);
        Value sq = arith::MulFOp::create(b, m, arith::MulFOp::create(b, xv, xv));
        Value dot = acc[2];
        if (dy) {
          Value g = load(b, gain, j);
          Value dyv = load(b, dy, arith::AddIOp::create(b, rowBase, j));
          dot = arith::AddFOp::create(
              b, dot, arith::MulFOp::create(b, arith::MulFOp::create(b, dyv, g), xv));
        }
        return {arith::AddFOp::create(b, acc[0], sq),
                arith::AddFOp::create(b, acc[1], m), dot};
      });
  Value total = warpSum(b, sums[0]);
  Value count = warpSum(b, sums[1]);
  Value rstd = math::RsqrtOp::create(
      b, arith::AddFOp::create(b, arith::DivFOp::create(b, total, count), f32(b, eps)));
  return {rstd, dy ? warpSum(b, sums[2]) : Value(), count};
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
  auto fn = getOrCreateKernel(
      kernels, name, argTypes, norm.getLoc(),
      [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value x = args[0], gain = args[1];
        Value mask = masked ? args[2] : Value();
        Value y = args.back();
        Value row = gpu::BlockIdOp::create(b, gpu::Dimension::x);
        Value lane = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
        Value rowBase = arith::MulIOp::create(b, row, idx(b, d));
        RowStats s = rowStats(b, x, mask, gain, Value(), rowBase, lane, d, eps);
        // y = gain * x * rstd.
        forLoop(b, lane, idx(b, d), idx(b, kWarp), {},
                [&](ImplicitLocOpBuilder &b, Value j, ValueRange) -> SmallVector<Value> {
                  Value at = arith::AddIOp::create(b, rowBase, j);
                  Value out = arith::MulFOp::create(
                      b, arith::MulFOp::create(b, load(b, gain, j), load(b, x, at)), s.rstd);
                  store(b, out, y, at);
                  return {};
                });
      });
  KernelLaunch launch;
  launch.kernel = fn;
  launch.grid = {rows, 1, 1};
  launch.block = {kWarp, 1, 1};
  return OpKernels{{launch}, {}, {}};
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
        Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
        Value warp = arith::DivUIOp::create(b, tid, idx(b, kWarp));
        Value lane = arith::RemUIOp::create(b, tid, idx(b, kWarp));
        Value row = arith::AddIOp::create(
            b, arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                                     idx(b, 4)),
            warp);
        ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, idx(b, rows)),
               [&](ImplicitLocOpBuilder &b) {
                 Value rowBase = arith::MulIOp::create(b, row, idx(b, d));
                 RowStats s = rowStats(b, x, mask, gain, dy, rowBase, lane, d, eps);
                 Value w = s.count;
                 Value r3 = arith::MulFOp::create(
                     b, arith::MulFOp::create(b, s.rstd, s.rstd), s.rstd);
                 Value c = arith::DivFOp::create(b, arith::MulFOp::create(b, r3, s.dot), w);
                 forLoop(b, lane, idx(b, d), idx(b, kWarp), {},
                         [&](ImplicitLocOpBuilder &b, Value j, ValueRange) -> SmallVector<Value> {
                           Value at = arith::AddIOp::create(b, rowBase, j);
                           Value m = mask ? load(b, mask, j) : f32(b, 1.0);
                           Value first = arith::MulFOp::create(
                               b, s.rstd,
                               arith::MulFOp::create(b, load(b, gain, j), load(b, dy, at)));
                           Value second = arith::MulFOp::create(
                               b, c, arith::MulFOp::create(b, m, load(b, x, at)));
                           Value out = arith::SubFOp::create(b, first, second);
                           if (addend) // the residual stream's gradient
                             out = arith::AddFOp::create(b, out, load(b, addend, at));
                           store(b, out, dx, at);
                           return {};
                         });
                 ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(b, 0)),
                        [&](ImplicitLocOpBuilder &b) { store(b, s.rstd, rstdOut, row); });
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

  KernelLaunch rowLaunch{rowKernel, {(rows + 3) / 4, 1, 1}, {4 * kWarp, 1, 1}, {}};
  for (int64_t i = 0; i < nOperands; ++i)
    rowLaunch.args.push_back(i);
  rowLaunch.args.append({dxArg, rstdArg});
  KernelLaunch colLaunch{colKernel,
                         {(d + kChunkBlock - 1) / kChunkBlock,
                          (rows + kRowsPerSlice - 1) / kRowsPerSlice, 1},
                         {kChunkBlock, 1, 1},
                         {0, 2, rstdArg, dgArg}};
  return OpKernels{{rowLaunch, colLaunch}, {rows * 4}, {dgArg}};
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
