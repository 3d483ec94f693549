//===- OptimizerKernels.cpp - global norm, clip, LR schedule, masks -------===//
//
// The small kernels around the AdamW update:
// * tele.global_norm: one grid-stride sum-of-squares launch per gradient
//   (128-bit loads, warp shuffles, one atomic per warp into a workspace the
//   runtime zeroes), then a one-thread launch that takes the square root;
// * tele.clip_scale, tele.lr_schedule: one thread each, so that the step's
//   scalars stay on the device and the step can be replayed as a graph;
// * tele.mask_vector: the MSG mask of a grown dimension.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

#include "llvm/ADT/StringExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tele;

namespace {
/// Upper bound on the blocks of a grid-stride reduction: enough to fill an
/// H100 several times over, few enough that atomics stay rare.
constexpr int64_t kMaxReductionBlocks = 1024;

KernelLaunch singleThread(gpu::GPUFuncOp fn, SmallVector<int64_t> args = {}) {
  return KernelLaunch{fn, {1, 1, 1}, {1, 1, 1}, std::move(args)};
}

/// The exact bits of a constant baked into a kernel, for its name.
std::string bitsOf(double v) { return llvm::utohexstr(llvm::bit_cast<uint64_t>(v)); }

/// Stores `value` from thread 0 only.
void storeFromThreadZero(ImplicitLocOpBuilder &b, Value value, Value memref) {
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, tid, idx(b, 0)),
         [&](ImplicitLocOpBuilder &b) { store(b, value, memref, idx(b, 0)); });
}

KernelLaunch sumSquares(Value input, gpu::GPUModuleOp kernels, Location loc) {
  int64_t n = cast<RankedTensorType>(input.getType()).getNumElements();
  int64_t vec = n % 4 == 0 ? 4 : 1;
  int64_t blocks = std::clamp<int64_t>((n / vec + kChunkBlock - 1) / kChunkBlock, 1,
                                       kMaxReductionBlocks);
  int64_t stride = blocks * kChunkBlock * vec;
  auto fn = getOrCreateKernel(
      kernels, ("sum_squares_" + Twine(n) + "xf32").str(),
      {flatMemRef(input), flatMemRef(Float32Type::get(loc.getContext()), 1)}, loc,
      [&](ImplicitLocOpBuilder &b, ValueRange args) {
        auto vt = VectorType::get({vec}, b.getF32Type());
        Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
        Value gid = arith::AddIOp::create(
            b,
            arith::MulIOp::create(b, gpu::BlockIdOp::create(b, gpu::Dimension::x),
                                  idx(b, kChunkBlock)),
            tid);
        auto acc = forLoop(
            b, arith::MulIOp::create(b, gid, idx(b, vec)), idx(b, n), idx(b, stride),
            {splatFloat(b, vt, 0.0)},
            [&](ImplicitLocOpBuilder &b, Value i, ValueRange acc) -> SmallVector<Value> {
              Value x = vector::LoadOp::create(b, vt, args[0], ValueRange{i}, false,
                                               llvm::MaybeAlign(vec * 4));
              return {vector::FMAOp::create(b, x, x, acc[0])};
            });
        Value total = warpSum(b, vector::ReductionOp::create(
                                     b, vector::CombiningKind::ADD, acc[0]));
        Value lane = arith::RemUIOp::create(b, tid, idx(b, kWarp));
        ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(b, 0)),
               [&](ImplicitLocOpBuilder &b) { atomicAdd(b, total, args[1], idx(b, 0)); });
      });
  return KernelLaunch{fn, {blocks, 1, 1}, {kChunkBlock, 1, 1}, {}};
}

/// lr(step) of tele.lr_schedule, as the CPU executor computes it.
Value learningRate(ImplicitLocOpBuilder &b, LRScheduleOp l, Value step) {
  double peak = l.getPeak().convertToDouble(), min = l.getMin().convertToDouble();
  int64_t warmup = l.getWarmupAttr().getInt(), total = l.getTotalAttr().getInt();
  Value s = arith::SIToFPOp::create(b, b.getF32Type(), step);
  Value warm = arith::MulFOp::create(b, f32(b, peak / double(std::max<int64_t>(warmup, 1))),
                                     arith::AddFOp::create(b, s, f32(b, 1.0)));
  Value p = f32(b, 1.0);
  if (total - 1 > warmup)
    p = arith::MulFOp::create(b, arith::SubFOp::create(b, s, f32(b, double(warmup))),
                              f32(b, 1.0 / double(total - 1 - warmup)));
  p = arith::MinimumFOp::create(b, arith::MaximumFOp::create(b, p, f32(b, 0.0)), f32(b, 1.0));
  Value decayed;
  switch (l.getDecay()) {
  case DecayKind::cosine: {
    Value c = math::CosOp::create(b, arith::MulFOp::create(b, p, f32(b, M_PI)));
    decayed = arith::AddFOp::create(
        b, f32(b, min),
        arith::MulFOp::create(b, f32(b, 0.5 * (peak - min)),
                              arith::AddFOp::create(b, f32(b, 1.0), c)));
    break;
  }
  case DecayKind::linear:
    decayed = arith::SubFOp::create(b, f32(b, peak),
                                    arith::MulFOp::create(b, f32(b, peak - min), p));
    break;
  case DecayKind::constant:
    decayed = f32(b, peak);
    break;
  }
  Value inWarmup = arith::CmpIOp::create(
      b, arith::CmpIPredicate::slt, step,
      arith::ConstantIntOp::create(b, b.getI64Type(), warmup));
  return arith::SelectOp::create(b, inWarmup, warm, decayed);
}
} // namespace

FailureOr<OpKernels> mlir::tele::buildOptimizerKernels(Operation *op,
                                                       gpu::GPUModuleOp kernels) {
  Location loc = op->getLoc();
  auto isF32 = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getElementType().isF32();
  };
  if (auto norm = dyn_cast<GlobalNormOp>(op)) {
    if (!isF32(norm.getResult()))
      return failure();
    int64_t n = norm.getInputs().size();
    int64_t result = n, workspace = n + 1;
    OpKernels out;
    for (auto [i, input] : llvm::enumerate(norm.getInputs())) {
      KernelLaunch l = sumSquares(input, kernels, loc);
      l.args = {int64_t(i), workspace};
      out.launches.push_back(l);
    }
    MemRefType scalar = flatMemRef(Float32Type::get(op->getContext()), 1);
    auto root = getOrCreateKernel(kernels, "sqrt_f32", {scalar, scalar}, loc,
                                  [&](ImplicitLocOpBuilder &b, ValueRange args) {
                                    Value s = math::SqrtOp::create(b, load(b, args[0], idx(b, 0)));
                                    storeFromThreadZero(b, s, args[1]);
                                  });
    out.launches.push_back(singleThread(root, {workspace, result}));
    out.workspaceBytes = {4};
    out.zeroed = {workspace};
    return out;
  }
  if (auto clip = dyn_cast<ClipScaleOp>(op)) {
    if (!isF32(clip.getResult()))
      return failure();
    double maxNorm = clip.getMaxNorm().convertToDouble();
    MemRefType scalar = flatMemRef(clip.getResult());
    auto fn = getOrCreateKernel(
        kernels, "clip_scale_" + bitsOf(maxNorm) + "_f32",
        {scalar, scalar}, loc, [&](ImplicitLocOpBuilder &b, ValueRange args) {
          Value norm = arith::AddFOp::create(b, load(b, args[0], idx(b, 0)), f32(b, 1e-6));
          Value s = arith::MinimumFOp::create(
              b, f32(b, 1.0), arith::DivFOp::create(b, f32(b, maxNorm), norm));
          storeFromThreadZero(b, s, args[1]);
        });
    return OpKernels{{singleThread(fn)}, {}, {}};
  }
  if (auto lr = dyn_cast<LRScheduleOp>(op)) {
    if (!isF32(lr.getResult()))
      return failure();
    // Each schedule is its own kernel: the constants are baked in.
    std::string name;
    {
      llvm::raw_string_ostream os(name);
      os << "lr_schedule_" << stringifyDecayKind(lr.getDecay()) << "_"
         << lr.getWarmupAttr().getInt() << "_" << lr.getTotalAttr().getInt() << "_"
         << bitsOf(lr.getPeak().convertToDouble()) << "_"
         << bitsOf(lr.getMin().convertToDouble());
    }
    auto fn = getOrCreateKernel(kernels, name,
                                {flatMemRef(lr.getStep()), flatMemRef(lr.getResult())}, loc,
                                [&](ImplicitLocOpBuilder &b, ValueRange args) {
                                  Value step = load(b, args[0], idx(b, 0));
                                  storeFromThreadZero(b, learningRate(b, lr, step), args[1]);
                                });
    return OpKernels{{singleThread(fn)}, {}, {}};
  }
  if (auto mask = dyn_cast<MaskVectorOp>(op)) {
    if (!isF32(mask.getResult()))
      return failure();
    int64_t n = mask.getType().getNumElements(), kept = mask.getKeptAttr().getInt();
    auto fn = getOrCreateKernel(
        kernels, ("mask_vector_" + Twine(n) + "_kept" + Twine(kept) + "_f32").str(),
        {flatMemRef(mask.getValue()), flatMemRef(mask.getResult())}, loc,
        [&](ImplicitLocOpBuilder &b, ValueRange args) {
          Value i = beginChunk(b, n, 1);
          Value c = load(b, args[0], idx(b, 0));
          Value isKept = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, i, idx(b, kept));
          store(b, arith::SelectOp::create(b, isKept, f32(b, 1.0), c), args[1], i);
        });
    return OpKernels{{chunkedLaunch(fn, n, 1)}, {}, {}};
  }
  return failure();
}
