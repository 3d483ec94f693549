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

void registerTelePipelines();

} // namespace mlir::tele

#endif // TELE_PIPELINES_PIPELINES_H
