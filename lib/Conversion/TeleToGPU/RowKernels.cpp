//===- RowKernels.cpp - row-wise GPU kernels ------------------------------===//
//
// This file builds the kernels of tele's row-wise ops. One warp handles one
// row: each lane strides over the row, partial sums are combined with a
// butterfly of warp shuffles (no shared memory, no atomics, so results are
// deterministic), then the lanes write the normalised row.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

using namespace mlir;
using namespace mlir::tele;

namespace {
constexpr int64_t kWarp = 32;

/// Sum over the warp: after the butterfly every lane holds the total.
Value warpSum(ImplicitLocOpBuilder &b, Value v) {
  for (int32_t offset = kWarp / 2; offset > 0; offset /= 2) {
    auto shuffle = gpu::ShuffleOp::create(b, v, offset, kWarp, gpu::ShuffleMode::XOR);
    v = arith::AddFOp::create(b, v, shuffle.getShuffleResult());
  }
  return v;
}
} // namespace

FailureOr<KernelLaunch> mlir::tele::buildRowKernel(Operation *op,
                                                   gpu::GPUModuleOp kernels) {
  auto norm = dyn_cast<RMSNormOp>(op);
  if (!norm)
    return failure();
  auto ty = norm.getType();
  Type et = ty.getElementType();
  if (!et.isF32())
    return failure(); // bf16/f64 kernels are not generated yet
  int64_t d = ty.getShape().back(), rows = ty.getNumElements() / d;
  bool masked = static_cast<bool>(norm.getMask());

  SmallVector<Type> argTypes{flatMemRef(norm.getInput()), flatMemRef(norm.getGain())};
  if (masked)
    argTypes.push_back(flatMemRef(norm.getMask()));
  argTypes.push_back(flatMemRef(norm.getResult()));

  KernelLaunch launch;
  launch.block = kWarp;
  launch.grid = rows;
  std::string stem = ((masked ? "rms_norm_masked_" : "rms_norm_") + Twine(rows) +
                      "x" + Twine(d) + "xf32")
                         .str();
  launch.kernel = createKernel(kernels, stem, argTypes);

  OpBuilder builder(launch.kernel.getBody());
  ImplicitLocOpBuilder b(op->getLoc(), builder);
  Block &entry = launch.kernel.getBody().front();
  Value x = entry.getArgument(0), gain = entry.getArgument(1);
  Value mask = masked ? entry.getArgument(2) : Value();
  Value y = entry.getArgument(masked ? 3 : 2);

  Value row = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  Value lane = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value dIdx = arith::ConstantIndexOp::create(b, d);
  Value step = arith::ConstantIndexOp::create(b, kWarp);
  Value rowBase = arith::MulIOp::create(b, row, dIdx);
  Value zero = arith::ConstantFloatOp::create(b, cast<FloatType>(et), APFloat(0.0f));

  // Pass 1: sum_i m_i x_i^2 and sum_i m_i over this lane's columns.
  auto loop = scf::ForOp::create(b, lane, dIdx, step, ValueRange{zero, zero});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value j = loop.getInductionVar();
    Value xv = memref::LoadOp::create(b, x, ValueRange{arith::AddIOp::create(b, rowBase, j)});
    Value sq = arith::MulFOp::create(b, xv, xv);
    Value m = mask ? Value(memref::LoadOp::create(b, mask, ValueRange{j}))
                   : Value(arith::ConstantFloatOp::create(b, cast<FloatType>(et), APFloat(1.0f)));
    Value acc = arith::AddFOp::create(b, loop.getRegionIterArg(0),
                                      arith::MulFOp::create(b, m, sq));
    Value msum = arith::AddFOp::create(b, loop.getRegionIterArg(1), m);
    scf::YieldOp::create(b, ValueRange{acc, msum});
  }
  Value total = warpSum(b, loop.getResult(0));
  Value count = warpSum(b, loop.getResult(1));
  Value eps = arith::ConstantFloatOp::create(
      b, cast<FloatType>(et), APFloat(float(norm.getEps().convertToDouble())));
  Value rstd = math::RsqrtOp::create(
      b, arith::AddFOp::create(b, arith::DivFOp::create(b, total, count), eps));

  // Pass 2: y = gain * x * rstd.
  auto write = scf::ForOp::create(b, lane, dIdx, step);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(write.getBody());
    Value j = write.getInductionVar();
    Value at = arith::AddIOp::create(b, rowBase, j);
    Value xv = memref::LoadOp::create(b, x, ValueRange{at});
    Value g = memref::LoadOp::create(b, gain, ValueRange{j});
    Value out = arith::MulFOp::create(b, arith::MulFOp::create(b, g, xv), rstd);
    memref::StoreOp::create(b, out, y, ValueRange{at});
  }
  return launch;
}
