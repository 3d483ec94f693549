//===- PlanSchedule.cpp - the ordered stages of a training plan -----------===//
//
// This file implements schedulePlan: one walk over the plan's body. The
// plan's region verifier has already checked the order (a plan begins and
// ends with a stage, each growth continues from the model trained before it,
// a chain holds at most one width and one depth growth), so this walk only
// records it.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/Transforms/PlanSchedule.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::tele;

FailureOr<SmallVector<ScheduledStage>> mlir::tele::schedulePlan(ModuleOp module) {
  auto plans = llvm::to_vector(module.getOps<PlanOp>());
  if (plans.size() != 1)
    return module.emitError() << "expected exactly one tele.plan, found "
                              << plans.size();
  SmallVector<ScheduledStage> stages;
  SmallVector<Operation *> pending;
  int64_t growCount = 0;
  for (Operation &op : plans.front().getBody().front()) {
    auto stage = dyn_cast<StageOp>(op);
    if (!stage) {
      // Growth ops in a row apply together, right before the next stage.
      pending.push_back(&op);
      ++growCount;
      continue;
    }
    ScheduledStage s;
    s.stage = stage;
    s.model = module.lookupSymbol<ModelOp>(stage.getModelAttr());
    if (!s.model)
      return stage.emitOpError() << "trains " << stage.getModelAttr()
                                 << ", which is not a tele.model of the module";
    s.index = int64_t(stages.size());
    s.growthChain = std::move(pending);
    pending.clear();
    s.growIndex = s.growthChain.empty() ? -1 : growCount - 1;
    s.lrMatrixScale = lrMatrixScaleOf(stage);
    stages.push_back(std::move(s));
  }
  if (stages.empty())
    return plans.front().emitOpError() << "has no tele.stage";
  return stages;
}

FailureOr<ScheduledStage> mlir::tele::scheduledStageNamed(ModuleOp module,
                                                          StringRef name) {
  auto stages = schedulePlan(module);
  if (failed(stages))
    return failure();
  SmallVector<StringRef> names;
  for (ScheduledStage &s : *stages) {
    if (s.stage.getSymName() == name)
      return s;
    names.push_back(s.stage.getSymName());
  }
  return module.emitError() << "no stage named '" << name
                            << "' in the plan (stages: "
                            << llvm::join(names, ", ") << ")";
}

double mlir::tele::lrMatrixScaleOf(StageOp stage) {
  auto first = cast<PlanOp>(stage->getParentOp()).getBody().getOps<StageOp>().begin();
  // Models are siblings of the plan, not symbols of it.
  auto hidden = [](StageOp s) {
    auto model = SymbolTable::lookupNearestSymbolFrom<ModelOp>(
        s->getParentOp()->getParentOp(), s.getModelAttr());
    return model ? double(model.getConfig().getHidden()) : 1.0;
  };
  return hidden(*first) / hidden(stage);
}

std::optional<StagePhase> mlir::tele::parseStagePhase(StringRef name) {
  if (name == "transition")
    return StagePhase::Transition;
  if (name == "steady")
    return StagePhase::Steady;
  return std::nullopt;
}
