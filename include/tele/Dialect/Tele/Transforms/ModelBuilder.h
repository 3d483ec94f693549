//===- ModelBuilder.h - build tensor-level model graphs ---------*- C++ -*-===//
//
// This file declares the builder that turns a model configuration into a
// tensor-level loss function. tele-expand-model uses it for plain models and
// the growth lowering for grown models, where every new structure is scaled
// by an MSG mask (docs/growth.md section 3).
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_TRANSFORMS_MODELBUILDER_H
#define TELE_DIALECT_TELE_TRANSFORMS_MODELBUILDER_H

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include <string>

namespace mlir::tele {

/// Which structures of a grown model are new and hence masked. A kept count
/// of -1 means the dimension did not grow (no mask is emitted).
struct GrowthMasks {
  /// Old hidden size d: masks the residual writes and the norm statistics.
  int64_t hiddenKept = -1;
  /// Old number of attention features H * head_dim: masks q, k and v.
  int64_t attentionKept = -1;
  /// Old FFN width f: masks the SwiGLU product.
  int64_t ffnKept = -1;
  /// Per layer of the grown model: true if the layer is new (computes
  /// x + c * (Block(x) - x) with its own mask value).
  SmallVector<bool> newLayers;

  bool empty() const {
    return hiddenKept < 0 && attentionKept < 0 && ffnKept < 0 &&
           llvm::none_of(newLayers, [](bool b) { return b; });
  }
};

/// The growth ops applied together at one point of a plan: `grow` and the
/// growth ops right before it (no stage between them), in plan order.
SmallVector<Operation *> growthChainEndingAt(Operation *grow);

/// A chain may hold at most one width and one depth growth.
LogicalResult verifyGrowthChain(ArrayRef<Operation *> chain);

/// The masks of the graph a chain of growth ops produces (all masks start
/// together at the growth step); for depth growth the new layers follow
/// `copy_layers` (none are marked new while it is unset).
GrowthMasks growthMasksFor(ArrayRef<Operation *> chain);

/// Depth-growth layer selection: given each source layer's residual-stream
/// distance, the source layer of each of `added` new layers (sorted). Every
/// layer gets floor(added / L) copies; the remaining added % L go to the
/// layers with the smallest (or largest) distance, ties to the lower index.
SmallVector<int64_t> selectLayersToCopy(ArrayRef<double> distances,
                                        int64_t added, LayerSelection select);

/// Names of the runtime mask scalars read by a masked graph.
inline constexpr const char *kHiddenMaskName = "mask.hidden";
inline constexpr const char *kAttentionMaskName = "mask.attention";
inline constexpr const char *kFfnMaskName = "mask.ffn";
std::string layerMaskName(int64_t layer);

/// Llama / Hugging Face parameter names.
std::string layerParamName(int64_t layer, StringRef suffix);

/// Builds `func.func @<name>(%tokens, %targets) -> tensor<f32>` at the
/// builder's insertion point: the mean next-token cross-entropy of a
/// [batch, seq_len] batch under the model `config`, in element type
/// `elementType`, with the given growth masks. With `returnLogits` the
/// function also returns the [batch, seq_len, vocab] logits (for evaluation
/// and growth checks; autodiff wants the loss alone).
func::FuncOp buildLossFunction(OpBuilder &builder, Location loc, StringRef name,
                               ModelConfigAttr config, int64_t batch,
                               FloatType elementType,
                               const GrowthMasks &masks = {},
                               bool returnLogits = false);

/// Builds `func.func @<name>(%tokens) -> (tensor<f32> x layers)`: for each
/// layer, the distance between its input and output residual stream.
func::FuncOp buildLayerDistanceFunction(OpBuilder &builder, Location loc,
                                        StringRef name, ModelConfigAttr config,
                                        int64_t batch, FloatType elementType,
                                        DistanceMetric metric);

/// "f32" or "f64" as a type; null for anything else.
FloatType parseElementType(MLIRContext *ctx, StringRef name);

/// Marks the parameter-map functions tele-lower-growth emits.
inline constexpr const char *kParamMapAttrName = "tele.param_map";

/// The model config recorded on functions built here.
inline constexpr const char *kModelConfigAttrName = "tele.model_config";

} // namespace mlir::tele

#endif // TELE_DIALECT_TELE_TRANSFORMS_MODELBUILDER_H
