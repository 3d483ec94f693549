//===- PlanFile.h - user-facing training plan files -------------*- C++ -*-===//
//
// This file declares the config front end: a training plan written in YAML
// (JSON is accepted too, being YAML's flow subset) or as .mlir becomes a
// module of tele.model and tele.plan ops. Errors are reported through the
// MLIRContext's diagnostics with the file, line and column of the offending
// key or entry.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_CONFIG_PLANFILE_H
#define TELE_CONFIG_PLANFILE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::tele {

/// Parses a YAML/JSON plan held in `text` (named `bufferName` in messages).
/// Returns null after reporting an error.
OwningOpRef<ModuleOp> parsePlanYaml(StringRef text, StringRef bufferName,
                                    MLIRContext *context);

/// Loads a plan from `path`: `.mlir` files are parsed as IR, anything else as
/// YAML/JSON. The module is verified. Returns null after reporting an error.
OwningOpRef<ModuleOp> loadPlanFile(StringRef path, MLIRContext *context);

/// The embedded default plan (plans/default.yaml compiled into the binary).
StringRef getDefaultPlanText();

/// Loads the embedded default plan.
OwningOpRef<ModuleOp> loadDefaultPlan(MLIRContext *context);

} // namespace mlir::tele

#endif // TELE_CONFIG_PLANFILE_H
