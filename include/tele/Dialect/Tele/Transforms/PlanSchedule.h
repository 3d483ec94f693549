//===- PlanSchedule.h - the ordered stages of a training plan ---*- C++ -*-===//
//
// This file declares the plan schedule: the one place that turns a
// `tele.plan` into the ordered stages it trains, each with the growth chain
// applied right before it. The trainer, `tele compile`, `tele bench`,
// `tele grow` and the `tele-stage-loss` pass all read a plan through it, so
// they agree on which growth a stage starts from and how its learning rate
// scales.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_TRANSFORMS_PLANSCHEDULE_H
#define TELE_DIALECT_TELE_TRANSFORMS_PLANSCHEDULE_H

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::tele {

/// Which graph of a stage: during a growth transition the MSG masks are
/// runtime scalars; afterwards (and in a stage without growth) they are gone.
enum class StagePhase { Transition, Steady };

/// One stage of a plan in training order.
struct ScheduledStage {
  StageOp stage;
  ModelOp model;
  /// Position among the plan's stages.
  int64_t index = 0;
  /// The growth ops applied right before this stage, in plan order (a chain:
  /// at most one width and one depth growth); empty for none.
  SmallVector<Operation *> growthChain;
  /// Position of the chain's last op among the plan's growth ops (-1: none).
  int64_t growIndex = -1;
  /// muP: the matrix-like learning rate is given at the first stage's width
  /// and scales by d0 / d at a stage of hidden size d.
  double lrMatrixScale = 1.0;

  bool grows() const { return !growthChain.empty(); }
  /// The last growth op of the chain (null without growth).
  Operation *lastGrowth() const {
    return growthChain.empty() ? nullptr : growthChain.back();
  }
};

/// The stages of the one `tele.plan` in `module`, in order, verified once:
/// exactly one plan, at least one stage, no growth after the last stage,
/// every growth chain valid and ending at the model its stage trains.
/// Errors are reported as diagnostics.
FailureOr<SmallVector<ScheduledStage>> schedulePlan(ModuleOp module);

/// The scheduled stage named `name`, or an error naming the stages there are.
FailureOr<ScheduledStage> scheduledStageNamed(ModuleOp module, StringRef name);

/// muP: the matrix-like learning-rate multiplier of `stage`, the first
/// stage's hidden size over this stage's (1 for the first stage).
double lrMatrixScaleOf(StageOp stage);

/// Parses a phase name (`transition` or `steady`).
std::optional<StagePhase> parseStagePhase(StringRef name);

} // namespace mlir::tele

#endif // TELE_DIALECT_TELE_TRANSFORMS_PLANSCHEDULE_H
