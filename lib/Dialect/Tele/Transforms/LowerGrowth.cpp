//===- LowerGrowth.cpp - tele-lower-growth pass ---------------------------===//
//
// This file lowers MSG growth ops (docs/growth.md section 3) into a
// parameter-map function and the masked loss graph of the grown model. The
// parameter map reads every source tensor before it assigns any target
// tensor, so depth growth may renumber layers in place.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/Transforms/ModelBuilder.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"

#define DEBUG_TYPE "tele-lower-growth"

namespace mlir::tele {
#define GEN_PASS_DEF_TELELOWERGROWTH
#include "tele/Dialect/Tele/Transforms/Passes.h.inc"
} // namespace mlir::tele

using namespace mlir;
using namespace mlir::tele;

namespace {
/// A seed per tensor: FNV-1a of the name mixed with the pass seed. Unlike
/// llvm::hash_combine it is the same in every build, so a growth (and a
/// resumed run that repeats it) draws the same new entries anywhere.
int64_t tensorSeed(int64_t seed, StringRef name) {
  uint64_t h = 1469598103934665603ULL ^ uint64_t(seed);
  for (unsigned char c : name.bytes()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return int64_t(h & 0x7fffffffffffffffULL);
}

/// Shape and role of one parameter of a model.
struct ParamSpec {
  std::string name;
  SmallVector<int64_t> shape;
  GrowFill newEntries; // how entries added by width growth are filled
};

/// The parameters of `cfg` in the order the model reads them.
SmallVector<ParamSpec> modelParams(ModelConfigAttr cfg) {
  int64_t V = cfg.getVocab(), d = cfg.getHidden(), f = cfg.getFfn();
  SmallVector<ParamSpec> params;
  params.push_back({"model.embed_tokens.weight", {V, d}, GrowFill::normal});
  for (int64_t l = 0; l < cfg.getLayers(); ++l) {
    auto n = [&](StringRef s) { return layerParamName(l, s); };
    params.push_back({n("input_layernorm.weight"), {d}, GrowFill::ones});
    for (StringRef p : {"q_proj", "k_proj", "v_proj", "o_proj"})
      params.push_back({n(("self_attn." + p + ".weight").str()), {d, d},
                        GrowFill::normal});
    params.push_back({n("post_attention_layernorm.weight"), {d}, GrowFill::ones});
    params.push_back({n("mlp.gate_proj.weight"), {f, d}, GrowFill::normal});
    params.push_back({n("mlp.up_proj.weight"), {f, d}, GrowFill::normal});
    params.push_back({n("mlp.down_proj.weight"), {d, f}, GrowFill::normal});
  }
  params.push_back({"model.norm.weight", {d}, GrowFill::ones});
  params.push_back({"lm_head.weight", {V, d}, GrowFill::normal});
  return params;
}

/// Emits the body of a parameter map: reads of all sources first, then the
/// computed targets are assigned.
class ParamMapEmitter {
public:
  ParamMapEmitter(ImplicitLocOpBuilder &b, FloatType et, int64_t seed,
                  double std)
      : b(b), et(et), seed(seed), std(std) {}

  Value read(StringRef name, ArrayRef<int64_t> shape, ParamGroup group) {
    return ParamOp::create(b, RankedTensorType::get(shape, et),
                           b.getStringAttr(name),
                           ParamGroupAttr::get(b.getContext(), group),
                           ParamInitAttr::get(b.getContext(), ParamInit::zeros));
  }
  Value pad(Value v, ArrayRef<int64_t> shape, GrowFill fill, StringRef name) {
    if (cast<RankedTensorType>(v.getType()).getShape() == shape)
      return v;
    // A seed per tensor name: the result does not depend on emission order.
    return GrowPadOp::create(b, RankedTensorType::get(shape, et), v,
                             GrowFillAttr::get(b.getContext(), fill),
                             b.getF64FloatAttr(std),
                             b.getI64IntegerAttr(tensorSeed(seed, name)));
  }
  Value fill(Value v, GrowFill kind, StringRef name) {
    return GrowFillOp::create(b, v.getType(), v,
                              GrowFillAttr::get(b.getContext(), kind),
                              b.getF64FloatAttr(std),
                              b.getI64IntegerAttr(tensorSeed(seed, name)));
  }
  void assignLater(StringRef name, Value v) {
    pending.emplace_back(name.str(), v);
  }
  void flush() {
    for (auto &[name, v] : pending)
      AssignOp::create(b, b.getStringAttr(name), v);
    pending.clear();
  }

private:
  ImplicitLocOpBuilder &b;
  FloatType et;
  int64_t seed;
  double std;
  SmallVector<std::pair<std::string, Value>> pending;
};

ParamGroup groupOf(const ParamSpec &p) {
  return p.shape.size() == 2 && p.name != "model.embed_tokens.weight"
             ? ParamGroup::matrix
             : ParamGroup::vector;
}

/// Width growth: every tensor of the source padded to the target's shape.
void emitWidthMap(ParamMapEmitter &e, ModelConfigAttr from, ModelConfigAttr to,
                  bool moments, SecondMomentInit vInit) {
  auto oldParams = modelParams(from), newParams = modelParams(to);
  for (auto [o, n] : llvm::zip(oldParams, newParams)) {
    ParamGroup group = groupOf(o);
    e.assignLater(n.name, e.pad(e.read(o.name, o.shape, group), n.shape,
                                n.newEntries, n.name));
    if (!moments)
      continue;
    std::string m = "optim.m." + o.name, v = "optim.v." + o.name;
    e.assignLater(m, e.pad(e.read(m, o.shape, group), n.shape, GrowFill::zeros, m));
    e.assignLater(v, e.pad(e.read(v, o.shape, group), n.shape,
                           vInit == SecondMomentInit::mean ? GrowFill::mean
                                                           : GrowFill::zeros,
                           v));
  }
}

/// Depth growth: the grown stack is [L0, copies of L0, L1, copies of L1, ...].
void emitDepthMap(ParamMapEmitter &e, ModelConfigAttr from,
                  ArrayRef<int64_t> copyLayers, bool moments,
                  SecondMomentInit vInit) {
  auto params = modelParams(from);
  // Layer-independent tensors (embedding, final norm, LM head) keep their
  // names and values; only layers are renumbered and copied.
  int64_t perLayer = (int64_t)(params.size() - 3) / from.getLayers();
  auto layerParams = [&](int64_t l) {
    return ArrayRef<ParamSpec>(params).slice(1 + l * perLayer, perLayer);
  };
  auto suffixOf = [&](const ParamSpec &p, int64_t l) {
    return StringRef(p.name).drop_front(layerParamName(l, "").size());
  };
  int64_t target = 0;
  for (int64_t l = 0; l < from.getLayers(); ++l) {
    int64_t copies = llvm::count(copyLayers, l);
    for (int64_t c = 0; c <= copies; ++c, ++target) {
      for (const ParamSpec &p : layerParams(l)) {
        ParamGroup group = groupOf(p);
        std::string newName = layerParamName(target, suffixOf(p, l));
        e.assignLater(newName, e.read(p.name, p.shape, group));
        if (!moments)
          continue;
        Value m = e.read("optim.m." + p.name, p.shape, group);
        Value v = e.read("optim.v." + p.name, p.shape, group);
        if (c > 0) {
          // A new layer starts with fresh moments, like any new entry.
          m = e.fill(m, GrowFill::zeros, "optim.m." + newName);
          v = e.fill(v, vInit == SecondMomentInit::mean ? GrowFill::mean
                                                        : GrowFill::zeros,
                     "optim.v." + newName);
        }
        e.assignLater("optim.m." + newName, m);
        e.assignLater("optim.v." + newName, v);
      }
    }
  }
}
} // namespace

namespace {
struct LowerGrowthPass : tele::impl::TeleLowerGrowthBase<LowerGrowthPass> {
  using Base::Base;

  /// Emits the parameter map of `grow` and, with `emitLoss`, the masked
  /// loss of its target with the masks of the chain `grow` ends.
  LogicalResult lower(Operation *grow, ModuleOp module, FloatType et,
                      bool emitLoss);

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FloatType et = parseElementType(module.getContext(), dtype);
    if (!et) {
      module.emitError() << "tele-lower-growth: unsupported dtype '" << dtype
                         << "' (expected f32 or f64)";
      return signalPassFailure();
    }
    if (batch <= 0) {
      module.emitError() << "tele-lower-growth: batch must be positive, got "
                         << int64_t(batch);
      return signalPassFailure();
    }
    SmallVector<Operation *> grows;
    module.walk([&](Operation *op) {
      if (isa<GrowthOpInterface>(op))
        grows.push_back(op);
    });
    if (growIndex >= (int64_t)grows.size()) {
      module.emitError() << "tele-lower-growth: index " << int64_t(growIndex)
                         << " but the module has " << grows.size()
                         << " growth ops";
      return signalPassFailure();
    }
    for (auto [i, grow] : llvm::enumerate(grows)) {
      if (growIndex >= 0 && (int64_t)i != growIndex)
        continue;
      SmallVector<Operation *> chain = growthChainEndingAt(grow);
      if (failed(verifyGrowthChain(chain)))
        return signalPassFailure();
      // With an index, the chain's earlier maps come along: applying the
      // growth at that point of the plan needs all of them.
      if (growIndex >= 0)
        for (Operation *earlier : ArrayRef(chain).drop_back())
          if (failed(lower(earlier, module, et, /*emitLoss=*/false)))
            return signalPassFailure();
      if (failed(lower(grow, module, et, /*emitLoss=*/true)))
        return signalPassFailure();
    }
  }
};
} // namespace

LogicalResult LowerGrowthPass::lower(Operation *grow, ModuleOp module,
                                     FloatType et, bool emitLoss) {
  auto width = dyn_cast<GrowWidthOp>(grow);
  auto depth = dyn_cast<GrowDepthOp>(grow);
  ModelOp source = cast<GrowthOpInterface>(grow).getSourceModel();
  ModelOp target = cast<GrowthOpInterface>(grow).getTargetModel();
  ModelConfigAttr from = source.getConfig(), to = target.getConfig();
  if (depth && !depth.getCopyLayers())
    return depth.emitOpError()
           << "needs copy_layers to be lowered (tele train chooses them from "
              "a calibration batch; tele-opt users set them explicitly)";

  std::string mapName =
      ("grow_" + source.getSymName() + "_to_" + target.getSymName()).str();
  std::string lossName = (target.getSymName() + "_loss").str();
  for (StringRef name : {StringRef(mapName), StringRef(lossName)})
    if ((emitLoss || name == mapName) && module.lookupSymbol(name))
      return grow->emitOpError() << "tele-lower-growth: symbol @" << name
                                 << " already exists";

  OpBuilder builder(module.getContext());
  builder.setInsertionPointToEnd(module.getBody());
  Location loc = grow->getLoc();

  // The parameter map.
  auto mapFn = func::FuncOp::create(builder, loc, mapName,
                                    builder.getFunctionType({}, {}));
  mapFn->setAttr(kModelConfigAttrName, to);
  mapFn->setAttr(kParamMapAttrName, builder.getUnitAttr());
  Block *entry = mapFn.addEntryBlock();
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(entry);
    ImplicitLocOpBuilder b(loc, builder);
    double std = width ? width.getInitStd().convertToDouble()
                       : from.getInitStdValue();
    ParamMapEmitter emitter(b, et, seed, std);
    if (width)
      emitWidthMap(emitter, from, to, moments, width.getMomentInit());
    else
      emitDepthMap(emitter, from, *depth.getCopyLayers(), moments,
                   depth.getMomentInit());
    emitter.flush();
    func::ReturnOp::create(b);
  }

  // The masked loss of the grown model.
  if (!emitLoss)
    return success();
  GrowthMasks masks = growthMasksFor(growthChainEndingAt(grow));
  builder.setInsertionPointToEnd(module.getBody());
  buildLossFunction(builder, loc, lossName, to, batch, et, masks);
  return success();
}
