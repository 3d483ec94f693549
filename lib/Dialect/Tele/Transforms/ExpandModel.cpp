//===- ExpandModel.cpp - tele-expand-model pass ---------------------------===//
//
// This file implements tele-expand-model: every tele.model becomes a
// tensor-level loss function built by ModelBuilder.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/Transforms/ModelBuilder.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"

#define DEBUG_TYPE "tele-expand-model"

namespace mlir::tele {
#define GEN_PASS_DEF_TELEEXPANDMODEL
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
struct ExpandModelPass : tele::impl::TeleExpandModelBase<ExpandModelPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder builder(module.getContext());
    FloatType et = parseElementType(module.getContext(), dtype);
    if (!et) {
      module.emitError() << "tele-expand-model: unsupported dtype '" << dtype
                         << "' (expected f32 or f64)";
      return signalPassFailure();
    }
    std::string onlyModel = modelName;
    int64_t batchSize = batch;
    if (!stageName.empty()) {
      StageOp stage;
      module.walk([&](StageOp s) {
        if (s.getSymName() == stageName)
          stage = s;
      });
      if (!stage) {
        module.emitError() << "tele-expand-model: no tele.stage named @"
                           << stageName;
        return signalPassFailure();
      }
      onlyModel = stage.getModel().str();
      batchSize = stage.getConfig().getBatch();
    }
    if (batchSize <= 0) {
      module.emitError() << "tele-expand-model: batch must be positive";
      return signalPassFailure();
    }
    bool found = false;
    for (ModelOp model : llvm::to_vector(module.getOps<ModelOp>())) {
      if (!onlyModel.empty() && model.getSymName() != onlyModel)
        continue;
      found = true;
      std::string fnName = (model.getSymName() + "_loss").str();
      if (module.lookupSymbol(fnName)) {
        model.emitError() << "tele-expand-model: symbol @" << fnName
                          << " already exists";
        return signalPassFailure();
      }
      builder.setInsertionPointToEnd(module.getBody());
      buildLossFunction(builder, model.getLoc(), fnName, model.getConfig(),
                        batchSize, et);
    }
    if (!onlyModel.empty() && !found) {
      module.emitError() << "tele-expand-model: no tele.model named @"
                         << onlyModel;
      return signalPassFailure();
    }
  }
};
} // namespace
