//===- CudaProgram.h - a tele function as a GPU runtime program -*- C++ -*-===//
//
// This file declares the last step of the CUDA target: a tensor-level
// function (a training step or an evaluation) becomes PTX plus a program
// the MLIR-free runtime (runtime/cuda/Program.cpp) executes: the state
// tensors and inputs it binds, an arena of the planned size, and the list
// of kernel launches, cuBLASLt GEMMs, zero-fills and copies in order.
//
// The program format ("tele-cuda-program", version 1: every key, its type
// and meaning, with an example) is documented in docs/program-format.md.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_TARGET_CUDAPROGRAM_H
#define TELE_TARGET_CUDAPROGRAM_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

namespace mlir::tele {

/// A function compiled for the GPU runtime.
struct CudaProgram {
  std::string ptx;
  llvm::json::Object program; ///< the program, its "ptx" field unset
  int64_t arenaBytes = 0, unplannedBytes = 0;
};

/// Compiles function `name` of `module` (other functions are dropped from
/// the module) through tele-cuda-program-pipeline (fused ops, bf16 GEMM
/// operands, cached weight copies, kernels, memory plan), lowers the kernels
/// to PTX for `chip` and writes the program. Fails with a diagnostic naming
/// the first op that has no GPU lowering.
FailureOr<CudaProgram> compileCudaProgram(ModuleOp module, StringRef name,
                                          StringRef chip = "sm_90a");

/// The program and PTX of a module that tele-cuda-program-pipeline has
/// reduced to one annotated function (what compileCudaProgram does after
/// running it).
FailureOr<CudaProgram> emitCudaProgram(ModuleOp module,
                                       StringRef chip = "sm_90a");

/// The program of `fn`, already annotated by convert-tele-to-gpu and
/// tele-plan-memory.
FailureOr<llvm::json::Object> buildCudaProgram(func::FuncOp fn);

} // namespace mlir::tele

#endif // TELE_TARGET_CUDAPROGRAM_H
