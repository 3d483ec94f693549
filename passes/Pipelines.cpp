//===- Pipelines.cpp - named tele pass pipelines --------------------------===//
//
// This file builds and registers the named pipelines. Each is documented by
// its stage list in passes/README.md and has its own lit test under
// test/Pipelines/.
//
//===----------------------------------------------------------------------===//

#include "tele/Pipelines/Pipelines.h"
#include "tele/Conversion/Passes.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::tele;

namespace {
/// The loss's gradients and the AdamW step after it: what every training
/// step pipeline runs once the loss exists.
void addGradientAndStep(OpPassManager &pm, StringRef stage,
                        double lrMatrixScale) {
  pm.addPass(createTeleAutodiff());
  TeleOptimizerOptions optimizer;
  optimizer.stageName = stage.str();
  optimizer.lrMatrixScale = lrMatrixScale;
  pm.addPass(createTeleOptimizer(optimizer));
  pm.addPass(createCSEPass());
}
} // namespace

void mlir::tele::buildTrainingStepPipeline(
    OpPassManager &pm, const TrainingStepPipelineOptions &options) {
  TeleExpandModelOptions expand;
  expand.modelName = options.model;
  expand.stageName = options.stage;
  expand.batch = options.batch;
  expand.dtype = options.dtype;
  pm.addPass(createTeleExpandModel(expand));
  addGradientAndStep(pm, options.stage, /*lrMatrixScale=*/0.0);
}

void mlir::tele::buildTrainStepPipeline(
    OpPassManager &pm, const TrainStepPipelineOptions &options) {
  TeleStageLossOptions stage;
  stage.stageName = options.stage;
  stage.phase = options.phase;
  stage.batch = options.batch;
  stage.dtype = options.dtype;
  stage.seed = options.seed;
  pm.addPass(createTeleStageLoss(stage));
  addGradientAndStep(pm, options.stage, options.lrMatrixScale);
  if (options.target == StepTarget::Cuda)
    buildCudaProgramPipeline(pm, CudaProgramPipelineOptions());
}

void mlir::tele::buildCudaProgramPipeline(
    OpPassManager &pm, const CudaProgramPipelineOptions &options) {
  TeleExtractFunctionOptions extract;
  extract.functionName = options.function;
  pm.addPass(createTeleExtractFunction(extract));
  pm.addNestedPass<func::FuncOp>(createTeleFuse());
  pm.addNestedPass<func::FuncOp>(createTeleBf16Gemms());
  pm.addNestedPass<func::FuncOp>(createTeleCacheWeightCopies());
  pm.addPass(createConvertTeleToGPU());
  pm.addNestedPass<func::FuncOp>(createTelePlanMemory());
}

void mlir::tele::registerTelePipelines() {
  PassPipelineRegistration<TrainStepPipelineOptions>(
      "tele-train-step-pipeline",
      "One stage's training step as tele train, compile and bench run it "
      "(stage loss, autodiff, AdamW; with target=cuda the device program)",
      buildTrainStepPipeline);
  PassPipelineRegistration<CudaProgramPipelineOptions>(
      "tele-cuda-program-pipeline",
      "A function as the CUDA runtime runs it: fused ops, bf16 GEMM "
      "operands, cached weight copies, kernels and the memory plan",
      buildCudaProgramPipeline);
  PassPipelineRegistration<TrainingStepPipelineOptions>(
      "tele-training-step",
      "Expand a model, differentiate its loss and append the AdamW update",
      buildTrainingStepPipeline);
}
