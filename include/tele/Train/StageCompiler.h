//===- StageCompiler.h - compile the functions of one stage -----*- C++ -*-===//
//
// This file declares how the trainer turns a stage of a plan into executable
// functions through the tele pass pipeline: the training step (expand or
// lower growth, optionally fold masks, autodiff, optimizer) and helpers it
// evaluates with (loss with logits, layer distances, the growth parameter
// map).
//
//===----------------------------------------------------------------------===//

#ifndef TELE_TRAIN_STAGECOMPILER_H
#define TELE_TRAIN_STAGECOMPILER_H

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/PlanSchedule.h"
#include "tele/Pipelines/Pipelines.h"
#include "mlir/IR/OwningOpRef.h"

namespace mlir::tele {

struct CompiledStage {
  OwningOpRef<ModuleOp> module;
  /// (tokens, targets, stage_step, adam_step) -> (loss, grad_norm, lr_m, lr_v)
  func::FuncOp step;
  /// (tokens, targets) -> (loss, logits)
  func::FuncOp eval;
  /// The growth parameter maps, in the order they apply (with growth only).
  SmallVector<func::FuncOp> paramMaps;
};

struct StageCompileOptions {
  int64_t batch = 1;
  FloatType elementType;
  /// Seed of a growth's random new entries.
  int64_t seed = 0;
  /// Matrix-LR multiplier; 0 takes the plan's muP scale (what tele train
  /// runs). Tests that compare a grown model's step with the small model's
  /// set 1.
  double lrMatrixScale = 0.0;
};

/// Runs `tele-train-step-pipeline` for `stage` of `plan` in a fresh module
/// holding copies of the plan's declarations, so that stage and growth
/// symbols resolve exactly as in the plan. Reports errors as diagnostics.
FailureOr<OwningOpRef<ModuleOp>>
compileStageModule(ModuleOp plan, StageOp stage, StagePhase phase,
                   const StageCompileOptions &options,
                   StepTarget target = StepTarget::Cpu);

/// compileStageModule for the CPU, with its functions looked up.
FailureOr<CompiledStage> compileStage(ModuleOp plan, StageOp stage,
                                      StagePhase phase,
                                      const StageCompileOptions &options);

/// A module with `@eval(tokens, targets) -> (loss, logits)` of a plain model.
FailureOr<CompiledStage> compileEvalOnly(ModelOp model, int64_t batch,
                                         FloatType elementType);

/// A module with `@distances(tokens)`: per-layer residual-stream distances.
OwningOpRef<ModuleOp> buildDistanceModule(ModelOp model, int64_t batch,
                                          FloatType elementType,
                                          DistanceMetric metric);

} // namespace mlir::tele

#endif // TELE_TRAIN_STAGECOMPILER_H
