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
#include "mlir/IR/OwningOpRef.h"

namespace mlir::tele {

/// How a stage's graph treats growth masks.
enum class MaskMode {
  None,   ///< Plain model (first stage, or no growth before it).
  Masked, ///< MSG masks read as runtime scalars (during the transition).
  Folded, ///< Grown model after the transition, masks folded away.
};

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
  double lrMatrixScale = 1.0;
  int64_t seed = 0;
};

/// Compiles `stage` of `plan`. `grow` is the growth op right before the
/// stage (null for none), the last of its chain; its position among the
/// plan's growth ops is `growIndex`. Reports errors as diagnostics.
FailureOr<CompiledStage> compileStage(ModuleOp plan, StageOp stage,
                                      Operation *grow, int64_t growIndex,
                                      MaskMode mode,
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
