//===- Pipelines.cpp - named tele pass pipelines --------------------------===//
//
// This file builds and registers the named pipelines. Each is documented by
// its stage list in passes/README.md and has its own lit test under
// test/Pipelines/.
//
//===----------------------------------------------------------------------===//

#include "tele/Pipelines/Pipelines.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::tele;

void mlir::tele::buildTrainingStepPipeline(
    OpPassManager &pm, const TrainingStepPipelineOptions &options) {
  TeleExpandModelOptions expand;
  expand.modelName = options.model;
  expand.stageName = options.stage;
  expand.batch = options.batch;
  expand.dtype = options.dtype;
  pm.addPass(createTeleExpandModel(expand));
  pm.addPass(createTeleAutodiff());
  TeleOptimizerOptions optimizer;
  optimizer.stageName = options.stage;
  pm.addPass(createTeleOptimizer(optimizer));
  pm.addPass(createCSEPass());
}

void mlir::tele::registerTelePipelines() {
  PassPipelineRegistration<TrainingStepPipelineOptions>(
      "tele-training-step",
      "Expand a model, differentiate its loss and append the AdamW update",
      buildTrainingStepPipeline);
}
