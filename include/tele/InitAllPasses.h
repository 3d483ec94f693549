//===- InitAllPasses.h - register every tele pass and pipeline --*- C++ -*-===//
//
// This file registers the tele passes and the named pipelines of passes/.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_INITALLPASSES_H
#define TELE_INITALLPASSES_H

#include "tele/Conversion/Passes.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "tele/Pipelines/Pipelines.h"

namespace mlir::tele {
inline void registerAllPasses() {
  registerTelePasses();
  registerTeleConversionPasses();
  registerTelePipelines();
}
} // namespace mlir::tele

#endif // TELE_INITALLPASSES_H
