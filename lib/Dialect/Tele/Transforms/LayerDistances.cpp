//===- LayerDistances.cpp - tele-layer-distances pass ---------------------===//
//
// This file implements tele-layer-distances: per-model functions measuring
// how much each layer changes the residual stream, which depth growth uses to
// choose the layers to copy.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/Transforms/ModelBuilder.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"

#define DEBUG_TYPE "tele-layer-distances"

namespace mlir::tele {
#define GEN_PASS_DEF_TELELAYERDISTANCES
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
struct LayerDistancesPass
    : tele::impl::TeleLayerDistancesBase<LayerDistancesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FloatType et = parseElementType(module.getContext(), dtype);
    std::optional<DistanceMetric> kind = symbolizeDistanceMetric(metric);
    if (!et || !kind || batch <= 0) {
      module.emitError() << "tele-layer-distances: bad options (dtype '"
                         << dtype << "', metric '" << metric << "', batch "
                         << int64_t(batch) << ")";
      return signalPassFailure();
    }
    OpBuilder builder(module.getContext());
    bool found = false;
    for (ModelOp model : llvm::to_vector(module.getOps<ModelOp>())) {
      if (!modelName.empty() && model.getSymName() != modelName)
        continue;
      found = true;
      std::string name = (model.getSymName() + "_layer_distances").str();
      if (module.lookupSymbol(name)) {
        model.emitError() << "tele-layer-distances: @" << name
                          << " already exists";
        return signalPassFailure();
      }
      builder.setInsertionPointToEnd(module.getBody());
      buildLayerDistanceFunction(builder, model.getLoc(), name,
                                 model.getConfig(), batch, et, *kind);
    }
    if (!modelName.empty() && !found) {
      module.emitError() << "tele-layer-distances: no tele.model named @"
                         << modelName;
      return signalPassFailure();
    }
  }
};
} // namespace
