//===- Growth.cpp - applying growth to a training state -------------------===//
//
// This file implements the growth helpers shared by `tele train` and
// `tele grow`.
//
//===----------------------------------------------------------------------===//

#include "tele/Train/Growth.h"
#include "tele/Dialect/Tele/Transforms/ModelBuilder.h"
#include "tele/Train/StageCompiler.h"
#include "llvm/ADT/STLExtras.h"
#include <algorithm>

using namespace mlir;
using namespace mlir::tele;
using namespace mlir::tele::exec;

std::map<std::string, double> mlir::tele::growthMaskValues(Operation *grow,
                                                           int64_t t) {
  std::map<std::string, double> masks;
  if (!grow)
    return masks;
  SmallVector<Operation *> chain = growthChainEndingAt(grow);
  GrowthMasks spec = growthMasksFor(chain);
  int64_t widthT = 0, depthT = 0;
  bool sequential = false;
  for (Operation *op : chain) {
    int64_t steps = cast<GrowthOpInterface>(op).getTransitionSteps();
    if (auto width = dyn_cast<GrowWidthOp>(op)) {
      widthT = steps;
      sequential = width.getSchedule() == MaskSchedule::sequential;
    } else {
      depthT = steps;
    }
  }
  auto ramp = [&](int64_t start, int64_t T) {
    return std::clamp(double(t - start) / double(T), 0.0, 1.0);
  };
  int64_t start = 0;
  if (spec.ffnKept >= 0) {
    masks[kFfnMaskName] = ramp(start, widthT);
    if (sequential)
      start += widthT;
  }
  if (llvm::is_contained(spec.newLayers, true)) {
    for (auto [layer, isNew] : llvm::enumerate(spec.newLayers))
      if (isNew)
        masks[layerMaskName(layer)] = ramp(start, depthT);
    if (sequential)
      start += depthT;
  }
  if (spec.hiddenKept >= 0) {
    masks[kHiddenMaskName] = ramp(start, widthT);
    masks[kAttentionMaskName] = ramp(start, widthT);
  }
  return masks;
}

template <typename T>
FailureOr<std::vector<double>> mlir::tele::chooseLayersToCopy(
    ArrayRef<Operation *> chain, ModelOp before, ArrayRef<int32_t> tokens,
    int64_t batch, FloatType et, TrainingState<T> &state) {
  std::vector<double> distances;
  int64_t seqLen = before.getConfig().getSeqLen();
  for (Operation *op : chain) {
    auto depth = dyn_cast<GrowDepthOp>(op);
    if (!depth || depth.getCopyLayers())
      continue;
    auto module = buildDistanceModule(before, batch, et, depth.getMetric());
    auto fn = module->template lookupSymbol<func::FuncOp>("distances");
    auto results = execute<T>(
        fn, {HostValue<T>::fromTokens({batch, seqLen}, std::vector<int32_t>(tokens))},
        state);
    if (!results)
      return depth.emitOpError() << "choosing the layers to copy: "
                                 << llvm::toString(results.takeError());
    distances.clear();
    for (auto &r : *results)
      distances.push_back(r.scalar());
    int64_t added = depth.getTargetModel().getConfig().getLayers() -
                    depth.getSourceModel().getConfig().getLayers();
    depth.setCopyLayers(selectLayersToCopy(distances, added, depth.getSelect()));
  }
  return distances;
}

template <typename T>
LogicalResult mlir::tele::checkStateMatches(func::FuncOp fn,
                                            const TrainingState<T> &state,
                                            StringRef what, bool quiet) {
  LogicalResult result = success();
  fn.walk([&](ParamOp p) {
    if (failed(result))
      return;
    const auto *entry = state.lookup(p.getName());
    if (!entry) {
      result = failure();
      if (!quiet)
        p.emitError() << what << " lacks tensor '" << p.getName()
                      << "' that the plan's model reads";
      return;
    }
    if (ArrayRef<int64_t>(entry->shape) != p.getType().getShape()) {
      result = failure();
      if (quiet)
        return;
      std::string have, want;
      llvm::raw_string_ostream h(have), w(want);
      llvm::interleave(entry->shape, h, "x");
      llvm::interleave(p.getType().getShape(), w, "x");
      p.emitError() << what << ": tensor '" << p.getName() << "' has shape ["
                    << have << "] but the plan's model expects [" << want
                    << "]";
    }
  });
  return result;
}

namespace mlir::tele {
#define TELE_INSTANTIATE(T)                                                    \
  template FailureOr<std::vector<double>> chooseLayersToCopy<T>(               \
      ArrayRef<Operation *>, ModelOp, ArrayRef<int32_t>, int64_t, FloatType,   \
      TrainingState<T> &);                                                     \
  template LogicalResult checkStateMatches<T>(                                 \
      func::FuncOp, const TrainingState<T> &, StringRef, bool);
TELE_INSTANTIATE(float)
TELE_INSTANTIATE(double)
#undef TELE_INSTANTIATE
} // namespace mlir::tele
