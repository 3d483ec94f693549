//===- KernelBuilders.h - GPU kernel builders by op family ------*- C++ -*-===//
//
// This file is the private interface between the convert-tele-to-gpu pass and
// its kernel builders, split by op family (elementwise, row-wise).
//
//===----------------------------------------------------------------------===//

#ifndef TELE_LIB_CONVERSION_TELETOGPU_KERNELBUILDERS_H
#define TELE_LIB_CONVERSION_TELETOGPU_KERNELBUILDERS_H

#include "tele/Conversion/Passes.h"
#include "tele/Dialect/Tele/IR/TeleOps.h"

namespace mlir::tele {

/// Where a kernel lives and how to launch it.
struct KernelLaunch {
  gpu::GPUFuncOp kernel;
  int64_t grid = 1, block = 1;
};

/// Creates an empty kernel (only its terminator) named `stem` in `kernels`,
/// with one flattened static memref argument per type in `argTypes`. The
/// caller makes the name unique.
gpu::GPUFuncOp createKernel(gpu::GPUModuleOp kernels, StringRef stem,
                            ArrayRef<Type> argTypes);

/// Threads per block of the chunked (elementwise and RoPE) kernels.
inline constexpr int64_t kChunkBlock = 256;

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

/// Builds the kernel of an elementwise op (add, scale, swiglu, swiglu_grad,
/// mask_mul, lerp, adamw) in f32; failure (without a diagnostic) for any
/// other op or element type, which then stays without a kernel.
FailureOr<KernelLaunch> buildElementwiseKernel(Operation *op,
                                               gpu::GPUModuleOp kernels);

/// Builds the kernel of tele.rope (forward or inverse) in f32; failure for
/// any other op or element type.
FailureOr<KernelLaunch> buildRopeKernel(Operation *op, gpu::GPUModuleOp kernels);

/// Builds the kernel of a row-wise op (rms_norm); failure if `op` is not one.
FailureOr<KernelLaunch> buildRowKernel(Operation *op, gpu::GPUModuleOp kernels);

} // namespace mlir::tele

#endif // TELE_LIB_CONVERSION_TELETOGPU_KERNELBUILDERS_H
