//===- StageLoss.cpp - tele-stage-loss pass -------------------------------===//
//
// This file implements tele-stage-loss: it reads the plan through its
// schedule and builds the loss a stage trains by running, on the module, the
// pass that makes it (tele-expand-model, or tele-lower-growth followed in the
// steady phase by tele-fold-masks), then adds the stage's @eval. It decides;
// the passes it runs do the building.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "tele/Dialect/Tele/Transforms/ModelBuilder.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "tele/Dialect/Tele/Transforms/PlanSchedule.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"

#define DEBUG_TYPE "tele-stage-loss"

namespace mlir::tele {
#define GEN_PASS_DEF_TELESTAGELOSS
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
/// Without a calibration batch, a depth growth copies the first layers.
void defaultCopyLayers(ArrayRef<Operation *> chain) {
  for (Operation *op : chain) {
    auto depth = dyn_cast<GrowDepthOp>(op);
    if (!depth || depth.getCopyLayers())
      continue;
    int64_t layers = depth.getSourceModel().getConfig().getLayers();
    int64_t added = depth.getTargetModel().getConfig().getLayers() - layers;
    SmallVector<double> equal(layers, 0.0);
    depth.setCopyLayers(selectLayersToCopy(equal, added, depth.getSelect()));
  }
}

struct StageLossPass : tele::impl::TeleStageLossBase<StageLossPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto fail = [&]() -> InFlightDiagnostic {
      return module.emitError() << "tele-stage-loss: ";
    };
    if (stageName.empty()) {
      fail() << "needs stage=<name>";
      return signalPassFailure();
    }
    std::optional<StagePhase> stagePhase = parseStagePhase(phase);
    if (!stagePhase) {
      fail() << "unknown phase '" << phase << "' (expected transition or steady)";
      return signalPassFailure();
    }
    FloatType et = parseElementType(module.getContext(), dtype);
    if (!et) {
      fail() << "unsupported dtype '" << dtype << "' (expected f32 or f64)";
      return signalPassFailure();
    }
    FailureOr<ScheduledStage> stage = scheduledStageNamed(module, stageName);
    if (failed(stage))
      return signalPassFailure();
    if (!stage->grows() && *stagePhase == StagePhase::Transition) {
      fail() << "stage '" << stageName
             << "' has no growth before it, so no transition phase";
      return signalPassFailure();
    }
    int64_t rows = batch > 0 ? int64_t(batch) : stage->stage.getConfig().getBatch();

    OpPassManager build(ModuleOp::getOperationName());
    if (!stage->grows()) {
      TeleExpandModelOptions expand;
      expand.modelName = stage->model.getSymName().str();
      expand.batch = rows;
      expand.dtype = dtype;
      build.addPass(createTeleExpandModel(expand));
    } else {
      defaultCopyLayers(stage->growthChain);
      TeleLowerGrowthOptions lower;
      lower.growIndex = stage->growIndex;
      lower.batch = rows;
      lower.dtype = dtype;
      lower.seed = seed;
      build.addPass(createTeleLowerGrowth(lower));
      if (*stagePhase == StagePhase::Steady)
        build.addPass(createTeleFoldMasks());
    }
    if (failed(runPipeline(build, module)))
      return signalPassFailure();

    if (!eval)
      return;
    if (module.lookupSymbol("eval")) {
      fail() << "symbol @eval already exists";
      return signalPassFailure();
    }
    // Evaluation sees the graph the step trains: masked during the
    // transition, plain otherwise.
    GrowthMasks masks;
    if (*stagePhase == StagePhase::Transition)
      masks = growthMasksFor(stage->growthChain);
    OpBuilder b(module.getBody(), module.getBody()->end());
    buildLossFunction(b, stage->stage.getLoc(), "eval",
                      stage->model.getConfig(), rows, et, masks,
                      /*returnLogits=*/true);
  }
};
} // namespace
