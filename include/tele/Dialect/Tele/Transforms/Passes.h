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
#include "tele/Dialect/Tele/IR/Annotations.h"

namespace mlir::tele {

#define GEN_PASS_DECL
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"

/// If `result` (of a tele.adamw) can be computed in place in the training
/// state, the state entry's name: its only user assigns it to the entry its
/// corresponding operand was read from (for the `copy` result, the entry of
/// the parameter's tele.cached_convert), and that read has no user after
/// the update. Otherwise an empty StringRef.
StringRef stateEntryUpdatedInPlace(Value result);

} // namespace mlir::tele

#endif // TELE_DIALECT_TELE_TRANSFORMS_PASSES_H
