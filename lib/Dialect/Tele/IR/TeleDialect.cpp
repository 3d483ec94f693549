//===- TeleDialect.cpp - tele dialect registration ------------------------===//
//
// This file registers the tele dialect's ops and attributes and holds the
// generated attribute and enum definitions.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tele;

#include "tele/Dialect/Tele/IR/TeleOpsDialect.cpp.inc"
#include "tele/Dialect/Tele/IR/TeleEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "tele/Dialect/Tele/IR/TeleAttrs.cpp.inc"

void TeleDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "tele/Dialect/Tele/IR/TeleOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "tele/Dialect/Tele/IR/TeleAttrs.cpp.inc"
      >();
}
