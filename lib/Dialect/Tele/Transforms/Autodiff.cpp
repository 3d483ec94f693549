//===- Autodiff.cpp - tele-autodiff pass ----------------------------------===//
//
// This file implements reverse-mode differentiation of tensor-level loss
// functions. The forward function is cloned into `<name>_grad`, then its ops
// are visited in reverse order; each op with a non-zero adjoint emits the
// gradient ops of its rule. Adjoints of values used several times are summed.
// The function returns the loss followed by one gradient per parameter name,
// in order of the parameter's first read (recorded in `tele.params`).
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/TypeSwitch.h"

#define DEBUG_TYPE "tele-autodiff"

namespace mlir::tele {
#define GEN_PASS_DEF_TELEAUTODIFF
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
/// The adjoints of one reverse sweep.
class ReverseSweep {
public:
  explicit ReverseSweep(ImplicitLocOpBuilder &b) : b(b) {}

  /// Adds `grad` to the adjoint of `v`.
  void accumulate(Value v, Value grad) {
    auto it = adjoints.find(v);
    if (it == adjoints.end()) {
      adjoints[v] = grad;
      return;
    }
    it->second = AddOp::create(b, v.getType(), it->second, grad);
  }
  Value adjoint(Value v) const { return adjoints.lookup(v); }

  /// Emits the gradient rule of `op` given the adjoint of its results.
  LogicalResult differentiate(Operation *op);

  /// Per parameter name, the summed gradient and a representative read.
  llvm::MapVector<StringRef, std::pair<ParamOp, Value>> paramGrads;

private:
  ImplicitLocOpBuilder &b;
  llvm::DenseMap<Value, Value> adjoints;
};
} // namespace

LogicalResult ReverseSweep::differentiate(Operation *op) {
  // Ops without any result adjoint contribute nothing.
  bool any = llvm::any_of(op->getResults(),
                          [&](Value r) { return adjoint(r) != nullptr; });
  if (auto param = dyn_cast<ParamOp>(op)) {
    if (Value g = adjoint(param)) {
      auto &entry = paramGrads[param.getName()];
      entry.first = param;
      entry.second = entry.second ? AddOp::create(b, g.getType(), entry.second, g)
                                        .getResult()
                                  : g;
    }
    return success();
  }
  if (!any)
    return success();
  Value dy = op->getNumResults() == 1 ? adjoint(op->getResult(0)) : Value();
  return llvm::TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](EmbedOp e) {
        accumulate(e.getTable(),
                   EmbedGradOp::create(b, e.getTable().getType(), dy,
                                       e.getTokens()));
        return success();
      })
      .Case([&](RMSNormOp n) {
        auto grad = RMSNormGradOp::create(
            b, TypeRange{n.getInput().getType(), n.getGain().getType()},
            n.getInput(), n.getGain(), dy, n.getMask(), /*addend=*/Value(), n.getEpsAttr());
        accumulate(n.getInput(), grad.getInputGrad());
        accumulate(n.getGain(), grad.getGainGrad());
        return success();
      })
      .Case([&](LinearOp l) {
        accumulate(l.getInput(),
                   LinearGradInputOp::create(b, l.getInput().getType(), dy,
                                             l.getWeight(), /*addend=*/Value()));
        if (l.getAddend())
          accumulate(l.getAddend(), dy);
        accumulate(l.getWeight(),
                   LinearGradWeightOp::create(b, l.getWeight().getType(), dy,
                                              l.getInput()));
        return success();
      })
      .Case([&](RopeOp r) {
        // Rotations are orthogonal: the adjoint rotates back.
        UnitAttr inverse = r.getInverse() ? UnitAttr() : b.getUnitAttr();
        accumulate(r.getInput(),
                   RopeOp::create(b, r.getType(), dy, r.getHeadDimAttr(),
                                  r.getThetaAttr(), inverse));
        return success();
      })
      .Case([&](AttentionOp a) {
        Type t = a.getQuery().getType();
        auto grad = AttentionGradOp::create(b, TypeRange{t, t, t}, a.getQuery(),
                                            a.getKey(), a.getValue(), dy,
                                            a.getHeadDimAttr());
        accumulate(a.getQuery(), grad.getQueryGrad());
        accumulate(a.getKey(), grad.getKeyGrad());
        accumulate(a.getValue(), grad.getValueGrad());
        return success();
      })
      .Case([&](SwiGLUOp s) {
        Type t = s.getGate().getType();
        auto grad = SwiGLUGradOp::create(b, TypeRange{t, t}, s.getGate(),
                                         s.getUp(), dy);
        accumulate(s.getGate(), grad.getGateGrad());
        accumulate(s.getUp(), grad.getUpGrad());
        return success();
      })
      .Case([&](AddOp a) {
        accumulate(a.getLhs(), dy);
        accumulate(a.getRhs(), dy);
        return success();
      })
      .Case([&](ScaleOp s) {
        accumulate(s.getInput(),
                   ScaleOp::create(b, s.getType(), dy, s.getFactorAttr()));
        return success();
      })
      .Case([&](MaskMulOp m) {
        // Masks are constants of the step: only the input gets a gradient.
        accumulate(m.getInput(),
                   MaskMulOp::create(b, m.getType(), dy, m.getMask()));
        return success();
      })
      .Case([&](LerpOp l) {
        Type t = l.getType();
        auto grad = LerpGradOp::create(b, TypeRange{t, t}, dy, l.getWeight());
        accumulate(l.getStart(), grad.getStartGrad());
        accumulate(l.getEnd(), grad.getEndGrad());
        return success();
      })
      .Case([&](CrossEntropyOp c) {
        accumulate(c.getLogits(),
                   CrossEntropyGradOp::create(b, c.getLogits().getType(),
                                              c.getLogits(), c.getTargets(), dy,
                                              c.getLossMask()));
        return success();
      })
      .Case<MaskValueOp, MaskVectorOp, arith::ConstantOp>(
          [](Operation *) { return success(); })
      .Default([&](Operation *other) {
        return other->emitOpError()
               << "has no gradient rule (tele-autodiff supports the "
                  "tensor-level forward ops of the tele dialect)";
      });
}

namespace {
struct AutodiffPass : tele::impl::TeleAutodiffBase<AutodiffPass> {
  using Base::Base;

  LogicalResult differentiateFunction(func::FuncOp fn);

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> targets;
    for (auto fn : module.getOps<func::FuncOp>()) {
      // Declarations have nothing to differentiate.
      if (fn.isDeclaration() && funcName.empty())
        continue;
      if (funcName.empty() ? fn.getSymName().ends_with("_loss")
                           : fn.getSymName() == funcName)
        targets.push_back(fn);
    }
    if (!funcName.empty() && targets.empty()) {
      module.emitError() << "tele-autodiff: no function named @" << funcName;
      return signalPassFailure();
    }
    for (func::FuncOp fn : targets)
      if (failed(differentiateFunction(fn)))
        return signalPassFailure();
  }
};
} // namespace

LogicalResult AutodiffPass::differentiateFunction(func::FuncOp fn) {
  if (!fn.getBody().hasOneBlock())
    return fn.emitOpError() << "tele-autodiff needs a single-block function";
  if (fn.getNumResults() != 1 ||
      !isa<RankedTensorType>(fn.getResultTypes()[0]) ||
      cast<RankedTensorType>(fn.getResultTypes()[0]).getRank() != 0)
    return fn.emitOpError()
           << "tele-autodiff needs a function returning one scalar loss";

  std::string gradName = (fn.getSymName() + "_grad").str();
  ModuleOp module = fn->getParentOfType<ModuleOp>();
  if (module.lookupSymbol(gradName))
    return fn.emitOpError() << "tele-autodiff: @" << gradName
                            << " already exists";

  OpBuilder builder(fn);
  builder.setInsertionPointAfter(fn);
  auto gradFn = cast<func::FuncOp>(builder.clone(*fn));
  gradFn.setSymName(gradName);
  Block &body = gradFn.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  Value loss = ret.getOperand(0);

  ImplicitLocOpBuilder b(ret.getLoc(), ret);
  ReverseSweep sweep(b);
  auto lossType = cast<RankedTensorType>(loss.getType());
  auto one = arith::ConstantOp::create(
      b, DenseElementsAttr::get(lossType, b.getFloatAttr(lossType.getElementType(), 1.0)));
  sweep.accumulate(loss, one);

  SmallVector<Operation *> forward;
  for (Operation &op : body.without_terminator())
    if (&op != one.getOperation())
      forward.push_back(&op);
  for (Operation *op : llvm::reverse(forward)) {
    if (failed(sweep.differentiate(op)))
      return failure();
  }

  // Results: loss, then one gradient per parameter in order of first read.
  SmallVector<Value> results{loss};
  SmallVector<Attribute> names;
  llvm::DenseSet<StringRef> seen;
  for (auto param : body.getOps<ParamOp>()) {
    if (!seen.insert(param.getName()).second)
      continue;
    names.push_back(param.getNameAttr());
    auto it = sweep.paramGrads.find(param.getName());
    if (it != sweep.paramGrads.end()) {
      results.push_back(it->second.second);
      continue;
    }
    // A parameter that does not influence the loss has a zero gradient.
    auto ty = param.getType();
    results.push_back(arith::ConstantOp::create(
        b, DenseElementsAttr::get(ty, b.getFloatAttr(ty.getElementType(), 0.0))));
  }
  ret->setOperands(results);
  SmallVector<Type> resultTypes;
  for (Value v : results)
    resultTypes.push_back(v.getType());
  gradFn.setFunctionType(
      b.getFunctionType(gradFn.getArgumentTypes(), resultTypes));
  gradFn->setAttr("tele.params", b.getArrayAttr(names));
  return success();
}
