//===- KernelBuilders.h - GPU kernel builders by op family ------*- C++ -*-===//
//
// This file is the private interface between the convert-tele-to-gpu pass and
// its kernel builders, split by op family (elementwise, row-wise, RoPE,
// embedding, loss, attention, optimizer scalars), plus the small vocabulary
// of IR-building helpers they share.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_LIB_CONVERSION_TELETOGPU_KERNELBUILDERS_H
#define TELE_LIB_CONVERSION_TELETOGPU_KERNELBUILDERS_H

#include "tele/Conversion/Passes.h"
#include "tele/Dialect/Tele/IR/TeleOps.h"

#include <array>
#include <functional>

namespace mlir::tele {

/// One kernel launch of an op.
struct KernelLaunch {
  gpu::GPUFuncOp kernel;
  std::array<int64_t, 3> grid{1, 1, 1}, block{1, 1, 1};
  /// The kernel's arguments as indices into the op's operands, then its
  /// results, then its workspaces. Empty means operands then results.
  SmallVector<int64_t> args;
  /// Bytes of dynamic shared memory (`gpu.dynamic_shared_memory`) the
  /// kernel carves its tiles from; 0 for static shared memory only.
  int64_t sharedBytes = 0;
};

/// Everything the runtime runs for one op: launches in order, scratch
/// buffers they share (bytes each), and the buffers (indices as in
/// KernelLaunch::args) that must be zero before the first launch, for
/// kernels that accumulate with atomics.
struct OpKernels {
  SmallVector<KernelLaunch> launches;
  SmallVector<int64_t> workspaceBytes;
  SmallVector<int64_t> zeroed;
};

/// Returns the kernel named `name` in `kernels`, creating it with one
/// flattened static memref argument per type in `argTypes` and a body built
/// by `body` (called with the builder before the terminator and the entry
/// block's arguments) if it does not exist yet. Kernel names encode every
/// parameter that specializes them, so equal names mean equal kernels.
gpu::GPUFuncOp getOrCreateKernel(
    gpu::GPUModuleOp kernels, StringRef name, ArrayRef<Type> argTypes,
    Location loc,
    function_ref<void(ImplicitLocOpBuilder &, ValueRange)> body);

/// Creates an empty kernel (only its terminator) named `stem` in `kernels`,
/// with one flattened static memref argument per type in `argTypes`. The
/// caller makes the name unique.
gpu::GPUFuncOp createKernel(gpu::GPUModuleOp kernels, StringRef stem,
                            ArrayRef<Type> argTypes);

/// Threads per block of the chunked (elementwise and RoPE) kernels.
inline constexpr int64_t kChunkBlock = 256;
inline constexpr int64_t kWarp = 32;

/// Launch of a chunked kernel: each thread handles `vec` consecutive of
/// `n` elements.
KernelLaunch chunkedLaunch(gpu::GPUFuncOp kernel, int64_t n, int64_t vec);

/// Emits the index of this thread's first element (block * blockDim +
/// thread, times `vec`) and an `scf.if` that it is below `n`, and moves the
/// builder into the if's body. Returns the index.
Value beginChunk(ImplicitLocOpBuilder &b, int64_t n, int64_t vec);

/// A constant vector of `vt` with every lane `value`.
Value splatFloat(ImplicitLocOpBuilder &b, VectorType vt, double value);

/// A flattened memref of the same element type and number of elements.
MemRefType flatMemRef(Value tensor);
MemRefType flatMemRef(Type elementType, int64_t numElements);

//===----------------------------------------------------------------------===//
// Scalar vocabulary (f32 and index) for kernel bodies
//===----------------------------------------------------------------------===//

Value f32(ImplicitLocOpBuilder &b, double v);
Value idx(ImplicitLocOpBuilder &b, int64_t v);
Value load(ImplicitLocOpBuilder &b, Value memref, Value index);
/// memref[index] = value, rounded to the memref's element type when that is
/// a narrower float (an f32 result stored as bf16).
void store(ImplicitLocOpBuilder &b, Value value, Value memref, Value index);
/// The vector `value` (f32 lanes) stored at memref[index], rounded to the
/// memref's element type when that is narrower; aligned to the whole vector
/// (chunks start at multiples of their length).
void storeChunk(ImplicitLocOpBuilder &b, Value value, Value memref, Value index);
/// The vector `vt` (f32 lanes) at memref[index], read as the memref's
/// element type (a bf16 copy) and widened; aligned to the whole vector.
Value loadChunk(ImplicitLocOpBuilder &b, VectorType vt, Value memref, Value index);
/// "_to_bf16" when `result` is bf16 (an f32 op's narrowed result), for
/// kernel names; "" otherwise.
std::string narrowedSuffix(Value result);
/// For kernels of ops whose operands or results may be bf16 copies: ""
/// when none is, else "_" and a letter per operand, "_" and a letter per
/// result (b for bf16, f otherwise), e.g. "_bbbbfb_fff", for kernel names.
std::string bf16Signature(Operation *op);
/// memref[index] += value, atomically (atom.global.add.f32).
void atomicAdd(ImplicitLocOpBuilder &b, Value value, Value memref, Value index);
/// The sum / maximum over each group of `lanes` adjacent lanes (a power of
/// two; the whole warp by default); every lane holds its group's result.
Value warpSum(ImplicitLocOpBuilder &b, Value v, int32_t lanes = kWarp);
Value warpMax(ImplicitLocOpBuilder &b, Value v, int32_t lanes = kWarp);
/// Runs `body` under `scf.if (cond)`.
void ifThen(ImplicitLocOpBuilder &b, Value cond,
            function_ref<void(ImplicitLocOpBuilder &)> body);
/// A static f32 shared-memory buffer of the kernel being built (a workgroup
/// attribution of its gpu.func).
Value addWorkgroupBuffer(ImplicitLocOpBuilder &b, int64_t floats);
/// The sum of `v` over the block's `threads` threads (a multiple of 32, at
/// most 1024): warp shuffles, then the warps' sums through shared memory.
/// Every thread must reach it (it has a barrier); thread 0 holds the sum.
Value blockSum(ImplicitLocOpBuilder &b, Value v, int64_t threads);
/// An `scf.if (cond)` with results: `thenBody`'s values where `cond` holds,
/// else `elseBody`'s (both the same types).
SmallVector<Value> ifElse(ImplicitLocOpBuilder &b, Value cond,
                          function_ref<SmallVector<Value>(ImplicitLocOpBuilder &)> thenBody,
                          function_ref<SmallVector<Value>(ImplicitLocOpBuilder &)> elseBody);
/// An `scf.for` from `lb` to `ub` by `step` carrying `init`; `body` gets the
/// induction variable and the carried values and returns the next ones.
SmallVector<Value>
forLoop(ImplicitLocOpBuilder &b, Value lb, Value ub, Value step,
        ValueRange init,
        function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value,
                                        ValueRange)> body);

/// Multi-tensor launches (the global norm's first pass): tensor i
/// owns blocks [firstBlocks[i], firstBlocks[i + 1]) of the launch. Emits the
/// scan that finds this block's tensor (a comparison per tensor, over
/// constants) and an `scf.index_switch` on it; `body` builds tensor i's
/// case, given the block's index among that tensor's blocks, and returns
/// the case's results (of `resultTypes`; the default case yields
/// `fallback`'s).
SmallVector<Value> switchOnBlockTensor(
    ImplicitLocOpBuilder &b, ArrayRef<int64_t> firstBlocks, TypeRange resultTypes,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, int64_t, Value)> body,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &)> fallback);

/// Rows a block of the row-wise kernels (RMSNorm, cross-entropy) handles:
/// one per warp.
inline constexpr int64_t kWarpRowsPerBlock = 4;
/// Emits this warp's row (kWarpRowsPerBlock a block) and the `row < rows`
/// guard; `body` gets the row, its lane and the row's first element (row
/// times `width`).
void forEachWarpRow(ImplicitLocOpBuilder &b, int64_t rows, int64_t width,
                    function_ref<void(ImplicitLocOpBuilder &, Value row, Value lane,
                                      Value rowBase)> body);
/// The launch of a kernel built with forEachWarpRow over `rows` rows.
KernelLaunch warpRowLaunch(gpu::GPUFuncOp kernel, int64_t rows);

/// How a warp (or `lanes` threads, several warps) walks a row of `width`
/// elements: lane l's chunks are columns [(i * lanes + l) * vec, ... + vec)
/// for i < count, read as f32 vectors (widened from bf16 copies). Rows a
/// multiple of 4 * lanes wide take chunks of four, of 2 * lanes two; others
/// single elements, the last chunks guarded when the row is not a multiple
/// of `lanes` (`ragged`).
struct RowWalk {
  int64_t width, vec, count;
  bool ragged;
  int64_t lanes = kWarp;

  static RowWalk of(int64_t width, int64_t lanes = kWarp);
  VectorType type(ImplicitLocOpBuilder &b) const;
  /// The first column of chunk `i` of this lane.
  Value column(ImplicitLocOpBuilder &b, Value lane, Value i) const;
  /// Chunk `i` of the row at `rowBase` (null: the memref is one row) of
  /// `memref`; lanes past the row's end read `fill`. A constant `i` guards
  /// only a chunk that can pass the end.
  Value load(ImplicitLocOpBuilder &b, Value memref, Value rowBase, Value lane, int64_t i,
             double fill = 0.0) const;
  Value load(ImplicitLocOpBuilder &b, Value memref, Value rowBase, Value lane, Value i,
             double fill = 0.0) const;
  /// Stores chunk `i` (rounded if the memref is a bf16 copy), not past the
  /// row's end.
  void store(ImplicitLocOpBuilder &b, Value value, Value memref, Value rowBase, Value lane,
             int64_t i) const;
  void store(ImplicitLocOpBuilder &b, Value value, Value memref, Value rowBase, Value lane,
             Value i) const;
  /// The sum / maximum of a vector's lanes.
  static Value sum(ImplicitLocOpBuilder &b, Value v);
  static Value max(ImplicitLocOpBuilder &b, Value v);

private:
  bool mayPassEnd(int64_t i) const { return ragged && (i + 1) * vec * lanes > width; }
  Value load(ImplicitLocOpBuilder &b, Value memref, Value rowBase, Value lane, Value i,
             bool guarded, double fill) const;
  void store(ImplicitLocOpBuilder &b, Value value, Value memref, Value rowBase, Value lane,
             Value i, bool guarded) const;
};

//===----------------------------------------------------------------------===//
// Families. Each returns failure (without a diagnostic) for ops it does not
// handle, or shapes and element types it does not generate yet.
//===----------------------------------------------------------------------===//

/// add, scale, swiglu, swiglu_grad, mask_mul, lerp, lerp_grad, adamw (f32),
/// convert (f32 to bf16).
FailureOr<KernelLaunch> buildElementwiseKernel(Operation *op,
                                               gpu::GPUModuleOp kernels);
/// tele.rope, forward or inverse (f32).
FailureOr<KernelLaunch> buildRopeKernel(Operation *op, gpu::GPUModuleOp kernels);
/// tele.rms_norm (one launch) and tele.rms_norm_grad (dx, then dgain).
FailureOr<OpKernels> buildRowKernels(Operation *op, gpu::GPUModuleOp kernels);
/// tele.embed (gather) and tele.embed_grad (atomic scatter-add).
FailureOr<OpKernels> buildEmbedKernels(Operation *op, gpu::GPUModuleOp kernels);
/// tele.cross_entropy and tele.cross_entropy_grad without a loss mask.
FailureOr<OpKernels> buildLossKernels(Operation *op, gpu::GPUModuleOp kernels);
/// tele.attention, tele.attention_grad and the flash pair in fp32 on CUDA
/// cores: causal, online softmax, 64-row tiles with staged K/V (or Q/dO),
/// no T x T matrix in memory.
FailureOr<OpKernels> buildAttentionKernels(Operation *op,
                                           gpu::GPUModuleOp kernels);
/// tele.flash_attention and tele.flash_attention_grad on the tensor cores
/// (bf16 mma.sync, fp32 softmax and accumulators) for head_dim a multiple of
/// 16 up to 128; failure otherwise (buildAttentionKernels takes them).
FailureOr<OpKernels> buildTensorCoreAttentionKernels(Operation *op,
                                                     gpu::GPUModuleOp kernels);
/// tele.global_norm, tele.clip_scale, tele.lr_schedule, tele.mask_vector.
FailureOr<OpKernels> buildOptimizerKernels(Operation *op,
                                           gpu::GPUModuleOp kernels);

} // namespace mlir::tele

#endif // TELE_LIB_CONVERSION_TELETOGPU_KERNELBUILDERS_H
