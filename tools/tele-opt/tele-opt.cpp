//===- tele-opt.cpp - tele optimizer driver -------------------------------===//
//
// This file is the mlir-opt style driver: it registers the tele dialect, the
// upstream dialects and passes (the GPU to NVVM lowering among them), every
// tele pass and pipeline.
//
//===----------------------------------------------------------------------===//

#include "tele/InitAllDialects.h"
#include "tele/InitAllPasses.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::tele::registerAllDialects(registry);
  // Upstream dialects, passes and the NVVM target, so that the GPU lowering
  // (gpu-lower-to-nvvm-pipeline) runs in tele-opt too.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::tele::registerAllPasses();
  mlir::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tele optimizer driver\n", registry));
}
