//===- Pipelines.h - named tele pass pipelines ------------------*- C++ -*-===//
//
// This file declares the pipeline layer: option structs and builders of the
// named pipelines that compose tele passes. Nothing in lib/ depends on it.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_PIPELINES_PIPELINES_H
#define TELE_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include <string>

namespace mlir::tele {

/// Options of `tele-training-step`.
struct TrainingStepPipelineOptions
    : public PassPipelineOptions<TrainingStepPipelineOptions> {
  Option<std::string> model{*this, "model",
                            llvm::cl::desc("Model to compile (default: all)"),
                            llvm::cl::init("")};
  Option<std::string> stage{
      *this, "stage",
      llvm::cl::desc("Stage whose model, batch and optimizer settings to use "
                     "(overrides model and batch)")};
  Option<int64_t> batch{*this, "batch", llvm::cl::desc("Sequences per batch"),
                        llvm::cl::init(2)};
  Option<std::string> dtype{*this, "dtype",
                            llvm::cl::desc("Element type: f32 or f64"),
                            llvm::cl::init("f32")};
};

/// expand model -> autodiff -> optimizer -> cse: the whole training step as
/// tensor-level IR.
void buildTrainingStepPipeline(OpPassManager &pm,
                               const TrainingStepPipelineOptions &options);

/// Where a compiled step runs.
enum class StepTarget { Cpu, Cuda };

/// Options of `tele-train-step-pipeline`.
struct TrainStepPipelineOptions
    : public PassPipelineOptions<TrainStepPipelineOptions> {
  Option<std::string> stage{*this, "stage",
                            llvm::cl::desc("The plan's stage to compile")};
  Option<std::string> phase{
      *this, "phase",
      llvm::cl::desc("transition (MSG masks as runtime scalars) or steady"),
      llvm::cl::init("steady")};
  Option<StepTarget> target{
      *this, "target", llvm::cl::desc("Where the step runs"),
      llvm::cl::init(StepTarget::Cpu),
      llvm::cl::values(
          clEnumValN(StepTarget::Cpu, "cpu", "tensor-level IR (CPU executor)"),
          clEnumValN(StepTarget::Cuda, "cuda", "annotated for the CUDA runtime"))};
  Option<int64_t> batch{*this, "batch",
                        llvm::cl::desc("Sequences per batch (0: the stage's)"),
                        llvm::cl::init(0)};
  Option<std::string> dtype{*this, "dtype",
                            llvm::cl::desc("Element type: f32 or f64"),
                            llvm::cl::init("f32")};
  Option<int64_t> seed{*this, "seed",
                       llvm::cl::desc("Seed of a growth's random new entries"),
                       llvm::cl::init(0)};
  Option<double> lrMatrixScale{
      *this, "lr-matrix-scale",
      llvm::cl::desc("Matrix-LR multiplier (0: the plan's muP scale d0/d)"),
      llvm::cl::init(0.0)};
};

/// One stage's training step as `tele train`, `tele compile` and `tele bench`
/// run it: tele-stage-loss -> tele-autodiff -> tele-optimizer -> cse, and for
/// target=cuda the device program pipeline on the step.
void buildTrainStepPipeline(OpPassManager &pm,
                            const TrainStepPipelineOptions &options);

/// Options of `tele-cuda-program-pipeline`.
struct CudaProgramPipelineOptions
    : public PassPipelineOptions<CudaProgramPipelineOptions> {
  Option<std::string> function{
      *this, "function",
      llvm::cl::desc("The function to compile (default: the only @*_step)"),
      llvm::cl::init("")};
};

/// A function as the CUDA runtime runs it: tele-extract-function ->
/// tele-fuse -> tele-bf16-gemms -> tele-cache-weight-copies ->
/// convert-tele-to-gpu -> tele-plan-memory. The kernels then go to PTX and
/// the function to a program (lib/Target/CudaProgram.cpp).
void buildCudaProgramPipeline(OpPassManager &pm,
                              const CudaProgramPipelineOptions &options);

void registerTelePipelines();

} // namespace mlir::tele

#endif // TELE_PIPELINES_PIPELINES_H
