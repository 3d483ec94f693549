//===- Passes.h - tele transformation passes --------------------*- C++ -*-===//
//
// This file declares the tele passes (generated from Passes.td) and their
// registration.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_TRANSFORMS_PASSES_H
#define TELE_DIALECT_TELE_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::tele {

#define GEN_PASS_DECL
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"

} // namespace mlir::tele

#endif // TELE_DIALECT_TELE_TRANSFORMS_PASSES_H
