//===- Passes.h - tele conversion passes ------------------------*- C++ -*-===//
//
// This file declares the conversions out of the tele dialect (generated from
// Passes.td) and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_CONVERSION_PASSES_H
#define TELE_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "tele/Dialect/Tele/IR/Annotations.h"

namespace mlir::tele {

#define GEN_PASS_DECL
#include "tele/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tele/Conversion/Passes.h.inc"

/// Name of the gpu.module holding the generated kernels.
inline constexpr const char *kKernelModuleName = "tele_kernels";

/// Erases every top-level op of `module` but the gpu.module of kernels, so
/// that the upstream GPU lowering sees device code alone.
void keepOnlyKernels(ModuleOp module);

/// Lowers a module holding only kernels (keepOnlyKernels) to PTX for
/// `chip` through MLIR's NVVM pipeline and LLVM's NVPTX backend; returns the
/// PTX text, or failure after a diagnostic.
FailureOr<std::string> lowerKernelsToPTX(ModuleOp module, StringRef chip);

} // namespace mlir::tele

#endif // TELE_CONVERSION_PASSES_H
