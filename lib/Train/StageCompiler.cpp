//===- StageCompiler.cpp - compile the functions of one stage -------------===//
//
// This file runs the tele pass pipeline for one stage of a plan in a fresh
// module holding copies of the plan's models and plan op, so that stage and
// growth symbols resolve exactly as in the plan.
//
//===----------------------------------------------------------------------===//

#include "tele/Train/StageCompiler.h"
#include "tele/Dialect/Tele/Transforms/ModelBuilder.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::tele;

namespace {
/// A new module with clones of every model and plan of `plan`.
OwningOpRef<ModuleOp> cloneDeclarations(ModuleOp plan) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(plan.getLoc());
  OpBuilder b(module->getBody(), module->getBody()->end());
  for (Operation &op : plan.getBody()->getOperations())
    if (isa<ModelOp, PlanOp>(op))
      b.clone(op);
  return module;
}

std::string dtypeName(FloatType t) { return t.isF64() ? "f64" : "f32"; }
} // namespace

FailureOr<CompiledStage>
mlir::tele::compileStage(ModuleOp plan, StageOp stage, Operation *grow,
                         int64_t growIndex, MaskMode mode,
                         const StageCompileOptions &options) {
  CompiledStage out;
  out.module = cloneDeclarations(plan);
  MLIRContext *ctx = plan.getContext();
  std::string model = stage.getModel().str();

  PassManager pm(ctx);
  if (mode == MaskMode::None) {
    TeleExpandModelOptions expand;
    expand.modelName = model;
    expand.batch = options.batch;
    expand.dtype = dtypeName(options.elementType);
    pm.addPass(createTeleExpandModel(expand));
  } else {
    TeleLowerGrowthOptions lower;
    lower.growIndex = growIndex;
    lower.batch = options.batch;
    lower.dtype = dtypeName(options.elementType);
    lower.seed = options.seed;
    pm.addPass(createTeleLowerGrowth(lower));
    if (mode == MaskMode::Folded)
      pm.addPass(createTeleFoldMasks());
  }
  TeleAutodiffOptions autodiff;
  autodiff.funcName = model + "_loss";
  pm.addPass(createTeleAutodiff(autodiff));
  TeleOptimizerOptions optimizer;
  optimizer.stageName = stage.getSymName().str();
  optimizer.lrMatrixScale = options.lrMatrixScale;
  pm.addPass(createTeleOptimizer(optimizer));
  pm.addPass(createCSEPass());
  if (failed(pm.run(*out.module)))
    return failure();

  out.step = out.module->lookupSymbol<func::FuncOp>(model + "_step");
  // Evaluation uses the same masks as the step, plus the logits.
  ModelOp target = out.module->lookupSymbol<ModelOp>(model);
  GrowthMasks masks;
  if (mode == MaskMode::Masked && grow) {
    Operation *cloned = nullptr;
    int64_t i = 0;
    out.module->walk([&](Operation *op) {
      if (isa<GrowWidthOp, GrowDepthOp>(op) && i++ == growIndex)
        cloned = op;
    });
    masks = growthMasksFor(growthChainEndingAt(cloned));
  }
  OpBuilder b(out.module->getBody(), out.module->getBody()->end());
  out.eval = buildLossFunction(b, stage.getLoc(), "eval", target.getConfig(),
                               options.batch, options.elementType, masks,
                               /*returnLogits=*/true);
  // lower-growth emits the chain's maps in plan order.
  if (grow)
    for (auto fn : out.module->getOps<func::FuncOp>())
      if (fn->hasAttr(kParamMapAttrName))
        out.paramMaps.push_back(fn);
  return out;
}

FailureOr<CompiledStage> mlir::tele::compileEvalOnly(ModelOp model,
                                                     int64_t batch,
                                                     FloatType elementType) {
  CompiledStage out;
  out.module = ModuleOp::create(model.getLoc());
  OpBuilder b(out.module->getBody(), out.module->getBody()->end());
  out.eval = buildLossFunction(b, model.getLoc(), "eval", model.getConfig(),
                               batch, elementType, {}, /*returnLogits=*/true);
  return out;
}

OwningOpRef<ModuleOp> mlir::tele::buildDistanceModule(ModelOp model,
                                                      int64_t batch,
                                                      FloatType elementType,
                                                      DistanceMetric metric) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(model.getLoc());
  OpBuilder b(module->getBody(), module->getBody()->end());
  buildLayerDistanceFunction(b, model.getLoc(), "distances", model.getConfig(),
                             batch, elementType, metric);
  return module;
}
