//===- TeleOps.cpp - tele op verifiers and helpers ------------------------===//
//
// This file implements the verifiers of the tele ops: plan structure, symbol
// uses of stages and growth ops (what a growth may change), and the shape and
// element-type rules of every tensor-level op. Messages name the operand and
// the offending numbers so that a bad plan can be fixed from the error alone.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::tele;

//===----------------------------------------------------------------------===//
// Narrowed results: an op that computes in f32 may store a result as bf16
// when only bf16 GEMMs read it (tele-bf16-gemms). The result type is printed
// only when it differs from the input's: `: tensor<4x8xf32> -> tensor<4x8xbf16>`.
//===----------------------------------------------------------------------===//

static ParseResult parseNarrowedResult(OpAsmParser &parser, Type input, Type &result) {
  result = input;
  if (succeeded(parser.parseOptionalArrow()))
    return parser.parseType(result);
  return success();
}

static void printNarrowedResult(OpAsmPrinter &printer, Operation *, Type input, Type result) {
  if (result != input)
    printer << " -> " << result;
}

static ParseResult parseNarrowedResults(OpAsmParser &parser, Type input, Type &first,
                                        Type &second) {
  first = second = input;
  if (failed(parser.parseOptionalArrow()))
    return success();
  return failure(parser.parseLParen() || parser.parseType(first) || parser.parseComma() ||
                 parser.parseType(second) || parser.parseRParen());
}

static void printNarrowedResults(OpAsmPrinter &printer, Operation *, Type input, Type first,
                                 Type second) {
  if (first != input || second != input)
    printer << " -> (" << first << ", " << second << ")";
}

/// The types of tele.rms_norm_grad's output gradients, printed only when one
/// differs from the input's: ` grads (tensor<..xbf16>, tensor<..xbf16>)`.
static ParseResult parseGradTypes(OpAsmParser &parser, Type input,
                                  ArrayRef<OpAsmParser::UnresolvedOperand> grads,
                                  SmallVectorImpl<Type> &types) {
  if (failed(parser.parseOptionalKeyword("grads"))) {
    types.assign(grads.size(), input);
    return success();
  }
  return parser.parseCommaSeparatedList(OpAsmParser::Delimiter::Paren,
                                        [&] { return parser.parseType(types.emplace_back()); });
}

static void printGradTypes(OpAsmPrinter &printer, Operation *, Type input, OperandRange,
                           TypeRange types) {
  if (llvm::all_of(types, [&](Type t) { return t == input; }))
    return;
  printer << " grads (";
  llvm::interleaveComma(types, printer);
  printer << ")";
}

/// tele.adamw's gradient type, printed only when it differs from the
/// parameter's (a bf16 copy): ` grad tensor<64x64xbf16>`.
static ParseResult parseAdamWGradType(OpAsmParser &parser, Type param, Type &grad) {
  grad = param;
  if (succeeded(parser.parseOptionalKeyword("grad")))
    return parser.parseType(grad);
  return success();
}

static void printAdamWGradType(OpAsmPrinter &printer, Operation *, Type param, Type grad) {
  if (grad != param)
    printer << " grad " << grad;
}

#include "tele/Dialect/Tele/IR/TeleInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "tele/Dialect/Tele/IR/TeleOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

namespace {
RankedTensorType tensorTypeOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Checks that `v` has exactly the type `expected`, naming the operand.
LogicalResult expectType(Operation *op, Value v, Type expected,
                         StringRef what) {
  if (v.getType() != expected)
    return op->emitOpError() << what << " has type " << v.getType()
                             << " but expected " << expected;
  return success();
}

/// Whether element type `e` is `compute`, or a bf16 copy where `compute`
/// is f32 (what tele-bf16-gemms may narrow a value to).
bool isComputeTypeOrBf16Copy(Type e, Type compute) {
  return e == compute || (compute.isF32() && e.isBF16());
}

/// Checks that `v` has the shape of `expected` and its element type, or is
/// a bf16 copy where that is f32 (an operand tele-bf16-gemms narrowed).
LogicalResult expectTypeOrBf16Copy(Operation *op, Value v, RankedTensorType expected,
                                   StringRef what) {
  auto t = tensorTypeOf(v);
  if (t.getShape() != expected.getShape() ||
      !isComputeTypeOrBf16Copy(t.getElementType(), expected.getElementType()))
    return op->emitOpError() << what << " has type " << t << " but expected " << expected
                             << " (or its bf16 copy for f32)";
  return success();
}

/// Checks an op's optional `copy` result (named `what`), the bf16 copy of
/// a value typed `of`: that value must be f32 (`value` and `source` name it
/// and the operand it follows in the error) and the copy `of` in bf16.
LogicalResult expectOptionalBf16Copy(Operation *op, Value copy, RankedTensorType of,
                                     StringRef what, StringRef value, StringRef source) {
  if (!copy)
    return success();
  if (!of.getElementType().isF32())
    return op->emitOpError() << "a bf16 copy of " << value << " needs an f32 " << source;
  return expectType(op, copy, of.clone(BFloat16Type::get(op->getContext())), what);
}

/// Results of ops that may narrow (see parseNarrowedResult) have the
/// input's element type, or bf16 for an f32 input; shapes are tied by
/// AllShapesMatch.
LogicalResult verifyNarrowedResults(Operation *op, Type input) {
  Type in = getElementTypeOrSelf(input);
  for (Type t : op->getResultTypes()) {
    Type out = getElementTypeOrSelf(t);
    if (!isComputeTypeOrBf16Copy(out, in))
      return op->emitOpError() << "result element type " << out << " must be the input's ("
                               << in << "), or bf16 for an f32 input";
  }
  return success();
}

/// Ops that compute in f32 and may read bf16 copies and store bf16
/// (tele-bf16-gemms): every operand and result is f32 or bf16; or all are
/// of one other type (f64 for gradient checks). Shapes are tied by
/// AllShapesMatch.
LogicalResult verifyF32OrBf16(Operation *op) {
  auto f32OrBf16 = [](Type t) {
    Type e = getElementTypeOrSelf(t);
    return e.isF32() || e.isBF16();
  };
  Type first = getElementTypeOrSelf(op->getOperand(0).getType());
  bool mixed = llvm::all_of(op->getOperandTypes(), f32OrBf16) &&
               llvm::all_of(op->getResultTypes(), f32OrBf16);
  auto same = [&](Type t) { return getElementTypeOrSelf(t) == first; };
  if (!mixed && !(llvm::all_of(op->getOperandTypes(), same) &&
                  llvm::all_of(op->getResultTypes(), same)))
    return op->emitOpError() << "operands and results must be f32 or bf16 (copies of f32 "
                                "values), or all of one element type";
  return success();
}

/// Checks that a per-feature vector (gain or mask) has shape [D] where D is
/// the last dimension of `input`, and the input's element type.
LogicalResult expectFeatureVector(Operation *op, Value vec, Value input,
                                  StringRef what) {
  auto in = tensorTypeOf(input);
  auto ty = tensorTypeOf(vec);
  if (in.getRank() < 1)
    return op->emitOpError() << "input must have rank >= 1";
  int64_t d = in.getShape().back();
  if (ty.getRank() != 1 || ty.getDimSize(0) != d)
    return op->emitOpError() << what << " must have shape [" << d
                             << "] to match the last dimension of the input, got "
                             << ty;
  if (ty.getElementType() != in.getElementType())
    return op->emitOpError() << what << " element type "
                             << ty.getElementType()
                             << " differs from the input's "
                             << in.getElementType();
  return success();
}

/// Checks a [batch, seq, heads * head_dim] tensor against head_dim.
LogicalResult expectHeads(Operation *op, Value v, int64_t headDim) {
  auto ty = tensorTypeOf(v);
  if (ty.getRank() != 3)
    return op->emitOpError()
           << "expects [batch, seq, heads * head_dim] operands, got " << ty;
  if (headDim <= 0 || headDim % 2 != 0)
    return op->emitOpError() << "head_dim must be positive and even, got "
                             << headDim;
  if (ty.getDimSize(2) % headDim != 0)
    return op->emitOpError() << "feature size " << ty.getDimSize(2)
                             << " is not a multiple of head_dim " << headDim;
  return success();
}

/// Checks that `scalar` has the element type of `like`.
LogicalResult expectScalarOf(Operation *op, Value scalar, Value like,
                             StringRef what) {
  Type want = tensorTypeOf(like).getElementType();
  Type got = tensorTypeOf(scalar).getElementType();
  if (want != got)
    return op->emitOpError() << what << " element type " << got
                             << " differs from " << want;
  return success();
}

/// Checks cross-entropy operands: targets are logits' shape minus the vocab
/// dimension, the optional loss mask matches the targets' shape.
LogicalResult verifyLossOperands(Operation *op, Value logits, Value targets,
                                 Value lossMask) {
  auto lt = tensorTypeOf(logits);
  auto tt = tensorTypeOf(targets);
  if (lt.getRank() < 2)
    return op->emitOpError() << "logits must have rank >= 2, got " << lt;
  if (tt.getShape() != lt.getShape().drop_back())
    return op->emitOpError()
           << "targets shape must be the logits shape without the vocabulary "
              "dimension; got targets "
           << tt << " for logits " << lt;
  if (lossMask) {
    auto mt = tensorTypeOf(lossMask);
    if (mt.getShape() != tt.getShape() ||
        mt.getElementType() != lt.getElementType())
      return op->emitOpError() << "loss mask must have the targets' shape and "
                                  "the logits' element type, got "
                               << mt;
  }
  return success();
}

/// Models are siblings of the plan (itself a symbol table of stages), so
/// lookups start at the plan's parent.
Operation *modelScope(Operation *op) { return op->getParentOp()->getParentOp(); }

ModelOp lookupModel(Operation *op, FlatSymbolRefAttr ref) {
  return SymbolTable::lookupNearestSymbolFrom<ModelOp>(modelScope(op),
                                                       ref.getAttr());
}

LogicalResult verifyModelRef(Operation *op, SymbolTableCollection &symbols,
                             FlatSymbolRefAttr ref, StringRef role) {
  Operation *found =
      symbols.lookupNearestSymbolFrom(modelScope(op), ref.getAttr());
  if (!found)
    return op->emitOpError() << role << " " << ref << " is not defined";
  if (!isa<ModelOp>(found))
    return op->emitOpError() << role << " " << ref << " is not a tele.model";
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// Model-level ops
//===----------------------------------------------------------------------===//

LogicalResult PlanOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.empty())
    return emitOpError() << "must contain at least one tele.stage";
  if (!isa<StageOp>(body.front()))
    return body.front().emitOpError()
           << "must follow a tele.stage: a plan begins by training a model";
  // Walk the sequence keeping the model currently being trained, so that
  // each growth continues from it and each stage trains its result.
  FlatSymbolRefAttr current;
  int widths = 0, depths = 0; // growth ops since the last stage
  for (Operation &op : body) {
    if (isa<GrowWidthOp>(op))
      ++widths;
    if (isa<GrowDepthOp>(op))
      ++depths;
    if (widths > 1 || depths > 1)
      return op.emitOpError()
             << "ends a chain of " << widths + depths
             << " growth ops in a row; a chain may hold at most one "
                "tele.grow.width and one tele.grow.depth (put a stage "
                "between them)";
    if (auto stage = dyn_cast<StageOp>(op)) {
      widths = depths = 0;
      if (current && stage.getModelAttr() != current)
        return stage.emitOpError()
               << "trains " << stage.getModelAttr() << " but the plan's model "
               << "at this point is " << current
               << "; insert a growth op between them";
      current = stage.getModelAttr();
      continue;
    }
    auto grow = dyn_cast<GrowthOpInterface>(op);
    if (!grow)
      return op.emitOpError()
             << "is not allowed in a tele.plan (only tele.stage and tele.grow.*)";
    if (grow.getSourceAttr() != current)
      return op.emitOpError() << "grows " << grow.getSourceAttr()
                              << " but the plan's model at this point is "
                              << current;
    current = grow.getTargetAttr();
  }
  if (!isa<StageOp>(body.back()))
    return body.back().emitOpError()
           << "must be followed by a tele.stage that trains the grown model";
  return success();
}

LogicalResult
StageOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  if (failed(verifyModelRef(*this, symbolTable, getModelAttr(), "model")))
    return failure();
  // The step's largest tensors (logits [batch, seq, vocab], the FFN's
  // [batch, seq, ffn], attention scores [batch, heads, seq, seq]) must have
  // element and byte counts that fit int64.
  auto model = cast<ModelOp>(
      symbolTable.lookupNearestSymbolFrom(modelScope(*this), getModelAttr().getAttr()));
  ModelConfigAttr m = model.getConfig();
  int64_t tokens, elements;
  auto fits = [&](int64_t width) {
    return !llvm::MulOverflow(tokens, width, elements) &&
           !llvm::MulOverflow(elements, int64_t(8), elements);
  };
  int64_t scores;
  if (llvm::MulOverflow(getConfig().getBatch(), m.getSeqLen(), tokens) ||
      !fits(m.getVocab()) || !fits(m.getFfn()) ||
      llvm::MulOverflow(m.getHeads(), m.getSeqLen(), scores) || !fits(scores))
    return emitOpError() << "batch " << getConfig().getBatch()
                         << " of model " << getModelAttr()
                         << " has tensors whose size overflows int64";
  return success();
}

ModelOp GrowthOpInterface::getSourceModel() {
  return lookupModel(getOperation(), getSourceAttr());
}
ModelOp GrowthOpInterface::getTargetModel() {
  return lookupModel(getOperation(), getTargetAttr());
}
ModelOp GrowWidthOp::getSourceModel() { return lookupModel(*this, getSourceAttr()); }
ModelOp GrowWidthOp::getTargetModel() { return lookupModel(*this, getTargetAttr()); }
ModelOp GrowDepthOp::getSourceModel() { return lookupModel(*this, getSourceAttr()); }
ModelOp GrowDepthOp::getTargetModel() { return lookupModel(*this, getTargetAttr()); }

LogicalResult GrowWidthOp::verify() {
  if (getTransitionStepsAttr().getInt() <= 0)
    return emitOpError() << "transition_steps must be positive, got "
                         << getTransitionStepsAttr().getInt();
  if (!(getInitStd().convertToDouble() > 0.0))
    return emitOpError() << "init_std must be positive";
  return success();
}

LogicalResult GrowDepthOp::verify() {
  if (getTransitionStepsAttr().getInt() <= 0)
    return emitOpError() << "transition_steps must be positive, got "
                         << getTransitionStepsAttr().getInt();
  if (auto copies = getCopyLayers())
    if (!llvm::is_sorted(*copies) ||
        llvm::any_of(*copies, [](int64_t l) { return l < 0; }))
      return emitOpError() << "copy_layers must be sorted and non-negative";
  return success();
}

namespace {
/// Fields a growth op must leave unchanged, with their names for messages.
LogicalResult expectUnchanged(Operation *op, StringRef field, int64_t from,
                              int64_t to) {
  if (from != to)
    return op->emitOpError() << "may not change " << field << " (" << from
                             << " -> " << to << ")";
  return success();
}

LogicalResult expectSameFloat(Operation *op, StringRef field,
                              const llvm::APFloat &from,
                              const llvm::APFloat &to) {
  if (!from.bitwiseIsEqual(to))
    return op->emitOpError() << "may not change " << field << " ("
                             << from.convertToDouble() << " -> "
                             << to.convertToDouble()
                             << "); growth must preserve the function";
  return success();
}

/// Checks the fields that no growth may change: vocabulary, head_dim,
/// sequence length, norm eps, RoPE base and the output multiplier.
LogicalResult verifyInvariantFields(Operation *op, ModelConfigAttr a,
                                    ModelConfigAttr b) {
  if (failed(expectUnchanged(op, "vocab", a.getVocab(), b.getVocab())) ||
      failed(expectUnchanged(op, "head_dim", a.getHeadDim(), b.getHeadDim())) ||
      failed(expectUnchanged(op, "seq_len", a.getSeqLen(), b.getSeqLen())) ||
      failed(expectSameFloat(op, "eps", a.getEps(), b.getEps())) ||
      failed(expectSameFloat(op, "rope_theta", a.getRopeTheta(),
                             b.getRopeTheta())) ||
      failed(expectSameFloat(op, "alpha_out", a.getAlphaOut(),
                             b.getAlphaOut())))
    return failure();
  return success();
}
} // namespace

LogicalResult
GrowWidthOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  if (failed(verifyModelRef(*this, symbolTable, getSourceAttr(), "source")) ||
      failed(verifyModelRef(*this, symbolTable, getTargetAttr(), "target")))
    return failure();
  ModelConfigAttr a = getSourceModel().getConfig();
  ModelConfigAttr b = getTargetModel().getConfig();
  if (failed(verifyInvariantFields(*this, a, b)) ||
      failed(expectUnchanged(*this, "layers", a.getLayers(), b.getLayers())))
    return failure();
  struct Dim {
    const char *name;
    int64_t from, to;
  };
  bool grows = false;
  for (Dim dim : {Dim{"hidden", a.getHidden(), b.getHidden()},
                  Dim{"heads", a.getHeads(), b.getHeads()},
                  Dim{"ffn", a.getFfn(), b.getFfn()}}) {
    if (dim.to < dim.from)
      return emitOpError() << "may not shrink " << dim.name << " (" << dim.from
                           << " -> " << dim.to << ")";
    grows |= dim.to > dim.from;
  }
  if (!grows)
    return emitOpError()
           << "grows nothing: hidden, heads and ffn are all unchanged";
  return success();
}

LogicalResult
GrowDepthOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  if (failed(verifyModelRef(*this, symbolTable, getSourceAttr(), "source")) ||
      failed(verifyModelRef(*this, symbolTable, getTargetAttr(), "target")))
    return failure();
  ModelConfigAttr a = getSourceModel().getConfig();
  ModelConfigAttr b = getTargetModel().getConfig();
  if (failed(verifyInvariantFields(*this, a, b)) ||
      failed(expectUnchanged(*this, "hidden", a.getHidden(), b.getHidden())) ||
      failed(expectUnchanged(*this, "heads", a.getHeads(), b.getHeads())) ||
      failed(expectUnchanged(*this, "ffn", a.getFfn(), b.getFfn())))
    return failure();
  if (b.getLayers() <= a.getLayers())
    return emitOpError() << "must add layers (" << a.getLayers() << " -> "
                         << b.getLayers() << ")";
  if (auto copies = getCopyLayers()) {
    int64_t added = b.getLayers() - a.getLayers();
    if ((int64_t)copies->size() != added)
      return emitOpError() << "copy_layers names " << copies->size()
                           << " layers but the growth adds " << added;
    if (!copies->empty() && copies->back() >= a.getLayers())
      return emitOpError() << "copy_layers entry " << copies->back()
                           << " is not a layer of the source model ("
                           << a.getLayers() << " layers)";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Tensor-level ops
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError() << "needs a non-empty name";
  if (!isa<FloatType>(getType().getElementType()))
    return emitOpError() << "must produce a floating-point tensor, got "
                         << getType();
  return success();
}

LogicalResult CachedConvertOp::verify() {
  if (getName().empty())
    return emitOpError() << "needs a non-empty name";
  if (!getInput().getDefiningOp<ParamOp>())
    return emitOpError() << "converts a tele.param read (the cached copy is of a state entry)";
  if (!getInput().getType().getElementType().isF32() || !getType().getElementType().isBF16())
    return emitOpError() << "rounds f32 to bf16, got " << getInput().getType() << " -> "
                         << getType();
  return success();
}

LogicalResult MaskVectorOp::verify() {
  auto ty = getType();
  if (ty.getRank() != 1)
    return emitOpError() << "result must be a vector, got " << ty;
  if (getKeptAttr().getInt() < 0 || getKeptAttr().getInt() > ty.getDimSize(0))
    return emitOpError() << "kept (" << getKeptAttr().getInt() << ") must be in [0, "
                         << ty.getDimSize(0) << "]";
  return expectScalarOf(*this, getValue(), getResult(), "mask value");
}

LogicalResult EmbedOp::verify() {
  auto table = getTable().getType();
  auto tokens = getTokens().getType();
  if (table.getRank() != 2)
    return emitOpError() << "table must be [vocab, hidden], got " << table;
  SmallVector<int64_t> shape(tokens.getShape());
  shape.push_back(table.getDimSize(1));
  return expectType(*this, getResult(),
                    RankedTensorType::get(shape, table.getElementType()),
                    "result");
}

LogicalResult RMSNormOp::verify() {
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError() << "eps must be positive";
  if (failed(expectFeatureVector(*this, getGain(), getInput(), "gain")))
    return failure();
  if (getMask() &&
      failed(expectFeatureVector(*this, getMask(), getInput(), "mask")))
    return failure();
  return verifyNarrowedResults(*this, getInput().getType());
}

namespace {
/// Shape rule of y = x W^T with W [N, K]: x [..., K] -> y [..., N].
/// x[..., K] · w[N, K]^T = y[..., N], in shapes.
LogicalResult verifyLinearShapes(Operation *op, RankedTensorType x,
                                 RankedTensorType w, RankedTensorType y) {
  if (w.getRank() != 2)
    return op->emitOpError() << "weight must be [out, in], got " << w;
  if (x.getRank() < 1 || x.getShape().back() != w.getDimSize(1))
    return op->emitOpError() << "input " << x << " does not match weight " << w
                             << ": the last dimension must be "
                             << w.getDimSize(1);
  SmallVector<int64_t> shape(x.getShape().drop_back());
  shape.push_back(w.getDimSize(0));
  if (y.getShape() != ArrayRef<int64_t>(shape))
    return op->emitOpError() << "result has type " << y << " but expected "
                             << RankedTensorType::get(shape, y.getElementType());
  return success();
}

/// A GEMM's two operands share an element type; its result has it too, or
/// f32 when the operands are 16-bit floats (the GEMM accumulates in f32).
LogicalResult verifyGemmElementTypes(Operation *op, Type a, Type b, Type result) {
  Type ea = getElementTypeOrSelf(a), eb = getElementTypeOrSelf(b);
  Type er = getElementTypeOrSelf(result);
  if (ea != eb)
    return op->emitOpError() << "operand element types differ (" << ea << " vs " << eb
                             << ")";
  if (er != ea && !(er.isF32() && (ea.isBF16() || ea.isF16())))
    return op->emitOpError() << "result element type " << er << " does not fit " << ea
                             << " operands (expected " << ea
                             << ", or f32 for 16-bit operands)";
  return success();
}
} // namespace

LogicalResult LinearOp::verify() {
  if (failed(verifyLinearShapes(*this, getInput().getType(), getWeight().getType(),
                                getType())))
    return failure();
  if (getAddend() && failed(expectType(*this, getAddend(), getType(), "addend")))
    return failure();
  return verifyGemmElementTypes(*this, getInput().getType(), getWeight().getType(), getType());
}

LogicalResult LinearGradInputOp::verify() {
  // dx = dy W  <=>  the linear rule with the roles of dx and dy swapped.
  if (failed(verifyLinearShapes(*this, getType(), getWeight().getType(),
                                getGrad().getType())))
    return failure();
  if (getAddend() && failed(expectType(*this, getAddend(), getType(), "addend")))
    return failure();
  return verifyGemmElementTypes(*this, getGrad().getType(), getWeight().getType(), getType());
}

LogicalResult LinearGradWeightOp::verify() {
  auto dy = getGrad().getType(), x = getInput().getType();
  if (dy.getRank() < 1 || x.getRank() < 1)
    return emitOpError() << "gradient and input must have rank >= 1";
  if (failed(verifyGemmElementTypes(*this, dy, x, getType())))
    return failure();
  if (dy.getShape().drop_back() != x.getShape().drop_back())
    return emitOpError() << "gradient " << dy << " and input " << x
                         << " must agree on all but the last dimension";
  auto expected = RankedTensorType::get({dy.getShape().back(), x.getShape().back()},
                                        getType().getElementType());
  return expectType(*this, getResult(), expected, "result");
}

OpFoldResult ConvertOp::fold(FoldAdaptor) {
  return getInput().getType() == getType() ? getInput() : nullptr;
}

LogicalResult SwiGLUOp::verify() { return verifyF32OrBf16(*this); }

LogicalResult SwiGLUGradOp::verify() { return verifyF32OrBf16(*this); }

LogicalResult RopeOp::verify() {
  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError() << "theta must be positive";
  if (failed(verifyF32OrBf16(*this)))
    return failure();
  return expectHeads(*this, getInput(), getHeadDimAttr().getInt());
}

LogicalResult AttentionOp::verify() {
  // q, k, v and the result are tied by AllTypesMatch.
  return expectHeads(*this, getQuery(), getHeadDimAttr().getInt());
}

LogicalResult AttentionGradOp::verify() {
  // Operand and result types are tied by AllTypesMatch.
  return expectHeads(*this, getQuery(), getHeadDimAttr().getInt());
}

RankedTensorType mlir::tele::attentionStatsType(RankedTensorType query, int64_t headDim) {
  return RankedTensorType::get(
      {query.getDimSize(0), query.getDimSize(2) / headDim, query.getDimSize(1)},
      query.getElementType());
}

/// The flash pair computes in the log-sum-exp's element type (f32 or f64).
/// Each of `copies` has the query's shape and that type, or is a bf16 copy
/// (an input rounded for the tensor cores, or a narrowed result); each of
/// `exact` has the query's shape and that type.
static LogicalResult expectFlashTypes(Operation *op, Value query, Value lse, int64_t headDim,
                                      ArrayRef<std::pair<Value, StringRef>> copies,
                                      ArrayRef<std::pair<Value, StringRef>> exact = {}) {
  if (failed(expectHeads(op, query, headDim)))
    return failure();
  auto q = cast<RankedTensorType>(query.getType());
  Type compute = getElementTypeOrSelf(lse.getType());
  if (!compute.isF32() && !compute.isF64())
    return op->emitOpError() << "lse must be f32 or f64 (the type the op computes in), got "
                             << lse.getType();
  auto want = attentionStatsType(q, headDim).clone(compute);
  if (lse.getType() != want)
    return op->emitOpError() << "lse must be [batch, heads, seq] = [" << want.getDimSize(0)
                             << ", " << want.getDimSize(1) << ", " << want.getDimSize(2)
                             << "], got " << lse.getType();
  auto expect = [&](Value value, StringRef name, bool mayBeBf16) {
    auto ty = cast<RankedTensorType>(value.getType());
    Type e = ty.getElementType();
    if (ty.getShape() == q.getShape() && (e == compute || (mayBeBf16 && e.isBF16())))
      return success();
    return LogicalResult(op->emitOpError()
                         << name << " must be " << q.clone(compute)
                         << (mayBeBf16 ? " (or its bf16 copy)" : "") << ", got "
                         << value.getType());
  };
  for (auto [value, name] : copies)
    if (failed(expect(value, name, /*mayBeBf16=*/true)))
      return failure();
  for (auto [value, name] : exact)
    if (failed(expect(value, name, /*mayBeBf16=*/false)))
      return failure();
  return success();
}

LogicalResult FlashAttentionOp::verify() {
  return expectFlashTypes(*this, getQuery(), getLse(), getHeadDimAttr().getInt(),
                          {{getQuery(), "query"}, {getResult(), "result"}});
}

LogicalResult FlashAttentionGradOp::verify() {
  return expectFlashTypes(*this, getQuery(), getLse(), getHeadDimAttr().getInt(),
                          {{getQuery(), "query"},
                           {getOutput(), "output"},
                           {getGrad(), "grad"},
                           {getQueryGrad(), "query_grad"}});
}

LogicalResult MaskMulOp::verify() {
  return expectFeatureVector(*this, getMask(), getInput(), "mask");
}

LogicalResult LerpOp::verify() {
  // start, end and result are tied by AllTypesMatch.
  return expectScalarOf(*this, getWeight(), getStart(), "weight");
}

LogicalResult LerpGradOp::verify() {
  // grad and both results are tied by AllTypesMatch.
  return expectScalarOf(*this, getWeight(), getGrad(), "weight");
}

LogicalResult CrossEntropyOp::verify() {
  if (failed(verifyLossOperands(*this, getLogits(), getTargets(),
                                getLossMask())))
    return failure();
  return expectScalarOf(*this, getResult(), getLogits(), "result");
}

LogicalResult CrossEntropyGradOp::verify() {
  if (failed(verifyLossOperands(*this, getLogits(), getTargets(),
                                getLossMask())) ||
      failed(expectScalarOf(*this, getGrad(), getLogits(), "grad")))
    return failure();
  return expectType(*this, getResult(), getLogits().getType(), "result");
}

LogicalResult CrossEntropyFusedOp::verify() {
  if (failed(verifyLossOperands(*this, getLogits(), getTargets(), Value())))
    return failure();
  // The compute type is grad's (and loss's); with f32 the logits and their
  // gradient may be bf16 copies.
  Type compute = getElementTypeOrSelf(getGrad().getType());
  for (auto [what, v] : {std::pair<StringRef, Value>{"logits", getLogits()},
                         std::pair<StringRef, Value>{"logits_grad", getLogitsGrad()}}) {
    Type e = getElementTypeOrSelf(v.getType());
    if (!isComputeTypeOrBf16Copy(e, compute))
      return emitOpError() << what << " element type " << e << " must be grad's (" << compute
                           << "), or bf16 when that is f32";
  }
  return success();
}

LogicalResult EmbedGradOp::verify() {
  auto dy = getGrad().getType();
  auto tokens = getTokens().getType();
  if (dy.getRank() < 1)
    return emitOpError() << "gradient must have rank >= 1";
  if (dy.getShape().drop_back() != tokens.getShape())
    return emitOpError() << "gradient " << dy
                         << " must be the tokens' shape plus a hidden "
                            "dimension, tokens are "
                         << tokens;
  auto table = getType();
  if (table.getRank() != 2 || table.getDimSize(1) != dy.getShape().back() ||
      table.getElementType() != dy.getElementType())
    return emitOpError() << "result must be [vocab, " << dy.getShape().back()
                         << "] of " << dy.getElementType() << ", got " << table;
  return success();
}

LogicalResult RMSNormGradOp::verify() {
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError() << "eps must be positive";
  if (getGrads().empty())
    return emitOpError() << "needs at least one output gradient";
  auto input = tensorTypeOf(getInput());
  for (Value grad : getGrads())
    if (failed(expectTypeOrBf16Copy(*this, grad, input, "grad")))
      return failure();
  if (failed(expectOptionalBf16Copy(*this, getInputGradCopy(), input, "input_grad_copy",
                                     "the input gradient", "input")))
    return failure();
  if (failed(expectFeatureVector(*this, getGain(), getInput(), "gain")) ||
      (getMask() && failed(expectFeatureVector(*this, getMask(), getInput(), "mask"))) ||
      (getAddend() && failed(expectType(*this, getAddend(), getInput().getType(), "addend"))))
    return failure();
  return expectType(*this, getGainGrad(), getGain().getType(), "gain_grad");
}

LogicalResult GlobalNormOp::verify() {
  if (getInputs().empty())
    return emitOpError() << "needs at least one tensor";
  Type result = getResult().getType().getElementType();
  for (Value v : getInputs()) {
    Type e = tensorTypeOf(v).getElementType();
    if (!isComputeTypeOrBf16Copy(e, result))
      return emitOpError() << "input element type " << e << " differs from " << result
                           << " (a bf16 copy is allowed for f32)";
  }
  return success();
}

LogicalResult ClipScaleOp::verify() {
  if (!(getMaxNorm().convertToDouble() > 0.0))
    return emitOpError() << "max_norm must be positive";
  return success();
}

LogicalResult LRScheduleOp::verify() {
  double peak = getPeak().convertToDouble(), min = getMin().convertToDouble();
  if (getTotalAttr().getInt() <= 0)
    return emitOpError() << "total must be positive, got " << getTotalAttr().getInt();
  if (getWarmupAttr().getInt() < 0 || getWarmupAttr().getInt() > getTotalAttr().getInt())
    return emitOpError() << "warmup must be in [0, total], got "
                         << getWarmupAttr().getInt();
  if (!(peak > 0) || min < 0 || min > peak)
    return emitOpError() << "needs 0 <= min <= peak and peak > 0";
  return success();
}

LogicalResult AdamWOp::verify() {
  if (failed(expectTypeOrBf16Copy(*this, getGrad(), tensorTypeOf(getParam()), "grad")) ||
      failed(expectScalarOf(*this, getLr(), getParam(), "lr")) ||
      failed(expectScalarOf(*this, getGradScale(), getParam(), "grad_scale")))
    return failure();
  if (failed(expectOptionalBf16Copy(*this, getNewParamCopy(), tensorTypeOf(getParam()),
                                     "new_param_copy", "the new parameter", "parameter")))
    return failure();
  double b1 = getBeta1().convertToDouble(), b2 = getBeta2().convertToDouble();
  if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1))
    return emitOpError() << "beta1 and beta2 must be in [0, 1)";
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError() << "eps must be positive";
  if (!(getWeightDecay().convertToDouble() >= 0.0))
    return emitOpError() << "weight_decay must be non-negative";
  return success();
}

LogicalResult GrowPadOp::verify() {
  auto in = getInput().getType(), out = getType();
  if (in.getRank() != out.getRank() || in.getElementType() != out.getElementType())
    return emitOpError() << "result " << out
                         << " must have the input's rank and element type ("
                         << in << ")";
  for (auto [a, b] : llvm::zip(in.getShape(), out.getShape()))
    if (b < a)
      return emitOpError() << "may not shrink a dimension (" << in << " -> "
                           << out << ")";
  if (getFill() == GrowFill::normal && !(getStd().convertToDouble() > 0.0))
    return emitOpError() << "std must be positive for normal fill";
  return success();
}

LogicalResult GrowFillOp::verify() {
  if (getFill() == GrowFill::normal && !(getStd().convertToDouble() > 0.0))
    return emitOpError() << "std must be positive for normal fill";
  return success();
}

LogicalResult StreamDistanceOp::verify() {
  if (getInput().getType().getRank() < 1)
    return emitOpError() << "input must have rank >= 1 (positions x features)";
  if (failed(expectType(*this, getOutput(), getInput().getType(), "output")) ||
      failed(expectScalarOf(*this, getResult(), getInput(), "result")))
    return failure();
  return success();
}
