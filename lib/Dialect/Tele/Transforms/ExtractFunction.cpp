//===- ExtractFunction.cpp - tele-extract-function pass -------------------===//
//
// This file implements tele-extract-function: a device program is one
// function, so the others (the loss, its gradient, @eval, parameter maps)
// are erased before kernels are generated, or they would add theirs.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"

#define DEBUG_TYPE "tele-extract-function"

namespace mlir::tele {
#define GEN_PASS_DEF_TELEEXTRACTFUNCTION
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
struct ExtractFunctionPass
    : tele::impl::TeleExtractFunctionBase<ExtractFunctionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> kept;
    for (auto fn : module.getOps<func::FuncOp>())
      if (functionName.empty() ? fn.getSymName().ends_with("_step")
                               : fn.getSymName() == functionName)
        kept.push_back(fn);
    if (kept.size() != 1) {
      SmallVector<StringRef> names;
      for (auto fn : module.getOps<func::FuncOp>())
        names.push_back(fn.getSymName());
      auto diag = module.emitError() << "tele-extract-function: ";
      if (functionName.empty())
        diag << "expected exactly one @*_step function, found " << kept.size();
      else
        diag << "no function named @" << functionName;
      diag << " (functions: " << (names.empty() ? "none" : llvm::join(names, ", "))
           << ")";
      return signalPassFailure();
    }
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (fn != kept.front())
        fn.erase();
  }
};
} // namespace
