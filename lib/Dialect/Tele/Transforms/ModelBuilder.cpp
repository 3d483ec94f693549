//===- ModelBuilder.cpp - build tensor-level model graphs -----------------===//
//
// This file builds the forward graph of a Llama-style decoder as tele
// tensor-level ops. With growth masks it builds the MSG-masked graph of a
// grown model: at mask value 0 it computes exactly the small model's function.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/Transforms/ModelBuilder.h"
#include "llvm/ADT/Twine.h"

using namespace mlir;
using namespace mlir::tele;

std::string mlir::tele::layerMaskName(int64_t layer) {
  return ("mask.layer." + Twine(layer)).str();
}

std::string mlir::tele::layerParamName(int64_t layer, StringRef suffix) {
  return ("model.layers." + Twine(layer) + "." + suffix).str();
}

namespace {
/// Emits the ops of one model; keeps the shared types and mask vectors.
class GraphEmitter {
public:
  GraphEmitter(ImplicitLocOpBuilder &b, ModelConfigAttr config, int64_t batch,
               FloatType et, const GrowthMasks &masks)
      : b(b), cfg(config), batch(batch), et(et), masks(masks) {}

  /// Creates the mask vectors of the grown dimensions (once, up front).
  void emitMasks();
  /// Embedding lookup, masked by the hidden mask.
  Value emitEmbedding(Value tokens);
  /// One decoder layer on the residual stream `x`.
  Value emitLayer(int64_t layer, Value x);
  /// Final norm, LM head and alpha_out: the logits.
  Value emitLogits(Value x);
  /// Mean cross-entropy of the logits.
  Value emitLoss(Value logits, Value targets);

private:
  RankedTensorType activation(int64_t features) {
    return RankedTensorType::get({batch, cfg.getSeqLen(), features}, et);
  }
  Value param(StringRef name, ArrayRef<int64_t> shape, ParamGroup group,
              ParamInit init) {
    return ParamOp::create(b, RankedTensorType::get(shape, et),
                           b.getStringAttr(name),
                           ParamGroupAttr::get(b.getContext(), group),
                           ParamInitAttr::get(b.getContext(), init));
  }
  Value matrix(StringRef name, int64_t out, int64_t in) {
    return param(name, {out, in}, ParamGroup::matrix, ParamInit::normal);
  }
  Value gain(StringRef name) {
    return param(name, {cfg.getHidden()}, ParamGroup::vector, ParamInit::ones);
  }
  Value linear(Value x, Value w) {
    auto wt = cast<RankedTensorType>(w.getType());
    return LinearOp::create(b, activation(wt.getDimSize(0)), x, w, /*addend=*/Value());
  }
  Value maskVector(StringRef name, int64_t kept, int64_t size) {
    Value c = MaskValueOp::create(b, RankedTensorType::get({}, et),
                                  b.getStringAttr(name));
    return MaskVectorOp::create(b, RankedTensorType::get({size}, et), c,
                                b.getI64IntegerAttr(kept));
  }
  /// Multiplies by the mask vector if the dimension grew.
  Value applyMask(Value x, Value mask) {
    return mask ? MaskMulOp::create(b, x.getType(), x, mask).getResult() : x;
  }
  Value rmsNorm(Value x, Value g) {
    return RMSNormOp::create(b, x.getType(), x, g, hiddenMask,
                             b.getF64FloatAttr(cfg.getEpsValue()));
  }
  ImplicitLocOpBuilder &b;
  ModelConfigAttr cfg;
  int64_t batch;
  FloatType et;
  const GrowthMasks &masks;
  Value hiddenMask, attentionMask, ffnMask;
};
} // namespace

Value GraphEmitter::emitLayer(int64_t layer, Value x) {
  int64_t d = cfg.getHidden(), f = cfg.getFfn();
  auto name = [&](StringRef suffix) { return layerParamName(layer, suffix); };
  auto headDim = b.getI64IntegerAttr(cfg.getHeadDim());
  auto theta = b.getF64FloatAttr(cfg.getRopeThetaValue());

  // Attention block: x + mask_h * W_o(attn(rope(q), rope(k), v)).
  Value n1 = rmsNorm(x, gain(name("input_layernorm.weight")));
  Value q = applyMask(linear(n1, matrix(name("self_attn.q_proj.weight"), d, d)),
                      attentionMask);
  Value k = applyMask(linear(n1, matrix(name("self_attn.k_proj.weight"), d, d)),
                      attentionMask);
  Value v = applyMask(linear(n1, matrix(name("self_attn.v_proj.weight"), d, d)),
                      attentionMask);
  Value qr = RopeOp::create(b, q.getType(), q, headDim, theta, UnitAttr());
  Value kr = RopeOp::create(b, k.getType(), k, headDim, theta, UnitAttr());
  Value att = AttentionOp::create(b, q.getType(), qr, kr, v, headDim);
  Value o = applyMask(linear(att, matrix(name("self_attn.o_proj.weight"), d, d)),
                      hiddenMask);
  Value h = AddOp::create(b, x.getType(), x, o);

  // MLP block: h + mask_h * W_down(mask_f * swiglu(W_gate n, W_up n)).
  Value n2 = rmsNorm(h, gain(name("post_attention_layernorm.weight")));
  Value g = linear(n2, matrix(name("mlp.gate_proj.weight"), f, d));
  Value u = linear(n2, matrix(name("mlp.up_proj.weight"), f, d));
  Value s = applyMask(SwiGLUOp::create(b, g.getType(), g, u), ffnMask);
  Value down =
      applyMask(linear(s, matrix(name("mlp.down_proj.weight"), d, f)), hiddenMask);
  Value out = AddOp::create(b, x.getType(), h, down);

  // A layer added by depth growth: identity at c = 0.
  if (layer < (int64_t)masks.newLayers.size() && masks.newLayers[layer]) {
    Value c = MaskValueOp::create(b, RankedTensorType::get({}, et),
                                  b.getStringAttr(layerMaskName(layer)));
    out = LerpOp::create(b, x.getType(), x, out, c);
  }
  return out;
}

void GraphEmitter::emitMasks() {
  int64_t d = cfg.getHidden();
  if (masks.hiddenKept >= 0)
    hiddenMask = maskVector(kHiddenMaskName, masks.hiddenKept, d);
  if (masks.attentionKept >= 0)
    attentionMask = maskVector(kAttentionMaskName, masks.attentionKept, d);
  if (masks.ffnKept >= 0)
    ffnMask = maskVector(kFfnMaskName, masks.ffnKept, cfg.getFfn());
}

Value GraphEmitter::emitEmbedding(Value tokens) {
  Value table = param("model.embed_tokens.weight",
                      {cfg.getVocab(), cfg.getHidden()}, ParamGroup::vector,
                      ParamInit::normal);
  return applyMask(EmbedOp::create(b, activation(cfg.getHidden()), table, tokens),
                   hiddenMask);
}

Value GraphEmitter::emitLogits(Value x) {
  Value n = rmsNorm(x, gain("model.norm.weight"));
  Value logits = linear(n, matrix("lm_head.weight", cfg.getVocab(), cfg.getHidden()));
  // alpha_out = 1 (the default) needs no op: a scale by 1 would cost a full
  // copy of the logits, and of their gradient, in every step.
  if (cfg.getAlphaOutValue() == 1.0)
    return logits;
  return ScaleOp::create(b, logits.getType(), logits,
                         b.getF64FloatAttr(cfg.getAlphaOutValue()));
}

Value GraphEmitter::emitLoss(Value logits, Value targets) {
  return CrossEntropyOp::create(b, RankedTensorType::get({}, et), logits,
                                targets, Value());
}

namespace {
/// Creates `func.func @name(args) -> results` and an emitter positioned in
/// its entry block.
func::FuncOp createFunction(OpBuilder &builder, Location loc, StringRef name,
                            ModelConfigAttr config, TypeRange args,
                            TypeRange results) {
  auto fn = func::FuncOp::create(builder, loc, name,
                                 builder.getFunctionType(args, results));
  fn->setAttr(kModelConfigAttrName, config);
  fn.addEntryBlock();
  return fn;
}
} // namespace

FloatType mlir::tele::parseElementType(MLIRContext *ctx, StringRef name) {
  if (name == "f32")
    return Float32Type::get(ctx);
  if (name == "f64")
    return Float64Type::get(ctx);
  return nullptr;
}

func::FuncOp mlir::tele::buildLossFunction(OpBuilder &builder, Location loc,
                                           StringRef name,
                                           ModelConfigAttr config,
                                           int64_t batch, FloatType elementType,
                                           const GrowthMasks &masks,
                                           bool returnLogits) {
  auto tokenType = RankedTensorType::get({batch, config.getSeqLen()},
                                         builder.getI32Type());
  SmallVector<Type> results{RankedTensorType::get({}, elementType)};
  if (returnLogits)
    results.push_back(RankedTensorType::get(
        {batch, config.getSeqLen(), config.getVocab()}, elementType));
  auto fn = createFunction(builder, loc, name, config, {tokenType, tokenType},
                           results);
  Block *entry = &fn.getBody().front();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(entry);
  ImplicitLocOpBuilder b(loc, builder);
  GraphEmitter emitter(b, config, batch, elementType, masks);
  emitter.emitMasks();
  Value x = emitter.emitEmbedding(entry->getArgument(0));
  for (int64_t layer = 0; layer < config.getLayers(); ++layer)
    x = emitter.emitLayer(layer, x);
  Value logits = emitter.emitLogits(x);
  Value loss = emitter.emitLoss(logits, entry->getArgument(1));
  if (returnLogits)
    func::ReturnOp::create(b, ValueRange{loss, logits});
  else
    func::ReturnOp::create(b, loss);
  return fn;
}

func::FuncOp mlir::tele::buildLayerDistanceFunction(
    OpBuilder &builder, Location loc, StringRef name, ModelConfigAttr config,
    int64_t batch, FloatType elementType, DistanceMetric metric) {
  auto tokenType = RankedTensorType::get({batch, config.getSeqLen()},
                                         builder.getI32Type());
  auto scalar = RankedTensorType::get({}, elementType);
  SmallVector<Type> results(config.getLayers(), scalar);
  auto fn = createFunction(builder, loc, name, config, {tokenType}, results);
  Block *entry = &fn.getBody().front();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(entry);
  ImplicitLocOpBuilder b(loc, builder);
  GrowthMasks none;
  GraphEmitter emitter(b, config, batch, elementType, none);
  Value x = emitter.emitEmbedding(entry->getArgument(0));
  SmallVector<Value> distances;
  for (int64_t layer = 0; layer < config.getLayers(); ++layer) {
    Value next = emitter.emitLayer(layer, x);
    distances.push_back(StreamDistanceOp::create(
        b, scalar, x, next, DistanceMetricAttr::get(b.getContext(), metric)));
    x = next;
  }
  func::ReturnOp::create(b, distances);
  return fn;
}

SmallVector<Operation *> mlir::tele::growthChainEndingAt(Operation *grow) {
  SmallVector<Operation *> chain{grow};
  for (Operation *op = grow->getPrevNode();
       op && isa<GrowthOpInterface>(op); op = op->getPrevNode())
    chain.insert(chain.begin(), op);
  return chain;
}

LogicalResult mlir::tele::verifyGrowthChain(ArrayRef<Operation *> chain) {
  int widths = llvm::count_if(chain, [](Operation *op) { return isa<GrowWidthOp>(op); });
  if (widths > 1 || (int64_t)chain.size() - widths > 1)
    return chain.back()->emitOpError()
           << "ends a chain of " << chain.size()
           << " growth ops in a row; a chain may hold at most one "
              "tele.grow.width and one tele.grow.depth (put a stage between "
              "them)";
  return success();
}

GrowthMasks mlir::tele::growthMasksFor(ArrayRef<Operation *> chain) {
  // The ops of a chain grow different things (checked by
  // verifyGrowthChain): width growth fixes the kept sizes, depth growth the
  // new layers, and neither changes what the other masks.
  GrowthMasks masks;
  for (Operation *grow : chain) {
    if (auto width = dyn_cast<GrowWidthOp>(grow)) {
      ModelConfigAttr from = width.getSourceModel().getConfig();
      ModelConfigAttr to = width.getTargetModel().getConfig();
      if (to.getHidden() > from.getHidden())
        masks.hiddenKept = masks.attentionKept = from.getHidden();
      if (to.getFfn() > from.getFfn())
        masks.ffnKept = from.getFfn();
      continue;
    }
    auto depth = cast<GrowDepthOp>(grow);
    ModelConfigAttr from = depth.getSourceModel().getConfig();
    ModelConfigAttr to = depth.getTargetModel().getConfig();
    masks.newLayers.assign(to.getLayers(), false);
    if (!depth.getCopyLayers())
      continue;
    ArrayRef<int64_t> copies = *depth.getCopyLayers();
    int64_t target = 0;
    for (int64_t l = 0; l < from.getLayers(); ++l) {
      ++target; // the original layer keeps its place
      for (int64_t c = 0, n = llvm::count(copies, l); c < n; ++c)
        masks.newLayers[target++] = true;
    }
  }
  return masks;
}

SmallVector<int64_t> mlir::tele::selectLayersToCopy(ArrayRef<double> distances,
                                                    int64_t added,
                                                    LayerSelection select) {
  int64_t layers = distances.size();
  SmallVector<int64_t> order(layers);
  for (int64_t i = 0; i < layers; ++i)
    order[i] = i;
  llvm::stable_sort(order, [&](int64_t a, int64_t b) {
    return select == LayerSelection::smallest ? distances[a] < distances[b]
                                              : distances[a] > distances[b];
  });
  SmallVector<int64_t> copies;
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t c = 0; c < added / layers; ++c)
      copies.push_back(l);
  for (int64_t r = 0; r < added % layers; ++r)
    copies.push_back(order[r]);
  llvm::sort(copies);
  return copies;
}
