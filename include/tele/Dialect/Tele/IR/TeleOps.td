//===- TeleOps.td - all tele ops ---------------------------*- tablegen -*-===//
//
// This file gathers every op family of the tele dialect for ODS; it is the
// input of add_mlir_dialect and of the generated op documentation.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_IR_TELEOPS_TD
#define TELE_DIALECT_TELE_IR_TELEOPS_TD

include "tele/Dialect/Tele/IR/TeleBase.td"
include "tele/Dialect/Tele/IR/TeleAttrs.td"
include "tele/Dialect/Tele/IR/TelePlanOps.td"
include "tele/Dialect/Tele/IR/TeleTensorOps.td"

#endif // TELE_DIALECT_TELE_IR_TELEOPS_TD
