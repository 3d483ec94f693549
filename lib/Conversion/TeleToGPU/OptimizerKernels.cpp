//===- OptimizerKernels.cpp - global norm, clip, LR schedule, masks -------===//
//
// The small kernels around the AdamW update:
// * tele.global_norm: one launch per 256 gradients (a gradient of n floats
//   gets ceil(n / 64K) blocks, which stride through it together with
//   128-bit loads; each block writes its partial sum), then one block that
//   adds the partials in a fixed order and takes the square root: two
//   launches for our models where there were one per gradient, and no
//   atomics, so the norm is reproducible;
// * tele.clip_scale, tele.lr_schedule: one thread each, so that the step's
//   scalars stay on the device and the step can be replayed as a graph;
// * tele.mask_vector: the MSG mask of a grown dimension.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/xxhash.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tele;

namespace {
KernelLaunch singleThread(gpu::GPUFuncOp fn, SmallVector<int64_t> args = {}) {
  return KernelLaunch{fn, {1, 1, 1}, {1, 1, 1}, std::move(args)};
}

/// The exact bits of a constant baked into a kernel, for its name.
std::string bitsOf(double v) { return llvm::utohexstr(llvm::bit_cast<uint64_t>(v)); }

/// Stores `value` at memref[at] (element 0 by default) from thread 0 only.
void storeFromThreadZero(ImplicitLocOpBuilder &b, Value value, Value memref, Value at = {}) {
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  ifThen(b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, tid, idx(b, 0)),
         [&](ImplicitLocOpBuilder &b) { store(b, value, memref, at ? at : idx(b, 0)); });
}

/// The global norm's first pass gives a gradient one block per this many
/// floats (the blocks stride through it together)...
constexpr int64_t kNormPieceFloats = 64 * 1024;
/// ...with up to this many gradients a launch: their pointers are the
/// kernel's parameters (8 bytes each, within the 4 KiB parameter space).
constexpr int64_t kMaxNormInputsPerLaunch = 256;

/// One gradient's share of the first pass: its blocks are
/// [firstBlock, firstBlock + blocks) of its launch.
struct NormPieces {
  int64_t n, vec, blocks, firstBlock;
};

/// The launch that writes, for each block, the sum of squares of its share
/// of one of `inputs` into partials[firstPartial + block]. Each block finds
/// its gradient by counting the gradients whose first block is at or before
/// it (a scan over constants), then strides through the gradient together
/// with its other blocks, 128-bit loads where the size allows.
KernelLaunch sumSquaresPieces(ArrayRef<Value> inputs, int64_t firstPartial,
                              MemRefType partialsType, gpu::GPUModuleOp kernels,
                              Location loc) {
  SmallVector<NormPieces> pieces;
  SmallVector<Type> argTypes;
  std::string key;
  int64_t blocks = 0;
  for (Value input : inputs) {
    int64_t n = cast<RankedTensorType>(input.getType()).getNumElements();
    int64_t vec = n % 4 == 0 ? 4 : 1;
    int64_t count = (n + kNormPieceFloats - 1) / kNormPieceFloats;
    pieces.push_back({n, vec, count, blocks});
    blocks += count;
    argTypes.push_back(flatMemRef(input));
    key += std::to_string(n) + (getElementTypeOrSelf(input.getType()).isBF16() ? "b," : ",");
  }
  argTypes.push_back(partialsType);
  key += "@" + std::to_string(firstPartial) + "/" + std::to_string(partialsType.getNumElements());
  // The sizes specialize the kernel: a digest of them keeps the name short.
  std::string name = ("sum_squares_" + Twine(inputs.size()) + "x_" +
                      llvm::utohexstr(llvm::xxh3_64bits(key)))
                         .str();
  auto fn = getOrCreateKernel(
      kernels, name, argTypes, loc, [&](ImplicitLocOpBuilder &b, ValueRange args) {
        Value block = gpu::BlockIdOp::create(b, gpu::Dimension::x);
        Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
        SmallVector<int64_t> firstBlocks;
        for (const NormPieces &p : pieces)
          firstBlocks.push_back(p.firstBlock);
        Value sum = switchOnBlockTensor(
            b, firstBlocks, TypeRange{b.getF32Type()},
            [&](ImplicitLocOpBuilder &b, int64_t i, Value local) -> SmallVector<Value> {
              const NormPieces &p = pieces[i];
              auto vt = VectorType::get({p.vec}, b.getF32Type());
              Value start = arith::MulIOp::create(
                  b,
                  arith::AddIOp::create(b, arith::MulIOp::create(b, local, idx(b, kChunkBlock)),
                                        tid),
                  idx(b, p.vec));
              auto acc = forLoop(
                  b, start, idx(b, p.n), idx(b, p.blocks * kChunkBlock * p.vec),
                  {splatFloat(b, vt, 0.0)},
                  [&](ImplicitLocOpBuilder &b, Value j, ValueRange acc) -> SmallVector<Value> {
                    Value x = loadChunk(b, vt, args[i], j);
                    return {vector::FMAOp::create(b, x, x, acc[0])};
                  });
              return {RowWalk::sum(b, acc[0])};
            },
            [&](ImplicitLocOpBuilder &b) -> SmallVector<Value> { return {f32(b, 0.0)}; })[0];
        Value total = blockSum(b, sum, kChunkBlock);
        storeFromThreadZero(b, total, args.back(),
                            arith::AddIOp::create(b, block, idx(b, firstPartial)));
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
    // Launches of up to kMaxNormInputsPerLaunch gradients write one partial
    // sum per block into the workspace; one block adds them in a fixed
    // order and takes the square root. No atomics: the norm is the same on
    // every run.
    // Empty gradients add nothing (and would make empty grids).
    SmallVector<Value> inputs;
    SmallVector<int64_t> operandOf;
    for (auto [i, input] : llvm::enumerate(norm.getInputs()))
      if (cast<RankedTensorType>(input.getType()).getNumElements() > 0) {
        inputs.push_back(input);
        operandOf.push_back(int64_t(i));
      }
    int64_t n = inputs.size(), result = norm.getInputs().size(), workspace = result + 1;
    int64_t partials = 0;
    for (Value input : inputs)
      partials += (cast<RankedTensorType>(input.getType()).getNumElements() +
                   kNormPieceFloats - 1) /
                  kNormPieceFloats;
    MemRefType partialsType = flatMemRef(Float32Type::get(op->getContext()), partials);
    OpKernels out;
    int64_t firstPartial = 0;
    for (int64_t first = 0; first < n; first += kMaxNormInputsPerLaunch) {
      int64_t count = std::min(kMaxNormInputsPerLaunch, n - first);
      KernelLaunch l = sumSquaresPieces(ArrayRef<Value>(inputs).slice(first, count), firstPartial,
                                        partialsType, kernels, loc);
      for (int64_t i = first; i < first + count; ++i)
        l.args.push_back(operandOf[i]);
      l.args.push_back(workspace);
      firstPartial += l.grid[0];
      out.launches.push_back(l);
    }
    MemRefType scalar = flatMemRef(Float32Type::get(op->getContext()), 1);
    auto root = getOrCreateKernel(
        kernels, ("sqrt_sum_" + Twine(partials) + "xf32").str(), {partialsType, scalar}, loc,
        [&](ImplicitLocOpBuilder &b, ValueRange args) {
          Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
          auto acc = forLoop(b, tid, idx(b, partials), idx(b, kChunkBlock), {f32(b, 0.0)},
                             [&](ImplicitLocOpBuilder &b, Value j,
                                 ValueRange acc) -> SmallVector<Value> {
                               return {arith::AddFOp::create(b, acc[0], load(b, args[0], j))};
                             });
          Value total = blockSum(b, acc[0], kChunkBlock);
          storeFromThreadZero(b, math::SqrtOp::create(b, total), args[1]);
        });
    out.launches.push_back(KernelLaunch{root, {1, 1, 1}, {kChunkBlock, 1, 1}, {workspace, result}});
    out.workspaceBytes = {std::max<int64_t>(partials, 1) * 4};
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
