//===- TeleOps.h - tele dialect, attributes and ops -------------*- C++ -*-===//
//
// This file declares the tele dialect, its enums, attributes and ops, all
// generated from ODS (TeleOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_IR_TELEOPS_H
#define TELE_DIALECT_TELE_IR_TELEOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/APFloat.h"

namespace mlir::tele {
/// Parses a plain number (integer or float literal) into an APFloat; used by
/// the generated parsers of float attribute parameters.
FailureOr<llvm::APFloat> parseFloatParameter(AsmParser &parser);

/// The type of the softmax statistics (log-sum-exp) of attention over a
/// [batch, seq, heads * headDim] query: [batch, heads, seq], same element type.
RankedTensorType attentionStatsType(RankedTensorType query, int64_t headDim);
} // namespace mlir::tele

#include "tele/Dialect/Tele/IR/TeleOpsDialect.h.inc"
#include "tele/Dialect/Tele/IR/TeleEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "tele/Dialect/Tele/IR/TeleAttrs.h.inc"

namespace mlir::tele {
class ModelOp;
} // namespace mlir::tele
#include "tele/Dialect/Tele/IR/TeleInterfaces.h.inc"

#define GET_OP_CLASSES
#include "tele/Dialect/Tele/IR/TeleOps.h.inc"

#endif // TELE_DIALECT_TELE_IR_TELEOPS_H
