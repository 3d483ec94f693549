//===- TensorCoreAttention.cpp - flash attention on bf16 tensor cores -----===//
//
// Causal flash attention forward and backward (tele.flash_attention and
// tele.flash_attention_grad) with every matrix product on the tensor cores:
// warp-level `mma.sync.m16n8k16` with bf16 operands and fp32 accumulators
// (`nvvm.mma.sync`), operands read from shared memory with `ldmatrix`
// (`nvgpu.ldmatrix`, transposed where the product needs it). Softmax, the
// log-sum-exp, D = rowsum(dO * O) and every accumulator stay fp32. Inputs
// are bf16 copies (tele-bf16-gemms), staged in shared memory by cp.async
// with the next tile's copy in flight (PairStager), or f32, rounded to bf16
// as a tile is staged.
//
// A block is 4 or 8 warps (see queryWarps); each warp owns one or two
// 16-row tiles (queries, see queryRowTiles, or keys for the key-side
// kernel) and keeps their accumulators in registers in the m16n8 "C"
// layout: lane (g = lane / 4, t = lane % 4) holds rows g and g + 8, columns
// 2t and 2t + 1 of every 8-column chunk. Scores computed in that layout are
// exactly the A operand of the next product once rounded to bf16
// (two 8-key chunks make one 16-wide A fragment), so P and dS go from
// the accumulators to the next product in registers (the wgmma backward
// also stores dS for its dQ kernel, see below).
//
// * forward: per staged tile of 64 keys, S = Q K^T, one online-softmax
//   rescale (in the log2 domain, exp2), O += P V. Stores O / l and the
//   natural log-sum-exp per row.
// * backward, query side (dQ; the mma.sync path): D_i from the output (f32,
//   or its bf16 copy), then per staged key tile P = exp(S - L), dP = dO V^T,
//   dS = P (dP - D), dQ += dS K.
// * backward, key side (dK, dV): the block's K and V tiles stay in shared
//   memory; per staged query tile S^T = K Q^T, dP^T = V dO^T, dV += P^T dO,
//   dK += dS^T Q. No atomics: runs are bit-reproducible.
//
// On bf16 copies with head_dim a multiple of 64 (flm-tiny, flm-1b) every
// product is a warpgroup MMA instead (Shape::wgmma): `wgmma.mma_async` as
// inline PTX (MLIR 22's nvvm.wgmma.mma_async takes A only from shared
// memory). A block's 4 warps are one warpgroup; Q, dO, P and dS are A
// operands in registers, and on the key side K and V are A operands read
// from shared memory; the staged tiles are 128-byte-swizzled and read
// through descriptors, K-major or transposed. Measured on an H200 (ms per flm-1b
// step, mma.sync -> wgmma): forward 16.9 -> 12.2, query side 23.8 -> 15.7,
// key side 36.3 -> 19.7; the forward on unswizzled tiles took 25.7.
//
// The wgmma backward does not recompute S and dP for dQ: a small kernel
// computes D first, the key side also stores dS^T (bf16, the causal
// triangle's 64 x 64 tiles, in the swizzled layout) to a workspace, and a
// GEMM-like kernel multiplies dQ = dS K from it: 5 products instead of 7
// for 2 bytes per score written and read back. Measured on an H200 in one
// call: flm-1b 274.4 -> 267.5 ms a step (query side 16.7 ms -> dQ 5.7 +
// D 0.9, key side 21.8 -> 23.6), flm-tiny 29.6 -> 29.3.
//
// For ldmatrix, shared-memory rows are padded by 16 bytes, so the eight
// 16-byte rows an ldmatrix reads fall in distinct banks (wgmma's tiles are
// swizzled instead, see SharedTiles::add). The tiles live in dynamic shared
// memory (the launch says how much), which may exceed static shared
// memory's 48 KiB: at head_dim 128 with two buffers 68 KiB per block
// (padded rows) or 65 KiB (swizzled, with 1 KiB to align them; the wgmma
// key side 70 KiB with its dS^T staging rows, the dQ kernel 49 KiB).
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::tele;

namespace {
constexpr int64_t kWarpRows = 16; ///< rows an m16n8k16 tile covers
/// Warps per block of the query-side kernels (forward, dQ), one or two
/// 16-row tiles each (queryRowTiles). Measured with one tile a warp:
/// staging f32 inputs synchronously at head_dim 128, 128 rows (one
/// block per SM, by registers) share each staged key tile: measured on an
/// H200, 17 ms faster per flm-1b step than 64 rows (flm-tiny's head_dim 64:
/// 3.7 ms slower). With asynchronous staging (bf16 inputs) two 64-row blocks
/// per SM overlap better: flm-1b 319.5 vs 322.1 ms per step (best of ten
/// 314.0 vs 320.0); flm-tiny 40.3 vs 40.7 ms.
/// The wgmma kernels (one warpgroup a block) measured the same way: two
/// warpgroups sharing each staged tile (128 rows at head_dim 128) were
/// slower on flm-1b: forward 11.9 -> 14.5 ms, query side 15.7 -> 18.4.
int64_t queryWarps(int64_t headDim, bool asyncStaging) {
  return headDim >= 128 && !asyncStaging ? 8 : 4;
}
/// 16-row tiles per warp in the query-side kernels. Two tiles multiply
/// each K and V fragment a warp reads from shared memory twice, halving the
/// ldmatrix traffic per product; up to head_dim 64 their accumulators fit
/// in registers (at 128 they would spill). The wgmma kernels read K and V
/// once per warpgroup anyway and keep one tile: fewer registers, more blocks
/// an SM (measured on an H200, flm-tiny: 31.68 -> 31.34 ms a step; forward
/// 1.75 -> 1.61 ms, query side 2.49 -> 2.08).
int64_t queryRowTiles(int64_t headDim, bool wgmma) { return headDim <= 64 && !wgmma ? 2 : 1; }
/// Warps of the key-side kernel (16 keys each, their K and V in shared
/// memory) and the queries it stages at a time next to them. Measured on an
/// H200 (flm-1b, head_dim 128): 4 or 8 warps and 16, 32 or 64 staged queries
/// all take 39-41 ms per step; 4 x 32 needs the fewest registers (no spills).
/// With wgmma, 8 warps (two warpgroups sharing the staged queries) took
/// 23.1 instead of 20.2 ms on flm-1b, 3.1 instead of 2.2 on flm-tiny.
constexpr int64_t kKeyWarps = 4;
constexpr int64_t kKeyStageQueries = 32;
/// The widest head whose K and V fragments the key-side kernel keeps in
/// registers (16 per 64 features each): at 128 its accumulators leave no
/// room.
constexpr int64_t kKeyFragmentsInRegisters = 64;
constexpr int64_t kStageKeys = 64;                ///< keys staged per tile
constexpr int64_t kMaxShared = 227 * 1024;        ///< shared memory per block (sm_90)
constexpr int64_t kPadElems = 8;                  ///< 16 bytes of bf16
constexpr double kLog2e = 1.4426950408889634;
/// wgmma's 128-byte swizzle: 8 rows of 128 bytes (64 bf16), the 16-byte
/// chunk c of row r stored at chunk c ^ r; the pattern repeats every 1024
/// bytes, so tiles start 1024-aligned.
constexpr int64_t kSwizzleAtom = 1024, kSwizzleElems = 64;
/// The forward's wgmma products for S = Q K^T per k step: at head_dim 64,
/// S as one m64n64k16 has the same shape as O += P V's, and that measured
/// wrong on an H200 (CUDA 13's ptxas; two n32 halves, or O in halves, or
/// other head sizes were right; pinning the registers around the fences and
/// waits did not help), so there S is two 32-key halves.
int64_t scorePieces(int64_t headDim) { return headDim == kStageKeys ? 2 : 1; }
/// Register cap of the wgmma forward kernel (one warpgroup a block), so
/// that one more block fits an SM: 3 at head_dim 128 (168 registers, ptxas
/// spills 28 bytes outside the key loop), 4 at 64 (128, no spills). It is
/// latency-bound (Nsight Compute: an instruction issued on half the
/// cycles); the extra warpgroup measured on an H200: flm-1b forward 12.4 ->
/// 11.9 ms a step, flm-tiny 1.57 -> 1.52. The backward kernels spill at
/// such caps and slowed (query side 16.6 -> 24.3 ms at 168).
int64_t forwardMaxRegisters(int64_t headDim) { return headDim >= 128 ? 168 : 128; }
/// Row length (bf16) of the key-side kernel's dS^T staging buffer: 32
/// queries and 8 of padding, 80 bytes, so that the rows of one 4-byte
/// store (g = 0..7) fall in distinct banks.
constexpr int64_t kScoreRowElems = 40;
/// Threads per block of the wgmma backward's D kernel (dh / 8 a row).
constexpr int64_t kDeltaThreads = 256;

using Acc = std::array<Value, 4>;   ///< a 16x8 fp32 accumulator fragment
using FragA = std::array<Value, 4>; ///< a 16x16 bf16 A fragment (packed pairs)

SmallVector<Value> flatten(ArrayRef<Acc> accs) {
  SmallVector<Value> out;
  for (const Acc &a : accs)
    out.append(a.begin(), a.end());
  return out;
}
SmallVector<Acc> unflatten(ValueRange values) {
  SmallVector<Acc> out;
  for (size_t i = 0; i + 3 < values.size(); i += 4)
    out.push_back({values[i], values[i + 1], values[i + 2], values[i + 3]});
  return out;
}

struct Shape {
  int64_t batch, seq, heads, headDim;
  std::string sig; ///< bf16Signature of the op: which operands and results are bf16
  /// Whether the query-side kernels' staged tensors (K, V) and the key-side
  /// kernel's (Q, dO) are bf16 copies, staged asynchronously (PairStager).
  bool asyncKeys = false, asyncQueries = false;
  /// Whether the kernel multiplies with warpgroup MMAs (wgmma) reading its
  /// staged tiles from 128-byte-swizzled shared memory (SharedTiles::add)
  /// rather than with mma.sync fed by ldmatrix from padded rows.
  bool wgmma = false;
  int64_t rowElems() const { return headDim + kPadElems; }
  int64_t tileBytes(int64_t rows) const { return rows * (wgmma ? headDim : rowElems()) * 2; }
  int64_t tiles(int64_t blockRows) const { return (seq + blockRows - 1) / blockRows; }
  std::string name(StringRef stem) const {
    return (stem + "_" + Twine(batch) + "x" + Twine(seq) + "x" + Twine(heads) + "x" +
            Twine(headDim) + (wgmma ? "_wgmma" : "_mma") + sig)
        .str();
  }
  /// Shared memory of the query-side kernels (staged K and V) and of the
  /// key-side kernel (its K and V, staged Q and dO).
  int64_t querySharedBytes() const {
    return 2 * tileBytes(stagedBuffers(asyncKeys) * kStageKeys) + (wgmma ? kSwizzleAtom : 0);
  }
  int64_t keySharedBytes() const {
    return 2 * tileBytes(kKeyWarps * kWarpRows) +
           2 * tileBytes(stagedBuffers(asyncQueries) * kKeyStageQueries) +
           (wgmma ? kSwizzleAtom + kKeyWarps * kWarpRows * kScoreRowElems * 2 : 0);
  }
  /// Shared memory of the wgmma backward's dQ kernel: two buffers of a K
  /// tile and of a 64 x 64 dS^T tile.
  int64_t scoreGradSharedBytes() const {
    return 2 * tileBytes(kStageKeys) + 2 * kStageKeys * kStageKeys * 2 + kSwizzleAtom;
  }
  /// Buffers per staged tensor: two while the next tile's copy is in flight.
  static int64_t stagedBuffers(bool async) { return async ? 2 : 1; }
};

/// IR-building vocabulary of one warp's share of a tile computation.
struct WarpTile {
  ImplicitLocOpBuilder &b;
  const Shape &s;
  int64_t warps;        ///< per block
  int64_t rowTiles = 1; ///< 16-row tiles per warp
  Value tid, warp, g, t;
  /// Per-lane row and column offsets of an ldmatrix.x4: lane l addresses row
  /// l % 8 of matrix l / 8. `Rows*` suit A fragments and transposed B
  /// fragments (matrices stacked down, then across); `Cols*` suit B
  /// fragments of a row-major [n][k] tile (across, then down).
  Value ldRowDown, ldColDown, ldRowAcross, ldColAcross;
  Value batch, head;

  Value c(int64_t v) { return idx(b, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, x, y); }
  Value div(Value x, int64_t y) { return arith::DivUIOp::create(b, x, c(y)); }
  Value rem(Value x, int64_t y) { return arith::RemUIOp::create(b, x, c(y)); }
  Value minIdx(Value x, int64_t y) { return arith::MinUIOp::create(b, x, c(y)); }
  Value le(Value x, Value y) { return arith::CmpIOp::create(b, arith::CmpIPredicate::ule, x, y); }
  Value lt(Value x, Value y) { return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, x, y); }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, x, y); }
  Value fsub(Value x, Value y) { return arith::SubFOp::create(b, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value fmax(Value x, Value y) { return arith::MaximumFOp::create(b, x, y); }
  Value exp2(Value x) { return math::Exp2Op::create(b, x); }
  Value select(Value cond, Value x, Value y) { return arith::SelectOp::create(b, cond, x, y); }

  int64_t blockRows() const { return warps * rowTiles * kWarpRows; }

  static WarpTile create(ImplicitLocOpBuilder &b, const Shape &s, int64_t warps,
                         int64_t rowTiles = 1) {
    WarpTile w{b, s, warps, rowTiles, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};
    w.tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
    Value lane = w.rem(w.tid, kWarp);
    w.warp = w.div(w.tid, kWarp);
    w.g = w.div(lane, 4);
    w.t = w.rem(lane, 4);
    Value matrix = w.div(lane, 8), r = w.rem(lane, 8);
    Value lo = w.rem(matrix, 2), hi = w.div(matrix, 2);
    w.ldRowDown = w.add(w.mul(lo, w.c(8)), r);
    w.ldColDown = w.mul(hi, w.c(8));
    w.ldRowAcross = w.add(w.mul(hi, w.c(8)), r);
    w.ldColAcross = w.mul(lo, w.c(8));
    Value bh = gpu::BlockIdOp::create(b, gpu::Dimension::y);
    w.batch = w.div(bh, s.heads);
    w.head = w.rem(bh, s.heads);
    return w;
  }

  /// Flat offset of (this block's batch, position `pos`, head) in a
  /// [B, T, H * dh] tensor.
  Value offset(Value pos) {
    return mul(add(mul(add(mul(batch, c(s.seq)), pos), c(s.heads)), head), c(s.headDim));
  }
  /// Flat index of (batch, head, pos) in a [B, H, T] statistics tensor.
  Value statIndex(Value pos) {
    return add(mul(add(mul(batch, c(s.heads)), head), c(s.seq)), pos);
  }

  Value asI32(Value pair) {
    Value word = vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()), pair);
    return vector::ExtractOp::create(b, word, ArrayRef<int64_t>{0});
  }
  /// A vector<2xf32> rounded to bf16 and packed in an i32, lane 0 low.
  Value packPair(Value v) {
    return asI32(arith::TruncFOp::create(b, VectorType::get({2}, b.getBF16Type()), v));
  }
  /// (x, y) rounded to bf16 and packed, x in the low half.
  Value pack(Value x, Value y) {
    return packPair(vector::FromElementsOp::create(b, VectorType::get({2}, b.getF32Type()),
                                                   ValueRange{x, y}));
  }
  /// Two consecutive elements of `memref` (f32, or a bf16 copy) at `at`,
  /// packed as bf16.
  Value loadPacked(Value memref, Value at) {
    Type et = cast<MemRefType>(memref.getType()).getElementType();
    Value v = vector::LoadOp::create(b, VectorType::get({2}, et), memref, ValueRange{at});
    return et.isBF16() ? asI32(v) : packPair(v);
  }
  /// Four 8x8 bf16 matrices of a shared tile, one packed pair per matrix.
  std::array<Value, 4> ldmatrix(Value tile, Value row, Value col, bool transpose) {
    auto vt = VectorType::get({4, 2}, b.getBF16Type());
    Value m = nvgpu::LdMatrixOp::create(b, vt, tile, ValueRange{row, col}, transpose, 4);
    std::array<Value, 4> out;
    for (int64_t i = 0; i < 4; ++i)
      out[i] = asI32(vector::ExtractOp::create(b, m, ArrayRef<int64_t>{i}));
    return out;
  }
  /// The A fragment of rows [row0, row0 + 16) x columns [k0, k0 + 16) of a
  /// row-major tile.
  FragA loadA(Value tile, Value row0, int64_t k0) {
    return ldmatrix(tile, add(row0, ldRowDown), add(c(k0), ldColDown), false);
  }
  /// B fragments for columns n0..n0+15 (two 8-wide chunks) and k0..k0+15 of
  /// B = X^T, X a row-major [n][k] tile: {b0, b1} of chunk n0, then n0 + 8.
  std::array<Value, 4> loadBTransposed(Value tile, Value n0, int64_t k0) {
    return ldmatrix(tile, add(n0, ldRowAcross), add(c(k0), ldColAcross), false);
  }
  /// B fragments of B = X, X a row-major [k][n] tile (rows k0..k0+15).
  std::array<Value, 4> loadB(Value tile, Value k0, int64_t n0) {
    return ldmatrix(tile, add(k0, ldRowDown), add(c(n0), ldColDown), true);
  }

  /// The wgmma descriptor of B = X^T, X rows [row0, ...) (as many as the
  /// wgmma's width; row0 a multiple of 8) and features [k0, k0 + 16) of a
  /// swizzled tile (SharedTiles::add): K-major, starting k0 features into
  /// its 64-feature segment (the hardware applies the swizzle to the
  /// address), the next 8 rows dh * 16 bytes on; the leading offset is
  /// unused (a k step stays inside one segment).
  Value kMajorDescriptor(Value tile, Value row0, int64_t k0) {
    int64_t within = k0 / kSwizzleElems * kSwizzleAtom + k0 % kSwizzleElems * 2;
    return descriptor(tile, add(mul(row0, c(2 * s.headDim)), c(within)), 16,
                              16 * s.headDim);
  }
  /// The wgmma descriptor of B = X, X rows [k0, k0 + 16) x every feature of
  /// a swizzled tile: MN-major (B's rows are the tile's), the next 64
  /// features 1024 bytes on, the next 8 rows dh * 16 bytes on.
  Value mnMajorDescriptor(Value tile, Value k0) {
    return descriptor(tile, mul(k0, c(2 * s.headDim)), kSwizzleAtom, 16 * s.headDim);
  }
  /// A shared-memory matrix descriptor with the 128-byte swizzle (bit 62):
  /// the start address, the leading and stride byte offsets, each in
  /// 16-byte units.
  Value descriptor(Value tile, Value byteOffset, int64_t leading, int64_t stride) {
    Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, tile);
    Value start = arith::AndIOp::create(b, arith::ShRUIOp::create(b, add(base, byteOffset), c(4)),
                                        c(0x3FFF)); // 14 bits: shared memory is < 256 KiB
    Value start64 = arith::IndexCastUIOp::create(b, b.getI64Type(), start);
    int64_t fixed = ((leading >> 4) << 16) | ((stride >> 4) << 32) | (int64_t(1) << 62);
    return arith::OrIOp::create(b, start64, arith::ConstantIntOp::create(b, fixed, 64));
  }

  /// D += A B on the tensor cores (bf16 x bf16 -> fp32).
  Acc mma(const FragA &a, Value b0, Value b1, const Acc &d) {
    Type f = b.getF32Type();
    auto st = LLVM::LLVMStructType::getLiteral(b.getContext(), {f, f, f, f});
    auto op = NVVM::MmaOp::create(
        b, st, ValueRange(ArrayRef<Value>(a)), ValueRange{b0, b1}, ValueRange(ArrayRef<Value>(d)),
        ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
        std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
    Acc out;
    for (int64_t i = 0; i < 4; ++i)
      out[i] = LLVM::ExtractValueOp::create(b, op.getRes(), ArrayRef<int64_t>{i});
    return out;
  }
  /// D += A B for the warpgroup's 64 rows (`wgmma.mma_async`, k = 16):
  /// A is this warp's 16 of them as an mma.sync A fragment in registers, B
  /// [16 x 8 * d.size()] is read from shared memory through `descB`
  /// (transposed: stored MN-major). D keeps the m16n8 C layout per 8
  /// columns. The caller brackets a run of these with wgmmaBegin/End.
  void wgmma(const FragA &a, Value descB, MutableArrayRef<Acc> d, bool transposeB,
             bool accumulate = true) {
    wgmmaWith(ArrayRef<Value>(a), descB, d, transposeB, accumulate);
  }
  /// The same with A [64 x 16] read from shared memory through `descA`
  /// (K-major, or MN-major where `transposeA`).
  void wgmma(Value descA, Value descB, MutableArrayRef<Acc> d, bool transposeB,
             bool accumulate = true, bool transposeA = false) {
    wgmmaWith(ValueRange(descA), descB, d, transposeB, accumulate, transposeA);
  }
  /// `a`: four registers (an A fragment) or one descriptor.
  void wgmmaWith(ValueRange a, Value descB, MutableArrayRef<Acc> d, bool transposeB,
                 bool accumulate, bool transposeA = false) {
    assert(warps % 4 == 0 && d.size() >= 1 && d.size() <= 32 && "whole warpgroups, n <= 256");
    int64_t n = 4 * d.size(), next = 2 * n;
    bool aInRegisters = a.size() == 4;
    std::string asmText, constraints;
    llvm::raw_string_ostream os(asmText), cs(constraints);
    os << "{\n.reg .pred p;\nsetp.ne.b32 p, $" << next + a.size() + 1 << ", 0;\n"
       << "wgmma.mma_async.sync.aligned.m64n" << 8 * d.size() << "k16.f32.bf16.bf16 {";
    for (int64_t i = 0; i < n; ++i)
      os << (i ? ", $" : "$") << i;
    os << "}, ";
    if (aInRegisters)
      os << "{$" << next << ", $" << next + 1 << ", $" << next + 2 << ", $" << next + 3 << "}";
    else
      os << "$" << next;
    // scale-d, the scales of A and B; A's transpose (not for registers), B's.
    const char *aTranspose = aInRegisters ? "" : transposeA ? "1, " : "0, ";
    os << ", $" << next + a.size() << ", p, 1, 1, " << aTranspose << (transposeB ? 1 : 0)
       << ";\n}";
    for (int64_t i = 0; i < n; ++i)
      cs << (i ? "," : "") << "=f";
    for (int64_t i = 0; i < n; ++i)
      cs << "," << i;
    cs << (aInRegisters ? ",r,r,r,r" : ",l") << ",l,r";
    SmallVector<Value> operands = flatten(d);
    operands.append(a.begin(), a.end());
    operands.push_back(descB);
    operands.push_back(arith::ConstantIntOp::create(b, accumulate ? 1 : 0, 32));
    SmallVector<Value> results =
        sideEffectingAsm(SmallVector<Type>(n, b.getF32Type()), operands, os.str(), cs.str());
    for (int64_t i = 0; i < n; ++i)
      d[i / 4][i % 4] = results[i];
  }
  /// Inline PTX `text` with `constraints`, kept in place and in order
  /// (side-effecting); its results, one per type.
  SmallVector<Value> sideEffectingAsm(ArrayRef<Type> types, ValueRange operands, StringRef text,
                                      StringRef constraints) {
    auto st = LLVM::LLVMStructType::getLiteral(b.getContext(), types);
    auto op =
        LLVM::InlineAsmOp::create(b, st, operands, text, constraints,
                                  /*has_side_effects=*/true, /*is_align_stack=*/false,
                                  LLVM::TailCallKind::None, LLVM::AsmDialectAttr(), ArrayAttr());
    SmallVector<Value> results;
    for (int64_t i = 0; i < int64_t(types.size()); ++i)
      results.push_back(LLVM::ExtractValueOp::create(b, op.getRes(), ArrayRef<int64_t>{i}));
    return results;
  }
  /// Before a run of wgmma: registers written since are visible to them.
  /// `accs` and `frags`, the accumulators and A fragments the run reads
  /// that other instructions wrote, are pinned first, so that LLVM computes
  /// them before the fence (the fence is a call; arithmetic could move).
  void wgmmaBegin(ArrayRef<MutableArrayRef<Acc>> accs = {},
                  MutableArrayRef<FragA> frags = {}) {
    pin(accs);
    pin({frags}); // (FragA and Acc are both four values)
    NVVM::WgmmaFenceAlignedOp::create(b);
  }
  /// After a run of wgmma: they are done (results in registers, shared
  /// memory free to overwrite). Their accumulators `accs` are pinned after
  /// the wait, so that nothing reads them before it.
  void wgmmaEnd(ArrayRef<MutableArrayRef<Acc>> accs) {
    NVVM::WgmmaGroupSyncAlignedOp::create(b);
    NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
    pin(accs);
  }
  /// Passes values through an empty side-effecting inline asm (CUTLASS's
  /// warpgroup_fence_operand): later readers see the asm's results, so the
  /// values are ordered against the wgmma fence and wait around it.
  void pin(ArrayRef<MutableArrayRef<Acc>> accs) {
    SmallVector<Value *> regs;
    for (MutableArrayRef<Acc> group : accs)
      for (Acc &a : group)
        for (Value &v : a)
          regs.push_back(&v);
    pin(regs);
  }
  void pin(ArrayRef<Value *> regs) {
    if (regs.empty())
      return;
    std::string constraints;
    llvm::raw_string_ostream cs(constraints);
    SmallVector<Type> types;
    SmallVector<Value> operands;
    for (auto [i, v] : llvm::enumerate(regs)) {
      types.push_back(v->getType());
      operands.push_back(*v);
      cs << (i ? "," : "") << (v->getType().isF32() ? "=f" : "=r");
    }
    for (size_t i = 0; i < regs.size(); ++i)
      cs << "," << i;
    SmallVector<Value> results = sideEffectingAsm(types, operands, "", cs.str());
    for (auto [v, result] : llvm::zip(regs, results))
      *v = result;
  }

  Acc zero() {
    Value z = f32(b, 0.0);
    return {z, z, z, z};
  }
  /// An accumulator a wgmma that does not accumulate will overwrite.
  Acc undefined() {
    Value u = LLVM::UndefOp::create(b, b.getF32Type());
    return {u, u, u, u};
  }
  /// Two 16x8 accumulators side by side as one bf16 A fragment (16x16).
  FragA toA(const Acc &left, const Acc &right) {
    return {pack(left[0], left[1]), pack(left[2], left[3]), pack(right[0], right[1]),
            pack(right[2], right[3])};
  }
  /// Sum or maximum over the four lanes that share a row (t = 0..3).
  Value rowReduce(Value v, bool isMax) {
    return isMax ? warpMax(b, v, /*lanes=*/4) : warpSum(b, v, /*lanes=*/4);
  }

  /// Where chunk `e` (`vec` elements, 16 bytes of the global tensor) of
  /// rows [first, ...) of a [B, T, H * dh] tensor goes: its row and column
  /// in a tile, and its flat index in the tensor (position clamped to the
  /// sequence).
  struct Chunk {
    Value row, col, at;
  };
  Chunk chunkAt(Value e, int64_t vec, Value first) {
    int64_t chunksPerRow = s.headDim / vec;
    Value row = div(e, chunksPerRow);
    Value col = mul(rem(e, chunksPerRow), c(vec));
    Value pos = minIdx(add(first, row), s.seq - 1);
    return {row, col, add(offset(pos), col)};
  }

  /// Copies rows [first, first + rows) (clamped to the sequence) of a
  /// [B, T, H * dh] tensor (f32, rounded here, or a bf16 copy) into a bf16
  /// shared tile, 16 bytes a load.
  void stage(Value global, Value tile, Value first, int64_t rows) {
    Type et = cast<MemRefType>(global.getType()).getElementType();
    int64_t vec = 16 / (et.getIntOrFloatBitWidth() / 8);
    int64_t chunks = rows * (s.headDim / vec);
    int64_t threads = warps * kWarp;
    for (int64_t step = 0; step * threads < chunks; ++step) {
      Value e = add(tid, c(step * threads));
      auto body = [&](ImplicitLocOpBuilder &) {
        auto [row, col, at] = chunkAt(e, vec, first);
        Value v = vector::LoadOp::create(b, VectorType::get({vec}, et), global, ValueRange{at},
                                         false, llvm::MaybeAlign(16));
        if (!et.isBF16())
          v = arith::TruncFOp::create(b, VectorType::get({vec}, b.getBF16Type()), v);
        vector::StoreOp::create(b, v, tile, ValueRange{row, col}, false,
                                llvm::MaybeAlign(2 * vec));
      };
      if ((step + 1) * threads <= chunks)
        body(b);
      else
        ifThen(b, lt(e, c(chunks)), body);
    }
  }

  /// Stages rows [first, first + rows) of `a` and `c` into their tiles
  /// between two barriers (the previous tiles' readers are done; the new
  /// ones are visible to every warp).
  void stagePair(Value a, Value tileA, Value c, Value tileC, Value first, int64_t rows) {
    gpu::BarrierOp::create(b);
    stage(a, tileA, first, rows);
    stage(c, tileC, first, rows);
    gpu::BarrierOp::create(b);
  }

  /// Starts copying rows [first, first + rows) (clamped to the sequence) of
  /// a bf16 [B, T, H * dh] tensor into rows [tileRow, tileRow + rows) of a
  /// shared tile, 16 bytes a cp.async (bypassing L1). Returns the copies'
  /// tokens. Threads beyond the last chunk repeat one (same bytes, same place).
  SmallVector<Value> copyAsync(Value global, Value tile, Value tileRow, Value first,
                               int64_t rows) {
    constexpr int64_t vec = 8; // bf16 per 16 bytes
    int64_t chunksPerRow = s.headDim / vec;
    int64_t chunks = rows * chunksPerRow;
    int64_t threads = warps * kWarp;
    bool swizzled = s.wgmma; // the layout of SharedTiles::add
    auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
    SmallVector<Value> tokens;
    for (int64_t step = 0; step * threads < chunks; ++step) {
      Value e = add(tid, c(step * threads));
      if ((step + 1) * threads > chunks)
        e = rem(e, chunks);
      SmallVector<Value> dst;
      Value at;
      if (swizzled) {
        // Eight consecutive threads copy one 128-byte row segment.
        int64_t segments = s.headDim / kSwizzleElems;
        Value chunk = rem(e, 8), r8 = rem(div(e, 8), 8);
        Value segment = rem(div(e, 64), segments), group = div(e, 64 * segments);
        Value row = add(mul(group, c(8)), r8);
        Value pos = minIdx(add(first, row), s.seq - 1);
        at = add(offset(pos), add(mul(segment, c(kSwizzleElems)), mul(chunk, c(vec))));
        Value place = arith::XOrIOp::create(b, chunk, r8);
        dst = {add(div(tileRow, 8), group), segment, r8, mul(place, c(vec))};
      } else {
        auto [row, col, flat] = chunkAt(e, vec, first);
        at = flat;
        dst = {add(tileRow, row), col};
      }
      tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(b, tokenType, tile, dst, global,
                                                        ValueRange{at}, b.getIndexAttr(vec),
                                                        Value(), b.getUnitAttr()));
    }
    return tokens;
  }

  /// Starts copying rows [first, first + rows) of `a` and `c` into rows
  /// [tileRow, ...) of `tileA` and `tileC` as one cp.async group; returns
  /// its token.
  Value copyPairAsync(Value a, Value tileA, Value c, Value tileC, Value tileRow, Value first,
                      int64_t rows) {
    SmallVector<Value> tokens = copyAsync(a, tileA, tileRow, first, rows);
    tokens.append(copyAsync(c, tileC, tileRow, first, rows));
    return asyncGroup(tokens);
  }
  Value asyncGroup(ValueRange tokens) {
    return nvgpu::DeviceAsyncCreateGroupOp::create(
        b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tokens);
  }

  /// Rows g and g + 8 of a 16-row tile starting at `warpRow0`.
  std::array<Value, 2> rowsOf(Value warpRow0) {
    return {add(warpRow0, g), add(warpRow0, add(g, c(8)))};
  }

  /// The A fragments of 16 rows of a [B, T, H * dh] tensor (f32, or a bf16
  /// copy; positions `rows`, already clamped), straight from global memory.
  SmallVector<FragA> loadRowFragments(Value global, std::array<Value, 2> rows) {
    SmallVector<FragA> out;
    Value base[2] = {offset(rows[0]), offset(rows[1])};
    for (int64_t k0 = 0; k0 < s.headDim; k0 += 16) {
      Value col = add(c(k0), mul(t, c(2)));
      Value col8 = add(col, c(8));
      out.push_back({loadPacked(global, add(base[0], col)), loadPacked(global, add(base[1], col)),
                     loadPacked(global, add(base[0], col8)),
                     loadPacked(global, add(base[1], col8))});
    }
    return out;
  }

  /// Stores a 16-row tile's [16 x dh] accumulator (chunks of 8 columns), times
  /// `scale[half]` per row half, to rows `rows` that are inside the sequence.
  void storeRows(ArrayRef<Acc> acc, Value global, std::array<Value, 2> rows,
                 std::array<Value, 2> scale) {
    auto v2 = VectorType::get({2}, b.getF32Type());
    for (int64_t half = 0; half < 2; ++half) {
      ifThen(b, lt(rows[half], c(s.seq)), [&](ImplicitLocOpBuilder &) {
        Value base = add(offset(rows[half]), mul(t, c(2)));
        for (size_t n = 0; n < acc.size(); ++n) {
          Value v = vector::FromElementsOp::create(
              b, v2,
              ValueRange{fmul(acc[n][2 * half], scale[half]),
                         fmul(acc[n][2 * half + 1], scale[half])});
          storeChunk(b, v, global, add(base, c(8 * n))); // rounded if narrowed
        }
      });
    }
  }
};

/// The kernel's shared-memory tiles, carved one after another out of its
/// dynamic shared memory (static shared memory stops at 48 KiB). Every tile
/// is bf16: [rows x (dh + pad)] for ldmatrix (sizes are multiples of 16
/// bytes, so each starts 16-byte aligned, as ldmatrix wants), or swizzled
/// for wgmma (1024-aligned, see add).
struct SharedTiles {
  Value base; ///< memref<?xi8, workgroup>
  int64_t bytes = 0;
  /// Bytes skipped so that wgmma's swizzled tiles start 1024-aligned.
  Value alignShift;

  static SharedTiles create(ImplicitLocOpBuilder &b) {
    auto space = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    auto ty = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                              MemRefLayoutAttrInterface{}, space);
    return {gpu::DynamicSharedMemoryOp::create(b, ty), 0, {}};
  }
  /// A tile of `rows` rows: padded rows for ldmatrix, or where the kernel
  /// multiplies with wgmma (s.wgmma), wgmma's 128-byte-swizzled layout:
  /// [rows / 8][dh / 64][8][64], 1024-byte atoms of 8 rows x 64 features,
  /// the 16-byte chunk c of row r of an atom stored at chunk c ^ (r % 8).
  /// (Unswizzled 8x8 core matrices measured 1.5x slower than mma.sync:
  /// wgmma's shared-memory reads conflict there.)
  Value add(ImplicitLocOpBuilder &b, const Shape &s, int64_t rows) {
    SmallVector<int64_t> shape{rows, s.rowElems()};
    Value at = idx(b, bytes);
    if (s.wgmma) {
      shape = {rows / 8, s.headDim / kSwizzleElems, 8, kSwizzleElems};
      if (!alignShift) {
        Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, base);
        alignShift = arith::AndIOp::create(b, arith::SubIOp::create(b, idx(b, 0), address),
                                           idx(b, kSwizzleAtom - 1));
        bytes += kSwizzleAtom;
      }
      at = arith::AddIOp::create(b, alignShift, idx(b, bytes - kSwizzleAtom));
    }
    auto ty = MemRefType::get(shape, b.getBF16Type(), MemRefLayoutAttrInterface{},
                              cast<MemRefType>(base.getType()).getMemorySpace());
    Value tile = memref::ViewOp::create(b, ty, base, at, ValueRange{});
    bytes += s.tileBytes(rows);
    return tile;
  }
  /// A plain [rows x cols] bf16 buffer after the tiles (cols a multiple of
  /// 8, so rows start 16-byte aligned).
  Value addRows(ImplicitLocOpBuilder &b, int64_t rows, int64_t cols) {
    Value at = idx(b, bytes);
    if (alignShift)
      at = arith::AddIOp::create(b, alignShift, idx(b, bytes - kSwizzleAtom));
    auto ty = MemRefType::get({rows, cols}, b.getBF16Type(), MemRefLayoutAttrInterface{},
                              cast<MemRefType>(base.getType()).getMemorySpace());
    bytes += rows * cols * 2;
    return memref::ViewOp::create(b, ty, base, at, ValueRange{});
  }
};

/// Stages tiles of `rows` rows of two tensors (K and V, or Q and dO) for the
/// iterations of a loop that starts at `first` and steps by `rows`. bf16
/// copies are staged with cp.async into two buffers each: while a tile is
/// in use, the next one is on its way (the copy of the tile after the last
/// reads clamped rows and is never used). f32 tensors are staged
/// synchronously into one buffer, rounded to bf16 as they are stored.
struct PairStager {
  WarpTile &w;
  Value a, c, tileA, tileC;
  int64_t rows;
  bool async;
  Value first;

  static PairStager create(WarpTile &w, SharedTiles &shared, Value a, Value c, int64_t rows,
                           bool async, Value first) {
    int64_t bufferRows = Shape::stagedBuffers(async) * rows;
    Value tileA = shared.add(w.b, w.s, bufferRows), tileC = shared.add(w.b, w.s, bufferRows);
    PairStager p{w, a, c, tileA, tileC, rows, async, first};
    if (async)
      p.copy(first, w.c(0));
    return p;
  }
  /// At the top of the iteration at `at`: the tile is in shared memory
  /// (visible to every warp) from the returned row of the tiles on.
  Value acquire(Value at) {
    if (!async) {
      w.stagePair(a, tileA, c, tileC, at, rows);
      return w.c(0);
    }
    Value iteration = w.div(arith::SubIOp::create(w.b, at, first), rows);
    Value buffer = w.mul(w.rem(iteration, 2), w.c(rows));
    Value token = copy(w.add(at, w.c(rows)), arith::SubIOp::create(w.b, w.c(rows), buffer));
    // Wait for all but the copy just started, then for every thread's.
    nvgpu::DeviceAsyncWaitOp::create(w.b, token, w.b.getI32IntegerAttr(1));
    if (w.s.wgmma) // wgmma reads through the async proxy
      NVVM::FenceProxyOp::create(
          w.b, NVVM::ProxyKind::async_shared,
          NVVM::SharedSpaceAttr::get(w.b.getContext(), NVVM::SharedSpace::shared_cta));
    gpu::BarrierOp::create(w.b);
    return buffer;
  }
  /// At the end of an iteration: every warp is done with the tile before
  /// the next iteration's copy overwrites its buffer.
  void release() {
    if (async)
      gpu::BarrierOp::create(w.b);
  }
  /// After the loop: no copy is left in flight.
  void finish() {
    if (async) // (the wait needs a token: an empty group's)
      nvgpu::DeviceAsyncWaitOp::create(w.b, w.asyncGroup({}), w.b.getI32IntegerAttr(0));
  }

private:
  /// Starts the copies of the tile at `at` into the buffer at `bufferRow`
  /// as one group; returns its token.
  Value copy(Value at, Value bufferRow) {
    return w.copyPairAsync(a, tileA, c, tileC, bufferRow, at, rows);
  }
};

/// The query tile of this block: the longest (last) tiles are scheduled
/// first, so that the causal triangle's short tiles fill in at the end.
Value queryTile(WarpTile &w) {
  Value x = gpu::BlockIdOp::create(w.b, gpu::Dimension::x);
  return arith::SubIOp::create(w.b, w.c(w.s.tiles(w.blockRows()) - 1), x);
}

/// One of a warp's 16-row tiles in the query-side kernels: its two rows
/// (g, g + 8; as positions and clamped to the sequence) and its first row
/// (clamped).
struct QueryRows {
  std::array<Value, 2> rows, clamped;
  Value firstRow;
};

/// What the query-side kernels (forward, dQ) share: the warp's row tiles
/// (tile r of warp w starts at row (r * warps + w) * 16 of the block), the
/// end of the keys the block's queries attend to and their shared memory.
struct QueryBlock {
  SharedTiles shared;
  WarpTile w;
  SmallVector<QueryRows, 2> tiles;
  Value keyEnd;

  static QueryBlock create(ImplicitLocOpBuilder &b, const Shape &s) {
    QueryBlock q{SharedTiles::create(b),
                 WarpTile::create(b, s, queryWarps(s.headDim, s.asyncKeys),
                                  queryRowTiles(s.headDim, s.wgmma)),
                 {},
                 {}};
    WarpTile &w = q.w;
    Value tile = queryTile(w);
    Value blockRow0 = w.mul(tile, w.c(w.blockRows()));
    for (int64_t r = 0; r < w.rowTiles; ++r) {
      Value row0 = w.add(blockRow0, w.mul(w.add(w.warp, w.c(r * w.warps)), w.c(kWarpRows)));
      QueryRows rows;
      rows.rows = w.rowsOf(row0);
      rows.clamped = {w.minIdx(rows.rows[0], s.seq - 1), w.minIdx(rows.rows[1], s.seq - 1)};
      rows.firstRow = w.minIdx(row0, s.seq - 1);
      q.tiles.push_back(rows);
    }
    q.keyEnd = w.minIdx(w.mul(w.add(tile, w.c(1)), w.c(w.blockRows())), s.seq);
    return q;
  }
  /// Whether keys [key0, key0 + keys) include one after one of row tile
  /// r's rows: only then does the causal mask change anything
  /// (warp-uniform; most tiles lie wholly below the diagonal).
  Value crossesDiagonal(int64_t r, Value key0, int64_t keys) {
    return w.lt(tiles[r].firstRow, w.add(key0, w.c(keys - 1)));
  }
  /// Row tile r's `vals` for keys [key0, ...) in the C layout (4 per
  /// 8-key chunk), `fill` where a key comes after the row: the causal mask,
  /// paid for only where the keys cross the diagonal.
  SmallVector<Value> maskCausal(int64_t r, Value key0, ArrayRef<Value> vals, Value fill) {
    int64_t chunks = vals.size() / 4;
    const std::array<Value, 2> &clamped = tiles[r].clamped;
    return ifElse(
        w.b, crossesDiagonal(r, key0, 8 * chunks),
        [&](ImplicitLocOpBuilder &) {
          SmallVector<Value> out;
          Value laneKey0 = w.add(key0, w.mul(w.t, w.c(2)));
          for (int64_t n = 0; n < chunks; ++n)
            for (int64_t i = 0; i < 4; ++i) {
              Value key = w.add(laneKey0, w.c(8 * n + (i & 1)));
              out.push_back(w.select(w.le(key, clamped[i / 2]), vals[4 * n + i], fill));
            }
          return out;
        },
        [&](ImplicitLocOpBuilder &) { return SmallVector<Value>(vals); });
  }
  /// The stager of the key and value tiles the block's loop walks through
  /// from key 0 (call once the block is in place: it keeps a reference).
  PairStager keys(Value key, Value value) {
    PairStager stager =
        PairStager::create(w, shared, key, value, kStageKeys, w.s.asyncKeys, w.c(0));
    assert(shared.bytes == w.s.querySharedBytes() && "launch and kernel disagree");
    return stager;
  }
};

/// tele.flash_attention: q 0, k 1, v 2 -> out 3, lse 4.
void buildForward(ImplicitLocOpBuilder &b, const Shape &s, ValueRange args, double scale) {
  QueryBlock blk = QueryBlock::create(b, s);
  WarpTile &w = blk.w;
  int64_t tiles = w.rowTiles;
  SmallVector<SmallVector<FragA>> q;
  for (const QueryRows &rows : blk.tiles)
    q.push_back(w.loadRowFragments(args[0], rows.clamped));
  PairStager keys = blk.keys(args[1], args[2]);
  Value sharedK = keys.tileA, sharedV = keys.tileC;
  Value scaleLog2 = f32(b, scale * kLog2e);
  Value negInf = f32(b, -std::numeric_limits<double>::infinity());
  int64_t outChunks = s.headDim / 8;
  int64_t carriedPerTile = 4 * outChunks + 4;

  // Carried per row tile: O (outChunks accumulators), then m and l for rows
  // g, g + 8.
  SmallVector<Value> init;
  for (int64_t r = 0; r < tiles; ++r) {
    init.append(flatten(SmallVector<Acc>(outChunks, w.zero())));
    init.append({f32(b, -1e30), f32(b, -1e30), f32(b, 0.0), f32(b, 0.0)});
  }
  SmallVector<Value> result = forLoop(
      b, w.c(0), blk.keyEnd, w.c(kStageKeys), init,
      [&](ImplicitLocOpBuilder &, Value kt, ValueRange carried) -> SmallVector<Value> {
        Value base = keys.acquire(kt);
        // S = Q K^T for the 64 staged keys, as 8 chunks of 8 keys per row
        // tile; each K fragment serves every row tile.
        SmallVector<SmallVector<Acc>> sc(
            tiles, SmallVector<Acc>(kStageKeys / 8, s.wgmma ? w.undefined() : w.zero()));
        if (s.wgmma) { // each row tile is one warpgroup-wide 64-row product
          int64_t pieces = scorePieces(s.headDim), pieceKeys = kStageKeys / pieces;
          w.wgmmaBegin();
          for (int64_t k0 = 0; k0 < s.headDim; k0 += 16)
            for (int64_t r = 0; r < tiles; ++r)
              for (int64_t i = 0; i < pieces; ++i) {
                Value keyRows = w.kMajorDescriptor(sharedK, w.add(base, w.c(i * pieceKeys)), k0);
                w.wgmma(q[r][k0 / 16], keyRows,
                        MutableArrayRef<Acc>(sc[r]).slice(i * pieceKeys / 8, pieceKeys / 8),
                        /*transposeB=*/false, /*accumulate=*/k0 > 0);
              }
          w.wgmmaEnd(SmallVector<MutableArrayRef<Acc>>(sc.begin(), sc.end()));
        } else {
          for (int64_t n0 = 0; n0 < kStageKeys; n0 += 16)
            for (int64_t k0 = 0; k0 < s.headDim; k0 += 16) {
              auto kb = w.loadBTransposed(sharedK, w.add(base, w.c(n0)), k0);
              for (int64_t r = 0; r < tiles; ++r) {
                sc[r][n0 / 8] = w.mma(q[r][k0 / 16], kb[0], kb[1], sc[r][n0 / 8]);
                sc[r][n0 / 8 + 1] = w.mma(q[r][k0 / 16], kb[2], kb[3], sc[r][n0 / 8 + 1]);
              }
            }
        }
        SmallVector<SmallVector<Acc>> o;
        SmallVector<std::array<Value, 4>> stats; // m, l per row tile
        for (int64_t r = 0; r < tiles; ++r) {
          ValueRange mine = carried.slice(r * carriedPerTile, carriedPerTile);
          o.push_back(unflatten(mine.take_front(4 * outChunks)));
          Value m[2] = {mine[4 * outChunks], mine[4 * outChunks + 1]};
          Value l[2] = {mine[4 * outChunks + 2], mine[4 * outChunks + 3]};
          // Scale into the log2 domain, the causal mask (on tiles that
          // cross the diagonal), the tile's row maxima.
          SmallVector<Value> scaled;
          for (Acc &chunk : sc[r])
            for (Value &v : chunk)
              scaled.push_back(w.fmul(v, scaleLog2));
          SmallVector<Value> masked = blk.maskCausal(r, kt, scaled, negInf);
          Value tileMax[2] = {negInf, negInf};
          for (int64_t n = 0; n < kStageKeys / 8; ++n)
            for (int64_t i = 0; i < 4; ++i) {
              sc[r][n][i] = masked[4 * n + i];
              tileMax[i / 2] = w.fmax(tileMax[i / 2], sc[r][n][i]);
            }
          Value corr[2];
          for (int64_t h = 0; h < 2; ++h) {
            Value mNew = w.fmax(m[h], w.rowReduce(tileMax[h], /*isMax=*/true));
            corr[h] = w.exp2(w.fsub(m[h], mNew));
            m[h] = mNew;
            l[h] = w.fmul(l[h], corr[h]);
          }
          for (int64_t n = 0; n < kStageKeys / 8; ++n)
            for (int64_t i = 0; i < 4; ++i) {
              sc[r][n][i] = w.exp2(w.fsub(sc[r][n][i], m[i / 2]));
              l[i / 2] = w.fadd(l[i / 2], sc[r][n][i]); // this lane's share of the row
            }
          for (Acc &acc : o[r])
            for (int64_t i = 0; i < 4; ++i)
              acc[i] = w.fmul(acc[i], corr[i / 2]);
          stats.push_back({m[0], m[1], l[0], l[1]});
        }
        // O += P V, 16 keys at a time; each V fragment serves every row tile.
        if (s.wgmma) { // P and the rescaled O in registers before the fence
          SmallVector<FragA> p;
          for (int64_t k0 = 0; k0 < kStageKeys; k0 += 16)
            for (int64_t r = 0; r < tiles; ++r)
              p.push_back(w.toA(sc[r][k0 / 8], sc[r][k0 / 8 + 1]));
          SmallVector<MutableArrayRef<Acc>> outs(o.begin(), o.end());
          w.wgmmaBegin(outs, p);
          for (int64_t k0 = 0; k0 < kStageKeys; k0 += 16)
            for (int64_t r = 0; r < tiles; ++r)
              w.wgmma(p[k0 / 16 * tiles + r],
                      w.mnMajorDescriptor(sharedV, w.add(base, w.c(k0))), o[r],
                      /*transposeB=*/true);
          w.wgmmaEnd(outs);
        } else {
          for (int64_t k0 = 0; k0 < kStageKeys; k0 += 16) {
            SmallVector<FragA> p;
            for (int64_t r = 0; r < tiles; ++r)
              p.push_back(w.toA(sc[r][k0 / 8], sc[r][k0 / 8 + 1]));
            for (int64_t n0 = 0; n0 < s.headDim; n0 += 16) {
              auto vb = w.loadB(sharedV, w.add(base, w.c(k0)), n0);
              for (int64_t r = 0; r < tiles; ++r) {
                o[r][n0 / 8] = w.mma(p[r], vb[0], vb[1], o[r][n0 / 8]);
                o[r][n0 / 8 + 1] = w.mma(p[r], vb[2], vb[3], o[r][n0 / 8 + 1]);
              }
            }
          }
        }
        keys.release();
        SmallVector<Value> next;
        for (int64_t r = 0; r < tiles; ++r) {
          next.append(flatten(o[r]));
          next.append(stats[r].begin(), stats[r].end());
        }
        return next;
      });
  keys.finish();
  Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, w.t, w.c(0));
  for (int64_t r = 0; r < tiles; ++r) {
    ValueRange mine = ValueRange(result).slice(r * carriedPerTile, carriedPerTile);
    const std::array<Value, 2> &rows = blk.tiles[r].rows;
    std::array<Value, 2> inv;
    Value lse[2];
    for (int64_t h = 0; h < 2; ++h) {
      Value l = w.rowReduce(mine[4 * outChunks + 2 + h], /*isMax=*/false);
      inv[h] = arith::DivFOp::create(b, f32(b, 1.0), l);
      // Natural log-sum-exp of the scaled scores: (m + log2 l) ln 2.
      lse[h] = w.fmul(w.fadd(mine[4 * outChunks + h], math::Log2Op::create(b, l)),
                      f32(b, 1.0 / kLog2e));
    }
    w.storeRows(unflatten(mine.take_front(4 * outChunks)), args[3], rows, inv);
    for (int64_t h = 0; h < 2; ++h)
      ifThen(b, arith::AndIOp::create(b, first, w.lt(rows[h], w.c(s.seq))),
             [&](ImplicitLocOpBuilder &) { store(b, lse[h], args[4], w.statIndex(rows[h])); });
  }
}

/// The query-side backward kernel of the mma.sync path (the wgmma path
/// computes dQ from the key side's dS instead): q 0, k 1, v 2, out 3,
/// lse 4, dO 5 -> dq 6, D 7 (workspace, read by the key-side kernel).
void buildQueryGrad(ImplicitLocOpBuilder &b, const Shape &s, ValueRange args, double scale) {
  QueryBlock blk = QueryBlock::create(b, s);
  WarpTile &w = blk.w;
  int64_t tiles = w.rowTiles;
  SmallVector<SmallVector<FragA>> q, dO;
  for (const QueryRows &rows : blk.tiles) {
    q.push_back(w.loadRowFragments(args[0], rows.clamped));
    dO.push_back(w.loadRowFragments(args[5], rows.clamped));
  }
  PairStager keys = blk.keys(args[1], args[2]);
  Value sharedK = keys.tileA, sharedV = keys.tileC;
  Value scaleLog2 = f32(b, scale * kLog2e);

  // D = rowsum(dO * O) in fp32 (from the tensors as stored: f32, or their
  // bf16 copies), and the row's log-sum-exp in the log2 domain.
  SmallVector<std::array<Value, 2>> dsum(tiles), lse2(tiles);
  auto v2 = VectorType::get({2}, b.getF32Type());
  Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, w.t, w.c(0));
  for (int64_t r = 0; r < tiles; ++r) {
    const QueryRows &rows = blk.tiles[r];
    for (int64_t h = 0; h < 2; ++h) {
      Value base = w.add(w.offset(rows.clamped[h]), w.mul(w.t, w.c(2)));
      Value acc = splatFloat(b, v2, 0.0);
      for (int64_t n = 0; n < s.headDim / 8; ++n) {
        Value at = w.add(base, w.c(8 * n));
        acc = vector::FMAOp::create(b, loadChunk(b, v2, args[5], at),
                                    loadChunk(b, v2, args[3], at), acc);
      }
      dsum[r][h] = w.rowReduce(vector::ReductionOp::create(b, vector::CombiningKind::ADD, acc),
                               /*isMax=*/false);
      Value row = rows.rows[h];
      ifThen(b, arith::AndIOp::create(b, first, w.lt(row, w.c(s.seq))),
             [&](ImplicitLocOpBuilder &) { store(b, dsum[r][h], args[7], w.statIndex(row)); });
      lse2[r][h] = w.fmul(load(b, args[4], w.statIndex(rows.clamped[h])), f32(b, kLog2e));
    }
  }

  int64_t outChunks = s.headDim / 8;
  SmallVector<Value> result = forLoop(
      b, w.c(0), blk.keyEnd, w.c(kStageKeys),
      flatten(SmallVector<Acc>(tiles * outChunks, w.zero())),
      [&](ImplicitLocOpBuilder &, Value kt, ValueRange carried) -> SmallVector<Value> {
        Value base = keys.acquire(kt);
        SmallVector<Acc> all = unflatten(carried);
        auto dq = [&](int64_t r) {
          return MutableArrayRef<Acc>(all).slice(r * outChunks, outChunks);
        };
        // 16 keys at a time keeps the scores' registers few; each K and V
        // fragment serves every row tile.
        int64_t step = 16, chunks = step / 8;
        for (int64_t j0 = 0; j0 < kStageKeys; j0 += step) {
          SmallVector<SmallVector<Acc>> sc(tiles, SmallVector<Acc>(chunks, w.zero())),
              dp(tiles, SmallVector<Acc>(chunks, w.zero()));
          for (int64_t k0 = 0; k0 < s.headDim; k0 += 16) {
            Value row = w.add(base, w.c(j0));
            auto kb = w.loadBTransposed(sharedK, row, k0);
            auto vb = w.loadBTransposed(sharedV, row, k0);
            for (int64_t r = 0; r < tiles; ++r)
              for (int64_t n = 0; n < 2; ++n) {
                sc[r][n] = w.mma(q[r][k0 / 16], kb[2 * n], kb[2 * n + 1], sc[r][n]);
                dp[r][n] = w.mma(dO[r][k0 / 16], vb[2 * n], vb[2 * n + 1], dp[r][n]);
              }
          }
          Value chunk0 = w.add(kt, w.c(j0));
          SmallVector<FragA> ds; // per 16 keys, then per row tile
          for (int64_t r = 0; r < tiles; ++r) {
            // P, causally masked on chunks that cross the diagonal.
            SmallVector<Value> p;
            for (int64_t n = 0; n < chunks; ++n)
              for (int64_t i = 0; i < 4; ++i)
                p.push_back(w.exp2(w.fsub(w.fmul(sc[r][n][i], scaleLog2), lse2[r][i / 2])));
            p = blk.maskCausal(r, chunk0, p, f32(b, 0.0));
            for (int64_t n = 0; n < chunks; ++n)
              for (int64_t i = 0; i < 4; ++i)
                sc[r][n][i] = w.fmul(p[4 * n + i], w.fsub(dp[r][n][i], dsum[r][i / 2])); // dS
          }
          for (int64_t n = 0; n < chunks; n += 2)
            for (int64_t r = 0; r < tiles; ++r)
              ds.push_back(w.toA(sc[r][n], sc[r][n + 1]));
          for (int64_t n0 = 0; n0 < s.headDim; n0 += 16) {
            auto kb = w.loadB(sharedK, w.add(base, w.c(j0)), n0);
            for (int64_t r = 0; r < tiles; ++r) {
              dq(r)[n0 / 8] = w.mma(ds[r], kb[0], kb[1], dq(r)[n0 / 8]);
              dq(r)[n0 / 8 + 1] = w.mma(ds[r], kb[2], kb[3], dq(r)[n0 / 8 + 1]);
            }
          }
        }
        keys.release();
        return flatten(all);
      });
  keys.finish();
  Value sc = f32(b, scale);
  SmallVector<Acc> all = unflatten(result);
  for (int64_t r = 0; r < tiles; ++r)
    w.storeRows(ArrayRef<Acc>(all).slice(r * outChunks, outChunks), args[6], blk.tiles[r].rows,
                {sc, sc});
}

/// Where dS tile (query block qb, key block kb) of a (batch, head) lives in
/// the scores workspace of the wgmma backward, in elements: the causal
/// triangle's tiles (kb <= qb) row by row, each 64 x 64 bf16 stored as
/// dS^T ([key][query]) in the 128-byte-swizzled layout of a shared tile
/// (the 16-byte chunk c of row r at chunk c ^ (r % 8)), so that the dQ
/// kernel copies it into shared memory as it is.
Value scoreTileStart(WarpTile &w, Value qb, Value kb) {
  int64_t blocks = w.s.tiles(kStageKeys);
  Value bh = w.add(w.mul(w.batch, w.c(w.s.heads)), w.head);
  Value inTriangle = w.add(w.div(w.mul(qb, w.add(qb, w.c(1))), 2), kb);
  Value tile = w.add(w.mul(bh, w.c(blocks * (blocks + 1) / 2)), inTriangle);
  return w.mul(tile, w.c(kStageKeys * kStageKeys));
}

/// Elements of the wgmma backward's scores workspace (see scoreTileStart).
int64_t scoreWorkspaceElems(const Shape &s) {
  int64_t blocks = s.tiles(kStageKeys);
  return s.batch * s.heads * blocks * (blocks + 1) / 2 * kStageKeys * kStageKeys;
}

/// The key-side backward kernel: q 0, k 1, v 2, dO 3, lse 4, D 5 -> dk 6,
/// dv 7, and with wgmma dS 8 (the scores workspace the dQ kernel reads).
void buildKeyGrad(ImplicitLocOpBuilder &b, const Shape &s, ValueRange args, double scale) {
  int64_t stageQueries = kKeyStageQueries;
  SharedTiles shared = SharedTiles::create(b);
  Value sharedK = shared.add(b, s, kKeyWarps * kWarpRows);
  Value sharedV = shared.add(b, s, kKeyWarps * kWarpRows);
  WarpTile w = WarpTile::create(b, s, kKeyWarps);
  Value tile = gpu::BlockIdOp::create(b, gpu::Dimension::x); // low key tiles see most queries
  Value keyTile0 = w.mul(tile, w.c(w.blockRows()));
  if (s.wgmma) { // one cp.async group, complete by the first query tile's
    w.copyPairAsync(args[1], sharedK, args[2], sharedV, w.c(0), keyTile0, w.blockRows());
  } else {
    w.stage(args[1], sharedK, keyTile0, w.blockRows());
    w.stage(args[2], sharedV, keyTile0, w.blockRows());
  }
  // Queries from the block's first key on (earlier ones do not see its keys).
  PairStager queries = PairStager::create(w, shared, args[0], args[3], stageQueries,
                                          s.asyncQueries, keyTile0);
  Value sharedQ = queries.tileA, sharedDO = queries.tileC;
  // wgmma: each warp's dS^T rows on their way to the scores workspace.
  Value sharedScores = s.wgmma ? shared.addRows(b, kKeyWarps * kWarpRows, kScoreRowElems) : Value();
  assert(shared.bytes == s.keySharedBytes() && "launch and kernel disagree");
  Value warpRow = w.mul(w.warp, w.c(kWarpRows)); // the warp's keys in the tile
  Value warpKey0 = w.add(keyTile0, warpRow);
  std::array<Value, 2> keys = w.rowsOf(warpKey0);
  // Up to head_dim 64 the warp's K and V fragments fit in registers next
  // to its accumulators: read once (after a barrier: the block staged the
  // tiles) instead of for every 16 queries. (wgmma reads them from shared
  // memory as its A operand.)
  bool kvInRegisters = s.headDim <= kKeyFragmentsInRegisters && !s.wgmma;
  SmallVector<FragA> kFrags, vFrags;
  if (kvInRegisters) {
    gpu::BarrierOp::create(b);
    for (int64_t k0 = 0; k0 < s.headDim; k0 += 16) {
      kFrags.push_back(w.loadA(sharedK, warpRow, k0));
      vFrags.push_back(w.loadA(sharedV, warpRow, k0));
    }
  }
  Value scaleLog2 = f32(b, scale * kLog2e);
  int64_t outChunks = s.headDim / 8;

  // One step over `count` staged queries from buffer row i0 (query qt +
  // i0 - base): S^T = K Q^T and dP^T = V dO^T, P^T and dS^T, then
  // dV += P^T dO and dK += dS^T Q.
  auto queryStep = [&](Value qt, Value base, Value i0, int64_t count,
                       ValueRange accs) -> SmallVector<Value> {
    SmallVector<Acc> all = unflatten(accs);
    MutableArrayRef<Acc> dk(all.data(), outChunks), dv(all.data() + outChunks, outChunks);
    int64_t chunks = count / 8;
    Acc init = s.wgmma ? w.undefined() : w.zero();
    SmallVector<Acc> st(chunks, init), dpt(chunks, init);
    if (s.wgmma) { // the warpgroup's 64 keys; K and V as A from shared memory
      // (Its first row, 0 with one warpgroup a block, left to the runtime:
      // as a constant LLVM hoists the descriptors out of the loops, and the
      // flm-tiny key side measured 3.3 instead of 2.2 ms a step.)
      Value groupRow = w.mul(w.div(w.warp, 4), w.c(64));
      w.wgmmaBegin();
      for (int64_t k0 = 0; k0 < s.headDim; k0 += 16) {
        w.wgmma(w.kMajorDescriptor(sharedK, groupRow, k0),
                w.kMajorDescriptor(sharedQ, i0, k0), st, false, k0 > 0);
        w.wgmma(w.kMajorDescriptor(sharedV, groupRow, k0),
                w.kMajorDescriptor(sharedDO, i0, k0), dpt, false, k0 > 0);
      }
      w.wgmmaEnd({st, dpt});
    } else {
      for (int64_t k0 = 0; k0 < s.headDim; k0 += 16) {
        FragA ka = kvInRegisters ? kFrags[k0 / 16] : w.loadA(sharedK, warpRow, k0);
        FragA va = kvInRegisters ? vFrags[k0 / 16] : w.loadA(sharedV, warpRow, k0);
        auto qb = w.loadBTransposed(sharedQ, i0, k0);
        auto ob = w.loadBTransposed(sharedDO, i0, k0);
        for (int64_t n = 0; n < 2; ++n) {
          st[n] = w.mma(ka, qb[2 * n], qb[2 * n + 1], st[n]);
          dpt[n] = w.mma(va, ob[2 * n], ob[2 * n + 1], dpt[n]);
        }
      }
    }
    // Columns are queries: lane t holds queries 2t, 2t + 1 of each chunk
    // (i0 counts from the buffer's first row).
    Value chunk0 = w.add(qt, arith::SubIOp::create(b, i0, base));
    Value query0 = w.add(chunk0, w.mul(w.t, w.c(2)));
    SmallVector<Value> p, dsums;
    for (int64_t n = 0; n < chunks; ++n)
      for (int64_t j = 0; j < 2; ++j) {
        Value query = w.add(query0, w.c(8 * n + j));
        Value stat = w.statIndex(w.minIdx(query, s.seq - 1));
        Value lse2 = w.fmul(load(b, args[4], stat), f32(b, kLog2e));
        dsums.push_back(load(b, args[5], stat));
        for (int64_t h = 0; h < 2; ++h)
          p.push_back(w.exp2(w.fsub(w.fmul(st[n][2 * h + j], scaleLog2), lse2)));
      }
    // The mask (key <= query < seq) only where the queries start before
    // the warp's last key or run past the sequence.
    Value needsMask =
        arith::OrIOp::create(b, w.lt(chunk0, w.add(warpKey0, w.c(kWarpRows - 1))),
                             w.lt(w.c(s.seq), w.add(chunk0, w.c(count))));
    p = ifElse(
        b, needsMask,
        [&](ImplicitLocOpBuilder &) {
          SmallVector<Value> out;
          for (int64_t n = 0; n < chunks; ++n)
            for (int64_t j = 0; j < 2; ++j) {
              Value query = w.add(query0, w.c(8 * n + j));
              Value inSeq = w.lt(query, w.c(s.seq));
              for (int64_t h = 0; h < 2; ++h) {
                Value allowed = arith::AndIOp::create(b, w.le(keys[h], query), inSeq);
                out.push_back(w.select(allowed, p[out.size()], f32(b, 0.0)));
              }
            }
          return out;
        },
        [&](ImplicitLocOpBuilder &) { return p; });
    for (int64_t n = 0; n < chunks; ++n)
      for (int64_t j = 0; j < 2; ++j)
        for (int64_t h = 0; h < 2; ++h) {
          int64_t i = 2 * h + j;
          Value pv = p[4 * n + 2 * j + h];
          st[n][i] = pv;
          dpt[n][i] = w.fmul(pv, w.fsub(dpt[n][i], dsums[2 * n + j])); // dS^T
        }
    SmallVector<FragA> pt, dst; // per 16 queries
    for (int64_t n = 0; n < chunks; n += 2) {
      pt.push_back(w.toA(st[n], st[n + 1]));
      dst.push_back(w.toA(dpt[n], dpt[n + 1]));
    }
    if (s.wgmma) { // dS^T to the scores workspace, for the dQ kernel
      // Through the warp's rows of a shared buffer, so that the global
      // stores are whole 16-byte chunks (4-byte stores of the fragments
      // straight to global memory doubled the kernel's time): register j
      // of a fragment holds keys g (+ 8 for odd j) and queries 2t, 2t + 1
      // (+ 8 from j = 2) of its 16.
      auto pairType = VectorType::get({2}, b.getBF16Type());
      for (auto [k, frag] : llvm::enumerate(dst))
        for (int64_t j = 0; j < 4; ++j) {
          Value row = w.add(warpRow, w.add(w.g, w.c(8 * (j % 2))));
          Value col = w.add(w.c(16 * int64_t(k) + 8 * (j / 2)), w.mul(w.t, w.c(2)));
          Value pair = vector::BitCastOp::create(
              b, pairType,
              vector::FromElementsOp::create(b, VectorType::get({1}, b.getI32Type()),
                                             ValueRange{frag[j]}));
          vector::StoreOp::create(b, pair, sharedScores, ValueRange{row, col});
        }
      NVVM::SyncWarpOp::create(b, arith::ConstantIntOp::create(b, -1, 32));
      // Lane l copies chunks l and l + 32 of the warp's 16 x 4: a row's
      // four land in one aligned 64 bytes of the swizzled tile row.
      Value start = scoreTileStart(w, w.div(chunk0, kStageKeys), tile);
      Value chunkBase = w.div(w.rem(chunk0, kStageKeys), 8);
      Value lane = w.rem(w.tid, kWarp);
      int64_t chunksPerRow = kKeyStageQueries / 8;
      for (int64_t e0 = 0; e0 < kWarpRows * chunksPerRow; e0 += kWarp) {
        Value e = w.add(lane, w.c(e0));
        Value r = w.div(e, chunksPerRow), chunk = w.rem(e, chunksPerRow);
        Value row = w.add(warpRow, r);
        Value v = vector::LoadOp::create(b, VectorType::get({8}, b.getBF16Type()), sharedScores,
                                         ValueRange{row, w.mul(chunk, w.c(8))});
        Value place = arith::XOrIOp::create(b, w.add(chunkBase, chunk), w.rem(r, 8));
        Value at = w.add(start, w.add(w.mul(row, w.c(kStageKeys)), w.mul(place, w.c(8))));
        vector::StoreOp::create(b, v, args[8], ValueRange{at}, false, llvm::MaybeAlign(16));
      }
    }
    if (s.wgmma) { // dO and Q transposed (MN-major)
      SmallVector<FragA> frags(pt);
      frags.append(dst);
      w.wgmmaBegin({dv, dk}, frags);
      for (int64_t k = 0; k < count / 16; ++k) {
        Value row = w.add(i0, w.c(16 * k));
        w.wgmma(frags[k], w.mnMajorDescriptor(sharedDO, row), dv, true);
        w.wgmma(frags[pt.size() + k], w.mnMajorDescriptor(sharedQ, row), dk, true);
      }
      w.wgmmaEnd({dv, dk});
    } else {
      for (int64_t n0 = 0; n0 < s.headDim; n0 += 16) {
        auto ob = w.loadB(sharedDO, i0, n0);
        dv[n0 / 8] = w.mma(pt[0], ob[0], ob[1], dv[n0 / 8]);
        dv[n0 / 8 + 1] = w.mma(pt[0], ob[2], ob[3], dv[n0 / 8 + 1]);
        auto qb = w.loadB(sharedQ, i0, n0);
        dk[n0 / 8] = w.mma(dst[0], qb[0], qb[1], dk[n0 / 8]);
        dk[n0 / 8 + 1] = w.mma(dst[0], qb[2], qb[3], dk[n0 / 8 + 1]);
      }
    }
    return flatten(all);
  };

  SmallVector<Value> init = flatten(SmallVector<Acc>(2 * outChunks, w.zero()));
  SmallVector<Value> result = forLoop(
      b, keyTile0, w.c(s.seq), w.c(stageQueries), init,
      [&](ImplicitLocOpBuilder &, Value qt, ValueRange carried) -> SmallVector<Value> {
        Value base = queries.acquire(qt);
        SmallVector<Value> next;
        if (s.wgmma) { // the staged queries in one step: m64n32 scores
          next = queryStep(qt, base, base, stageQueries, carried);
        } else {
          // 16 staged queries at a time, in a loop rather than unrolled:
          // the accumulators leave no registers for a longer stretch of code.
          next = forLoop(b, base, w.add(base, w.c(stageQueries)), w.c(kWarpRows), carried,
                         [&](ImplicitLocOpBuilder &, Value i0, ValueRange accs) {
                           return queryStep(qt, base, i0, kWarpRows, accs);
                         });
        }
        queries.release();
        return next;
      });
  queries.finish();
  SmallVector<Acc> all = unflatten(result);
  Value sc = f32(b, scale), one = f32(b, 1.0);
  w.storeRows(ArrayRef<Acc>(all).take_front(outChunks), args[6], keys, {sc, sc});
  w.storeRows(ArrayRef<Acc>(all).drop_front(outChunks), args[7], keys, {one, one});
}
/// The wgmma backward's first kernel: D = rowsum(dO * O) per (batch,
/// position, head) row, in fp32 from the tensors as stored (f32, or bf16
/// copies): out 0, dO 1 -> D 2. A row's dh / 8 lanes read 8 features each.
void buildDelta(ImplicitLocOpBuilder &b, const Shape &s, ValueRange args) {
  int64_t lanes = s.headDim / 8, rows = s.batch * s.seq * s.heads;
  Value tid = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
  Value block = gpu::BlockIdOp::create(b, gpu::Dimension::x);
  auto c = [&](int64_t v) { return idx(b, v); };
  Value row = arith::AddIOp::create(b, arith::MulIOp::create(b, block, c(kDeltaThreads / lanes)),
                                    arith::DivUIOp::create(b, tid, c(lanes)));
  Value lane = arith::RemUIOp::create(b, tid, c(lanes));
  Value clamped = arith::MinUIOp::create(b, row, c(rows - 1)); // all lanes shuffle
  Value at = arith::AddIOp::create(b, arith::MulIOp::create(b, clamped, c(s.headDim)),
                                   arith::MulIOp::create(b, lane, c(8)));
  auto v8 = VectorType::get({8}, b.getF32Type());
  Value prod =
      arith::MulFOp::create(b, loadChunk(b, v8, args[1], at), loadChunk(b, v8, args[0], at));
  Value sum =
      warpSum(b, vector::ReductionOp::create(b, vector::CombiningKind::ADD, prod), int32_t(lanes));
  // Rows are (batch, position, head); D is indexed (batch, head, position).
  Value head = arith::RemUIOp::create(b, row, c(s.heads));
  Value pos = arith::RemUIOp::create(b, arith::DivUIOp::create(b, row, c(s.heads)), c(s.seq));
  Value batch = arith::DivUIOp::create(b, row, c(s.heads * s.seq));
  Value stat = arith::AddIOp::create(
      b,
      arith::MulIOp::create(
          b, arith::AddIOp::create(b, arith::MulIOp::create(b, batch, c(s.heads)), head), c(s.seq)),
      pos);
  Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, c(0));
  Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, c(rows));
  ifThen(b, arith::AndIOp::create(b, first, inside),
         [&](ImplicitLocOpBuilder &) { store(b, sum, args[2], stat); });
}

/// The wgmma backward's dQ kernel: k 0, dS 1 (the scores workspace the
/// key-side kernel wrote) -> dq 2. Per block of 64 queries, dQ = dS K over
/// the key blocks up to the diagonal: each step copies a 64-key K tile and
/// the dS^T tile into shared memory (cp.async, the next step's in flight)
/// and multiplies with A = dS read transposed (MN-major) and B = K
/// transposed, like the forward's P V. The softmax and the S and dP
/// products are not recomputed.
void buildQueryGradFromScores(ImplicitLocOpBuilder &b, const Shape &s, ValueRange args,
                              double scale) {
  SharedTiles shared = SharedTiles::create(b);
  WarpTile w = WarpTile::create(b, s, kKeyWarps);
  Value sharedK = shared.add(b, s, 2 * kStageKeys);
  Shape scoreShape = s; // dS^T tiles: 64 queries a row
  scoreShape.headDim = kSwizzleElems;
  Value sharedS = shared.add(b, scoreShape, 2 * kStageKeys);
  assert(shared.bytes == s.scoreGradSharedBytes() && "launch and kernel disagree");
  Value qb = queryTile(w);
  Value blockRow0 = w.mul(qb, w.c(kStageKeys));
  // Starts copying key block kb's K tile and dS^T tile into buffer `buffer`
  // (0 or 1) as one cp.async group: 16-byte chunks, the dS^T tile as it is.
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  auto copy = [&](Value kb, Value buffer) {
    Value bufferRow = w.mul(buffer, w.c(kStageKeys));
    SmallVector<Value> tokens =
        w.copyAsync(args[0], sharedK, bufferRow, w.mul(kb, w.c(kStageKeys)), kStageKeys);
    Value start = scoreTileStart(w, qb, kb);
    int64_t chunks = kStageKeys * kSwizzleElems / 8, threads = kKeyWarps * kWarp;
    for (int64_t step = 0; step * threads < chunks; ++step) {
      Value e = w.add(w.tid, w.c(step * threads)); // chunk e: row e / 8, place e % 8
      Value row = w.add(bufferRow, w.div(e, 8));
      SmallVector<Value> dst{w.div(row, 8), w.c(0), w.rem(row, 8), w.mul(w.rem(e, 8), w.c(8))};
      tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
          b, tokenType, sharedS, dst, args[1], ValueRange{w.add(start, w.mul(e, w.c(8)))},
          b.getIndexAttr(8), Value(), b.getUnitAttr()));
    }
    return w.asyncGroup(tokens);
  };
  copy(w.c(0), w.c(0));
  int64_t outChunks = s.headDim / 8;
  SmallVector<Value> result =
      forLoop(b, w.c(0), w.add(qb, w.c(1)), w.c(1), flatten(SmallVector<Acc>(outChunks, w.zero())),
              [&](ImplicitLocOpBuilder &, Value kb, ValueRange carried) -> SmallVector<Value> {
                Value buffer = w.rem(kb, 2);
                // The next block's copy (past the diagonal: block 0 again, unused).
                Value next = w.add(kb, w.c(1));
                next = w.select(w.le(next, qb), next, w.c(0));
                Value token = copy(next, arith::SubIOp::create(b, w.c(1), buffer));
                nvgpu::DeviceAsyncWaitOp::create(b, token, b.getI32IntegerAttr(1));
                NVVM::FenceProxyOp::create(
                    b, NVVM::ProxyKind::async_shared,
                    NVVM::SharedSpaceAttr::get(b.getContext(), NVVM::SharedSpace::shared_cta));
                gpu::BarrierOp::create(b);
                SmallVector<Acc> dq = unflatten(carried);
                Value bufferRow = w.mul(buffer, w.c(kStageKeys));
                w.wgmmaBegin({dq});
                for (int64_t k0 = 0; k0 < kStageKeys; k0 += 16) {
                  Value keyRow = w.add(bufferRow, w.c(k0));
                  // A = dS [64 queries x 16 keys] from dS^T rows k0.. (MN-major):
                  // one 64-query segment, the next 8 keys 1024 bytes on.
                  Value scores = w.descriptor(sharedS, w.mul(keyRow, w.c(2 * kSwizzleElems)),
                                              kSwizzleAtom, kSwizzleAtom);
                  w.wgmma(scores, w.mnMajorDescriptor(sharedK, keyRow), dq, /*transposeB=*/true,
                          /*accumulate=*/true, /*transposeA=*/true);
                }
                w.wgmmaEnd({dq});
                gpu::BarrierOp::create(b); // every warp is done with the buffer
                return flatten(dq);
              });
  nvgpu::DeviceAsyncWaitOp::create(b, w.asyncGroup({}), b.getI32IntegerAttr(0));
  Value sc = f32(b, scale);
  Value warpRow0 = w.add(blockRow0, w.mul(w.warp, w.c(kWarpRows)));
  w.storeRows(unflatten(result), args[2], w.rowsOf(warpRow0), {sc, sc});
}
} // namespace

FailureOr<OpKernels> mlir::tele::buildTensorCoreAttentionKernels(Operation *op,
                                                                 gpu::GPUModuleOp kernels) {
  if (!isa<FlashAttentionOp, FlashAttentionGradOp>(op))
    return failure();
  Value query = op->getOperand(0);
  auto ty = cast<RankedTensorType>(query.getType());
  int64_t headDim = op->getAttrOfType<IntegerAttr>("head_dim").getInt();
  Shape s{ty.getDimSize(0), ty.getDimSize(1), ty.getDimSize(2) / headDim, headDim,
          bf16Signature(op)};
  auto isBf16 = [&](unsigned operand) {
    return getElementTypeOrSelf(op->getOperand(operand).getType()).isBF16();
  };
  s.asyncKeys = isBf16(1); // key and value (tied)
  s.asyncQueries = isa<FlashAttentionGradOp>(op) && isBf16(0) && isBf16(5); // query, dO
  // The kernels multiply with wgmma where every staged tensor is a bf16
  // copy (staged asynchronously) and whole 64-feature swizzle segments fit.
  s.wgmma = s.asyncKeys && (isa<FlashAttentionOp>(op) || s.asyncQueries) &&
            headDim % kSwizzleElems == 0;
  // f32 softmax statistics (the compute type; inputs may be bf16 copies);
  // whole 16-wide fragments; at most 128 features keep a warp's
  // accumulators in registers. (The shared-memory bound is a guard: head_dim
  // 128 takes 65-70 KiB.)
  Value lse = isa<FlashAttentionOp>(op) ? op->getResult(1) : op->getOperand(4);
  if (!getElementTypeOrSelf(lse.getType()).isF32() || headDim % 16 || headDim > 128 ||
      std::max({s.querySharedBytes(), s.keySharedBytes(), s.scoreGradSharedBytes()}) > kMaxShared)
    return failure();
  double scale = 1.0 / std::sqrt(double(headDim));
  auto mem = [](Value v) -> Type { return flatMemRef(v); };
  MemRefType stat = flatMemRef(Float32Type::get(op->getContext()), s.batch * s.heads * s.seq);
  Location loc = op->getLoc();
  auto launch = [&](gpu::GPUFuncOp fn, int64_t warps, int64_t rowTiles, int64_t sharedBytes,
                    SmallVector<int64_t> args) {
    return KernelLaunch{fn, {s.tiles(warps * rowTiles * kWarpRows), s.batch * s.heads, 1},
                        {warps * kWarp, 1, 1}, std::move(args), sharedBytes};
  };
  int64_t warps = queryWarps(s.headDim, s.asyncKeys),
          rowTiles = queryRowTiles(s.headDim, s.wgmma);
  if (isa<FlashAttentionOp>(op)) {
    auto fn = getOrCreateKernel(kernels, s.name("flash_attention"),
                                {mem(op->getOperand(0)), mem(op->getOperand(1)),
                                 mem(op->getOperand(2)), mem(op->getResult(0)), stat},
                                loc, [&](ImplicitLocOpBuilder &b, ValueRange args) {
                                  buildForward(b, s, args, scale);
                                });
    if (s.wgmma)
      fn->setAttr(NVVM::NVVMDialect::getMaxnregAttrName(),
                  IntegerAttr::get(IntegerType::get(op->getContext(), 32),
                                   forwardMaxRegisters(s.headDim)));
    return OpKernels{
        {launch(fn, warps, rowTiles, s.querySharedBytes(), {})}, {}, {}};
  }
  // flash_attention_grad: operands q 0, k 1, v 2, out 3, lse 4, dO 5;
  // results dq 6, dk 7, dv 8; workspace D 9 (and, with wgmma, the scores
  // 10).
  auto in = [&](unsigned i) { return mem(op->getOperand(i)); };
  auto out = [&](unsigned i) { return mem(op->getResult(i)); };
  SmallVector<Type> keyArgs{in(0), in(1), in(2), in(5), stat, stat, out(1), out(2)};
  if (s.wgmma) {
    // D first; the key side also writes dS, from which the dQ kernel
    // multiplies dQ = dS K without recomputing S and dP (5 products in
    // all instead of 7). Workspace 10: the scores.
    MemRefType scores = flatMemRef(BFloat16Type::get(op->getContext()), scoreWorkspaceElems(s));
    keyArgs.push_back(scores);
    auto delta = getOrCreateKernel(
        kernels, s.name("flash_attention_grad_delta"), {in(3), in(5), stat}, loc,
        [&](ImplicitLocOpBuilder &b, ValueRange args) { buildDelta(b, s, args); });
    auto keyKernel = getOrCreateKernel(
        kernels, s.name("flash_attention_grad_key"), keyArgs, loc,
        [&](ImplicitLocOpBuilder &b, ValueRange args) { buildKeyGrad(b, s, args, scale); });
    auto dqKernel =
        getOrCreateKernel(kernels, s.name("flash_attention_grad_dq"), {in(1), scores, out(0)}, loc,
                          [&](ImplicitLocOpBuilder &b, ValueRange args) {
                            buildQueryGradFromScores(b, s, args, scale);
                          });
    int64_t rowsPerBlock = kDeltaThreads / (s.headDim / 8);
    KernelLaunch deltaLaunch{delta,
                             {(s.batch * s.seq * s.heads + rowsPerBlock - 1) / rowsPerBlock, 1, 1},
                             {kDeltaThreads, 1, 1},
                             {3, 5, 9}};
    return OpKernels{
        {deltaLaunch,
         launch(keyKernel, kKeyWarps, 1, s.keySharedBytes(), {0, 1, 2, 5, 4, 9, 7, 8, 10}),
         launch(dqKernel, kKeyWarps, 1, s.scoreGradSharedBytes(), {1, 10, 6})},
        {s.batch * s.heads * s.seq * 4, scoreWorkspaceElems(s) * 2},
        {}};
  }
  auto queryKernel = getOrCreateKernel(
      kernels, s.name("flash_attention_grad_query"),
      {in(0), in(1), in(2), in(3), stat, in(5), out(0), stat}, loc,
      [&](ImplicitLocOpBuilder &b, ValueRange args) { buildQueryGrad(b, s, args, scale); });
  auto keyKernel = getOrCreateKernel(
      kernels, s.name("flash_attention_grad_key"), keyArgs, loc,
      [&](ImplicitLocOpBuilder &b, ValueRange args) { buildKeyGrad(b, s, args, scale); });
  return OpKernels{{launch(queryKernel, warps, rowTiles, s.querySharedBytes(),
                           {0, 1, 2, 3, 4, 5, 6, 9}),
                    launch(keyKernel, kKeyWarps, 1, s.keySharedBytes(), {0, 1, 2, 5, 4, 9, 7, 8})},
                   {s.batch * s.heads * s.seq * 4},
                   {}};
}
