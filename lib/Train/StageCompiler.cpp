//===- StageCompiler.cpp - compile the functions of one stage -------------===//
//
// This file runs the registered training-step pipeline (passes/) for one
// stage of a plan in a fresh module holding copies of the plan's models and
// plan op, so that stage and growth symbols resolve exactly as in the plan.
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

FailureOr<OwningOpRef<ModuleOp>>
mlir::tele::compileStageModule(ModuleOp plan, StageOp stage, StagePhase phase,
                               const StageCompileOptions &options,
                               StepTarget target) {
  OwningOpRef<ModuleOp> module = cloneDeclarations(plan);
  TrainStepPipelineOptions pipeline;
  pipeline.target = target;
  pipeline.stage = stage.getSymName().str();
  pipeline.phase = phase == StagePhase::Transition ? "transition" : "steady";
  pipeline.batch = options.batch;
  pipeline.dtype = dtypeName(options.elementType);
  pipeline.seed = options.seed;
  pipeline.lrMatrixScale = options.lrMatrixScale;
  PassManager pm(plan.getContext());
  buildTrainStepPipeline(pm, pipeline);
  if (failed(pm.run(*module)))
    return failure();
  return module;
}

FailureOr<CompiledStage>
mlir::tele::compileStage(ModuleOp plan, StageOp stage, StagePhase phase,
                         const StageCompileOptions &options) {
  auto module = compileStageModule(plan, stage, phase, options);
  if (failed(module))
    return failure();
  CompiledStage out;
  out.module = std::move(*module);
  std::string model = stage.getModel().str();
  out.step = out.module->lookupSymbol<func::FuncOp>(model + "_step");
  out.eval = out.module->lookupSymbol<func::FuncOp>("eval");
  // lower-growth emits the chain's maps in plan order.
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
