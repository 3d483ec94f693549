//===- IRFuzzer.cpp - libFuzzer target of the IR parser and pipelines -----===//
//
// This file fuzzes what `tele-opt` does with a .mlir file: parse with the
// tele, func and arith dialects, verify, print and parse the printed form back,
// then run the main pipelines on copies of the module, each with diagnostics
// captured instead of printed:
//   - tele-training-step (passes/), then the CUDA target's tensor-level passes
//     tele-fuse, tele-bf16-gemms and tele-cache-weight-copies;
//   - tele-autodiff, tele-optimizer, cse on the functions as written;
//   - per growth op (the first few), tele-lower-growth{index=} with and
//     without tele-fold-masks, then tele-autodiff, tele-optimizer, cse, as
//     `tele train` compiles the stages of a growth.
// Bad input must end in an error diagnostic. Findings: a crash, a sanitizer
// report, a parse or pass failure without an error, a printed module that
// does not parse back, and a pass that succeeds but leaves IR that does not
// verify (the pass managers' own verifier is off so that such a pass is
// named here rather than reported as an ordinary error).
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "tele/InitAllDialects.h"
#include "tele/Pipelines/Pipelines.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

using namespace mlir;
using namespace mlir::tele;

namespace {
/// The pipelines' work grows linearly with a model's layer count and with the
/// number of growth ops (one lowering each); beyond these a slow input is
/// only big, not wrong, so the pipelines are skipped for it.
constexpr int64_t kMaxLayers = 8;
constexpr int64_t kMaxGrowthOps = 3;

[[noreturn]] void finding(const Twine &what) {
  llvm::errs() << "IR fuzzer: " << what << "\n";
  std::abort();
}

/// Verifies the IR after every successful pass, so that a pass that leaves
/// invalid IR is reported by name.
struct VerifyAfterEachPass : public PassInstrumentation {
  void runAfterPass(Pass *pass, Operation *op) override {
    if (failed(verify(op)))
      finding("pass '" + pass->getArgument() +
              "' succeeded but left IR that does not verify");
  }
};

/// Runs the pipeline that `build` adds on a copy of `module`. A failure must
/// have reported an error.
void runPipeline(ModuleOp module, bool &sawError, StringRef name,
                 const std::function<void(PassManager &)> &build) {
  sawError = false;
  OwningOpRef<ModuleOp> copy = module.clone();
  PassManager pm(module.getContext());
  pm.enableVerifier(false);
  pm.addInstrumentation(std::make_unique<VerifyAfterEachPass>());
  build(pm);
  if (failed(pm.run(*copy)) && !sawError)
    finding("pipeline '" + name + "' failed without an error");
}

/// Adds lower-growth{index=} [fold-masks] autodiff optimizer cse.
void buildGrowthStage(PassManager &pm, int64_t index, bool foldMasks) {
  TeleLowerGrowthOptions lower;
  lower.growIndex = index;
  pm.addPass(createTeleLowerGrowth(lower));
  if (foldMasks)
    pm.addPass(createTeleFoldMasks());
  pm.addPass(createTeleAutodiff());
  pm.addPass(createTeleOptimizer());
  pm.addPass(createCSEPass());
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  DialectRegistry registry;
  tele::registerAllDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  bool sawError = false;
  ScopedDiagnosticHandler capture(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      sawError = true;
    return success();
  });

  // MLIR's lexer stops at a NUL, which files read by tele-opt end with but
  // libFuzzer's buffer does not: the std::string supplies it.
  std::string text(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(text, ParserConfig(&context), "fuzz.mlir");
  if (!module) {
    if (!sawError)
      finding("input refused without an error");
    return 0;
  }
  // parseSourceString verified the module; the printed form must parse back.
  std::string printed;
  {
    llvm::raw_string_ostream os(printed);
    module->print(os);
  }
  if (!parseSourceString<ModuleOp>(printed, ParserConfig(&context),
                                   "printed.mlir")) {
    llvm::errs() << printed << "\n";
    finding("the printed module does not parse back");
  }

  int64_t growthOps = 0;
  bool tooBig = false;
  module->walk([&](Operation *op) {
    if (auto model = dyn_cast<ModelOp>(op))
      tooBig |= model.getConfig().getLayers() > kMaxLayers;
    if (isa<GrowWidthOp, GrowDepthOp>(op))
      ++growthOps;
  });
  if (tooBig || growthOps > kMaxGrowthOps)
    return 0;

  runPipeline(*module, sawError, "tele-training-step", [](PassManager &pm) {
    buildTrainingStepPipeline(pm, TrainingStepPipelineOptions());
    pm.addNestedPass<func::FuncOp>(createTeleFuse());
    pm.addNestedPass<func::FuncOp>(createTeleBf16Gemms());
    pm.addNestedPass<func::FuncOp>(createTeleCacheWeightCopies());
  });
  runPipeline(*module, sawError, "autodiff", [](PassManager &pm) {
    pm.addPass(createTeleAutodiff());
    pm.addPass(createTeleOptimizer());
    pm.addPass(createCSEPass());
  });
  for (int64_t index = 0; index < growthOps; ++index)
    for (bool fold : {false, true})
      runPipeline(*module, sawError, "growth stage", [&](PassManager &pm) {
        buildGrowthStage(pm, index, fold);
      });
  return 0;
}
