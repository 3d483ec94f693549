//===- tele-opt.cpp - tele optimizer driver -------------------------------===//
//
// This file is the mlir-opt style driver: it registers the tele dialect, the
// upstream dialects tele IR uses, every tele pass and pipeline, and the core
// upstream transforms (canonicalize, cse, ...).
//
//===----------------------------------------------------------------------===//

#include "tele/InitAllDialects.h"
#include "tele/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::tele::registerAllDialects(registry);
  mlir::tele::registerAllPasses();
  mlir::registerTransformsPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tele optimizer driver\n", registry));
}
