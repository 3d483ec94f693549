//===- InitAllDialects.h - register every dialect tele uses -----*- C++ -*-===//
//
// This file registers the tele dialect and the upstream dialects its IR
// contains, for tele-opt and the tele tool.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_INITALLDIALECTS_H
#define TELE_INITALLDIALECTS_H

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"

namespace mlir::tele {
inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<TeleDialect, func::FuncDialect, arith::ArithDialect>();
}
} // namespace mlir::tele

#endif // TELE_INITALLDIALECTS_H
