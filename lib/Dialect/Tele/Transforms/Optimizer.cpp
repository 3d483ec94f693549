//===- Optimizer.cpp - tele-optimizer pass --------------------------------===//
//
// This file implements tele-optimizer: from a `<name>_grad` function it
// builds `<name>_step`, one full AdamW training step. Matrix-like parameters
// (group = matrix) get the matrix learning rate and weight decay;
// vector-like parameters get the vector learning rate and no decay. All
// gradients are scaled by the global-norm clip factor first.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "tele/Dialect/Tele/Transforms/PlanSchedule.h"
#include "tele/Dialect/Tele/IR/TeleOps.h"

#define DEBUG_TYPE "tele-optimizer"

namespace mlir::tele {
#define GEN_PASS_DEF_TELEOPTIMIZER
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
struct OptimizerPass : tele::impl::TeleOptimizerBase<OptimizerPass> {
  using Base::Base;

  /// The stage config to use: the named stage's, or one built from options.
  FailureOr<StageConfigAttr> resolveStage(ModuleOp module, StringRef &model);
  LogicalResult buildStep(func::FuncOp gradFn, StageConfigAttr stage);

  void runOnOperation() override {
    ModuleOp module = getOperation();
    StringRef model;
    FailureOr<StageConfigAttr> stage = resolveStage(module, model);
    if (failed(stage))
      return signalPassFailure();
    SmallVector<func::FuncOp> targets;
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (!fn->hasAttr("tele.params"))
        continue;
      if (!model.empty() && fn.getSymName() != (model + "_loss_grad").str())
        continue;
      targets.push_back(fn);
    }
    if (targets.empty()) {
      module.emitError() << "tele-optimizer: no gradient function found (run "
                            "tele-autodiff first)";
      return signalPassFailure();
    }
    for (func::FuncOp fn : targets)
      if (failed(buildStep(fn, *stage)))
        return signalPassFailure();
  }
};
} // namespace

FailureOr<StageConfigAttr> OptimizerPass::resolveStage(ModuleOp module,
                                                       StringRef &model) {
  MLIRContext *ctx = module.getContext();
  if (stageName.empty()) {
    if (lrMatrixScale <= 0)
      lrMatrixScale = 1.0;
    auto diag = [&]() { return module.emitError() << "tele-optimizer: "; };
    auto f = [](double v) { return llvm::APFloat(v); };
    if (failed(StageConfigAttr::verifyInvariants(
            diag, steps, /*batch=*/1, f(lrMatrix), f(lrVector), f(0.0), f(0.0),
            warmup, DecayKind::cosine, f(0.1), f(1.0), f(0.9), f(0.95),
            f(1e-8))))
      return failure();
    return StageConfigAttr::get(ctx, steps, /*batch=*/1, f(lrMatrix),
                                f(lrVector), f(0.0), f(0.0), warmup,
                                DecayKind::cosine, f(0.1), f(1.0), f(0.9),
                                f(0.95), f(1e-8));
  }
  StageOp found;
  module.walk([&](StageOp stage) {
    if (stage.getSymName() == stageName)
      found = stage;
  });
  if (!found) {
    module.emitError() << "tele-optimizer: no tele.stage named @" << stageName;
    return failure();
  }
  model = found.getModel();
  if (lrMatrixScale <= 0)
    lrMatrixScale = lrMatrixScaleOf(found);
  return found.getConfig();
}

LogicalResult OptimizerPass::buildStep(func::FuncOp gradFn,
                                       StageConfigAttr stage) {
  StringRef base = gradFn.getSymName();
  base.consume_back("_loss_grad");
  std::string stepName = (base + "_step").str();
  ModuleOp module = gradFn->getParentOfType<ModuleOp>();
  if (module.lookupSymbol(stepName))
    return gradFn.emitOpError() << "tele-optimizer: @" << stepName
                                << " already exists";
  // The step needs a body, a scalar loss first and at least one gradient
  // (tele.global_norm of none is invalid).
  FunctionType gradType = gradFn.getFunctionType();
  auto lossType = gradType.getNumResults()
                      ? dyn_cast<RankedTensorType>(gradType.getResult(0))
                      : RankedTensorType();
  if (gradFn.isExternal() || !lossType || lossType.getRank() != 0)
    return gradFn.emitOpError()
           << "tele-optimizer: expected a body returning the scalar loss "
              "first";
  if (gradType.getNumResults() < 2)
    return gradFn.emitOpError()
           << "tele-optimizer: no gradients to apply (the loss reads no "
              "tele.param)";

  OpBuilder builder(gradFn);
  builder.setInsertionPointAfter(gradFn);
  auto stepFn = cast<func::FuncOp>(builder.clone(*gradFn));
  stepFn.setSymName(stepName);
  Block &body = stepFn.getBody().front();
  auto stepType = RankedTensorType::get({}, builder.getI64Type());
  Value stageStep = body.addArgument(stepType, gradFn.getLoc());
  Value adamStep = body.addArgument(stepType, gradFn.getLoc());

  auto ret = cast<func::ReturnOp>(body.getTerminator());
  ImplicitLocOpBuilder b(ret.getLoc(), ret);
  Value loss = ret.getOperand(0);
  auto scalarType = cast<RankedTensorType>(loss.getType());
  SmallVector<Value> grads(ret.getOperands().drop_front());

  // First read of every parameter, in the order of the gradients.
  llvm::StringMap<ParamOp> reads;
  for (auto p : body.getOps<ParamOp>())
    reads.try_emplace(p.getName(), p);
  auto names = gradFn->getAttrOfType<ArrayAttr>("tele.params");
  if (!names || names.size() != grads.size())
    return gradFn.emitOpError()
           << "tele.params does not match the gradient results";

  auto f64 = [&](const llvm::APFloat &v) {
    return b.getF64FloatAttr(v.convertToDouble());
  };
  Value norm = GlobalNormOp::create(b, scalarType, grads);
  Value clip = ClipScaleOp::create(b, scalarType, norm, f64(stage.getClip()));
  auto schedule = [&](llvm::APFloat peak, llvm::APFloat min) {
    return LRScheduleOp::create(
        b, scalarType, stageStep, f64(peak), f64(min),
        b.getI64IntegerAttr(stage.getWarmup()),
        b.getI64IntegerAttr(stage.getSteps()),
        DecayKindAttr::get(b.getContext(), stage.getDecay()));
  };
  auto scaled = [&](const llvm::APFloat &v) {
    return llvm::APFloat(v.convertToDouble() * lrMatrixScale);
  };
  Value lrMatrix =
      schedule(scaled(stage.getLrMatrix()), scaled(stage.getMinLrMatrix()));
  Value lrVector = schedule(stage.getLrVector(), stage.getMinLrVector());

  for (auto [nameAttr, grad] : llvm::zip(names, grads)) {
    StringRef name = cast<StringAttr>(nameAttr).getValue();
    ParamOp read = reads.lookup(name);
    if (!read)
      return gradFn.emitOpError() << "no tele.param read of '" << name << "'";
    bool matrix = read.getGroup() == ParamGroup::matrix;
    auto moment = [&](StringRef prefix) {
      return ParamOp::create(
          b, read.getType(), b.getStringAttr((prefix + name).str()),
          ParamGroupAttr::get(b.getContext(), read.getGroup()),
          ParamInitAttr::get(b.getContext(), ParamInit::zeros));
    };
    Value m = moment("optim.m."), v = moment("optim.v.");
    double wd = matrix ? stage.getWeightDecay().convertToDouble() : 0.0;
    auto update = AdamWOp::create(
        b, TypeRange{read.getType(), read.getType(), read.getType()}, read,
        grad, m, v, matrix ? lrMatrix : lrVector, clip, adamStep,
        f64(stage.getBeta1()), f64(stage.getBeta2()), f64(stage.getAdamEps()),
        b.getF64FloatAttr(wd));
    AssignOp::create(b, read.getNameAttr(), update.getNewParam());
    AssignOp::create(b, b.getStringAttr(("optim.m." + name).str()),
                     update.getNewMoment1());
    AssignOp::create(b, b.getStringAttr(("optim.v." + name).str()),
                     update.getNewMoment2());
  }
  ret->setOperands({loss, norm, lrMatrix, lrVector});
  stepFn.setFunctionType(b.getFunctionType(
      body.getArgumentTypes(),
      TypeRange{scalarType, scalarType, scalarType, scalarType}));
  return success();
}
