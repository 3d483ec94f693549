//===- RopeKernels.cpp - rotary position embedding GPU kernels ------------===//
//
// This file builds the kernel of tele.rope (forward and inverse, which is
// also its gradient). Each thread rotates a pair of chunks of eight (or
// four) consecutive features of one head, a chunk of the first half and
// its partner half a head away (rotate-half): it loads both, computes the
// angles t * theta^(-2i/head_dim) of their frequencies once (reduced to
// [-pi, pi], then the hardware's sine and cosine) and writes
// x1 cos - x2 sin and x2 cos + x1 sin. Measured on an H200 (flm-1b, bf16):
// one chunk a thread, which read its partner too and computed every angle
// twice, took 6.2 ms a step at about 2.1 TB/s.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

using namespace mlir;
using namespace mlir::tele;

FailureOr<KernelLaunch> mlir::tele::buildRopeKernel(Operation *op,
                                                    gpu::GPUModuleOp kernels) {
  auto rope = dyn_cast<RopeOp>(op);
  if (!rope)
    return failure();
  auto ty = rope.getInput().getType();
  // f32 arithmetic; the input may be a bf16 copy (tele-bf16-gemms), read
  // widened, and the result rounded to bf16 at the store.
  Type in = ty.getElementType(), et = Float32Type::get(op->getContext());
  int64_t dh = rope.getHeadDimAttr().getInt(), half = dh / 2;
  // Chunks must not straddle the two halves of a head.
  int64_t vec = half % 8 == 0 ? 8 : half % 4 == 0 ? 4 : 1;
  if (!in.isF32() && !in.isBF16())
    return failure(); // f64 kernels are not generated yet
  int64_t n = ty.getNumElements();
  int64_t seqLen = ty.getDimSize(1), features = ty.getDimSize(2);

  std::string stem = ((rope.getInverse() ? "rope_inverse_" : "rope_") +
                      Twine(n) + "x" + Twine(dh) + "xf32" + narrowedSuffix(rope) +
                      (in.isBF16() ? "_from_bf16" : ""))
                         .str();
  // One thread per pair of chunks: n / 2 first-half features, vec a thread.
  KernelLaunch launch = chunkedLaunch(
      createKernel(kernels, stem, {flatMemRef(rope.getInput()), flatMemRef(rope)}),
      n / 2, vec);

  OpBuilder builder(launch.kernel.getBody());
  ImplicitLocOpBuilder b(op->getLoc(), builder);
  Block &entry = launch.kernel.getBody().front();
  Value x = entry.getArgument(0), y = entry.getArgument(1);
  auto vt = VectorType::get({vec}, et);
  auto it = VectorType::get({vec}, b.getI64Type());
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, v); };

  // Feature k of the first halves (n / 2 of them, half a head each).
  Value k = beginChunk(b, n / 2, vec);
  Value j = arith::RemUIOp::create(b, k, index(half)); // place in the head's first half
  Value first = arith::AddIOp::create(
      b, arith::MulIOp::create(b, arith::DivUIOp::create(b, k, index(half)), index(dh)), j);
  Value second = arith::AddIOp::create(b, first, index(half));
  // Position t of the token.
  Value t = arith::RemUIOp::create(
      b, arith::DivUIOp::create(b, first, index(features)), index(seqLen));
  Value x1 = loadChunk(b, vt, x, first);
  Value x2 = loadChunk(b, vt, x, second);

  // Frequency index i = j (+ lane), angle = t * theta^(-2i/dh).
  SmallVector<int64_t> lanes;
  for (int64_t l = 0; l < vec; ++l)
    lanes.push_back(l);
  Value iv = arith::AddIOp::create(
      b,
      vector::BroadcastOp::create(b, it, arith::IndexCastOp::create(b, b.getI64Type(), j)),
      arith::ConstantOp::create(b, it, DenseElementsAttr::get(it, ArrayRef<int64_t>(lanes))));
  Value fi = arith::SIToFPOp::create(b, vt, iv);
  auto splat = [&](double v) { return splatFloat(b, vt, v); };
  double logTheta = std::log(rope.getTheta().convertToDouble());
  Value invFreq = math::ExpOp::create(
      b, arith::MulFOp::create(b, fi, splat(-2.0 * logTheta / double(dh))));
  Value tf = vector::BroadcastOp::create(
      b, vt,
      arith::UIToFPOp::create(b, et, arith::IndexCastOp::create(b, b.getI64Type(), t)));
  Value angle = arith::MulFOp::create(b, tf, invFreq);
  // Angles reach seq_len radians: reduce them to [-pi, pi] first (k = the
  // nearest multiple of 2 pi, subtracted in two FMAs, the first exact in
  // k * hi for k < 2^16), then the hardware's approximate sine and cosine
  // (sin.approx / cos.approx, ~1e-6 absolute on [-pi, pi]): the error stays
  // that of the f32 angle itself, and the kernel stays memory-bound where
  // libdevice's sincos made it compute-bound.
  constexpr double kTwoPi = 6.283185307179586;
  constexpr double kTwoPiHi = 6.28125; // 201/32: 8 significant bits
  auto afn = arith::FastMathFlagsAttr::get(b.getContext(), arith::FastMathFlags::afn);
  SmallVector<Value> sines, cosines;
  for (int64_t l = 0; l < vec; ++l) {
    Value a = vector::ExtractOp::create(b, angle, ArrayRef<int64_t>{l});
    Value turns = math::RoundEvenOp::create(b, arith::MulFOp::create(b, a, f32(b, 1.0 / kTwoPi)));
    Value negTurns = arith::NegFOp::create(b, turns);
    Value r = math::FmaOp::create(b, negTurns, f32(b, kTwoPiHi), a);
    r = math::FmaOp::create(b, negTurns, f32(b, kTwoPi - kTwoPiHi), r);
    sines.push_back(math::SinOp::create(b, r, afn));
    cosines.push_back(math::CosOp::create(b, r, afn));
  }
  Value c = vector::FromElementsOp::create(b, vt, cosines);
  Value sn = vector::FromElementsOp::create(b, vt, sines);
  // Forward: y1 = x1 cos - x2 sin, y2 = x2 cos + x1 sin. The inverse
  // rotation flips the sign of sin.
  if (rope.getInverse())
    sn = arith::NegFOp::create(b, sn);
  storeChunk(b,
             arith::SubFOp::create(b, arith::MulFOp::create(b, x1, c),
                                   arith::MulFOp::create(b, x2, sn)),
             y, first);
  storeChunk(b,
             arith::AddFOp::create(b, arith::MulFOp::create(b, x2, c),
                                   arith::MulFOp::create(b, x1, sn)),
             y, second);
  return launch;
}
