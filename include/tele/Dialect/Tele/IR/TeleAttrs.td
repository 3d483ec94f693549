//===- TeleAttrs.td - tele attributes and enums ------------*- tablegen -*-===//
//
// This file declares the attributes of the tele dialect: the model
// configuration, the stage (optimizer and schedule) configuration, and the
// enums used by growth ops and parameters.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_IR_TELEATTRS_TD
#define TELE_DIALECT_TELE_IR_TELEATTRS_TD

include "tele/Dialect/Tele/IR/TeleBase.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tele_DistanceMetric : I32EnumAttr<"DistanceMetric",
    "distance between a layer's input and output residual stream", [
      I32EnumAttrCase<"euclidean", 0>, I32EnumAttrCase<"cosine", 1>]> {
  let cppNamespace = "::mlir::tele";
  let genSpecializedAttr = 0;
}
def Tele_DistanceMetricAttr : EnumAttr<Tele_Dialect, Tele_DistanceMetric, "metric"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tele_LayerSelection : I32EnumAttr<"LayerSelection",
    "which layers a depth growth copies", [
      I32EnumAttrCase<"smallest", 0>, I32EnumAttrCase<"largest", 1>]> {
  let cppNamespace = "::mlir::tele";
  let genSpecializedAttr = 0;
}
def Tele_LayerSelectionAttr : EnumAttr<Tele_Dialect, Tele_LayerSelection, "select"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tele_MaskSchedule : I32EnumAttr<"MaskSchedule",
    "how the masks of several grown dimensions ramp from 0 to 1", [
      I32EnumAttrCase<"joint", 0>, I32EnumAttrCase<"sequential", 1>]> {
  let cppNamespace = "::mlir::tele";
  let genSpecializedAttr = 0;
}
def Tele_MaskScheduleAttr : EnumAttr<Tele_Dialect, Tele_MaskSchedule, "schedule"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tele_SecondMomentInit : I32EnumAttr<"SecondMomentInit",
    "initial AdamW second moment of new parameter entries", [
      I32EnumAttrCase<"zero", 0>, I32EnumAttrCase<"mean", 1>]> {
  let cppNamespace = "::mlir::tele";
  let genSpecializedAttr = 0;
}
def Tele_SecondMomentInitAttr : EnumAttr<Tele_Dialect, Tele_SecondMomentInit, "moment_init"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tele_DecayKind : I32EnumAttr<"DecayKind", "learning-rate decay after warmup", [
      I32EnumAttrCase<"cosine", 0>, I32EnumAttrCase<"linear", 1>,
      I32EnumAttrCase<"constant", 2>]> {
  let cppNamespace = "::mlir::tele";
  let genSpecializedAttr = 0;
}
def Tele_DecayKindAttr : EnumAttr<Tele_Dialect, Tele_DecayKind, "decay"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tele_ParamGroup : I32EnumAttr<"ParamGroup",
    "optimizer group of a parameter (Tele-FLM uses separate learning rates)", [
      I32EnumAttrCase<"matrix", 0>, I32EnumAttrCase<"vector", 1>]> {
  let cppNamespace = "::mlir::tele";
  let genSpecializedAttr = 0;
}
def Tele_ParamGroupAttr : EnumAttr<Tele_Dialect, Tele_ParamGroup, "group"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tele_ParamInit : I32EnumAttr<"ParamInit", "initial value of a parameter", [
      I32EnumAttrCase<"normal", 0>, I32EnumAttrCase<"ones", 1>,
      I32EnumAttrCase<"zeros", 2>]> {
  let cppNamespace = "::mlir::tele";
  let genSpecializedAttr = 0;
}
def Tele_ParamInitAttr : EnumAttr<Tele_Dialect, Tele_ParamInit, "init"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tele_GrowFill : I32EnumAttr<"GrowFill", "how new entries of a grown tensor are filled", [
      I32EnumAttrCase<"normal", 0>, I32EnumAttrCase<"ones", 1>,
      I32EnumAttrCase<"zeros", 2>, I32EnumAttrCase<"mean", 3>]> {
  let cppNamespace = "::mlir::tele";
  let genSpecializedAttr = 0;
}
def Tele_GrowFillAttr : EnumAttr<Tele_Dialect, Tele_GrowFill, "fill"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

// A floating-point attribute parameter printed and parsed as a plain number.
class Tele_FloatParam<string desc, string default>
    : AttrParameter<"::llvm::APFloat", desc> {
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let parser = "::mlir::tele::parseFloatParameter($_parser)";
  let printer = "$_printer.printFloat($_self)";
  let defaultValue = "::llvm::APFloat(double(" # default # "))";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class Tele_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tele_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Tele_ModelConfigAttr : Tele_Attr<"ModelConfig", "config"> {
  let summary = "Architecture of a Llama-style decoder";
  let description = [{
    Every shape of the model. `hidden` must equal `heads * head_dim`.
    `alpha_out` multiplies the logits (Tele-FLM: 1/32 at 52B) and is held
    fixed through growth; `init_std` is the standard deviation of the normal
    initialisation of weight matrices; `rope_theta` and `eps` (RMSNorm) have
    the usual defaults and are omitted when equal to them.

    ```mlir
    #tele.config<vocab = 260, hidden = 64, heads = 4, head_dim = 16,
                 ffn = 172, layers = 2, seq_len = 64, alpha_out = 1.0>
    ```
  }];
  let parameters = (ins
    "int64_t":$vocab, "int64_t":$hidden, "int64_t":$heads, "int64_t":$head_dim,
    "int64_t":$ffn, "int64_t":$layers, "int64_t":$seq_len,
    Tele_FloatParam<"RMSNorm epsilon", "1e-5">:$eps,
    Tele_FloatParam<"RoPE base", "10000.0">:$rope_theta,
    Tele_FloatParam<"logit multiplier", "1.0">:$alpha_out,
    Tele_FloatParam<"init standard deviation", "0.02">:$init_std);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Number of trainable parameters of a model with this configuration.
    int64_t getNumParameters() const;
    double getEpsValue() const { return getEps().convertToDouble(); }
    double getRopeThetaValue() const { return getRopeTheta().convertToDouble(); }
    double getAlphaOutValue() const { return getAlphaOut().convertToDouble(); }
    double getInitStdValue() const { return getInitStd().convertToDouble(); }
  }];
}

def Tele_StageConfigAttr : Tele_Attr<"StageConfig", "stage_config"> {
  let summary = "Optimizer and learning-rate schedule of one training stage";
  let description = [{
    `steps` optimizer steps on batches of `batch` sequences. Matrix-like
    parameters (2-D weights inside blocks and the LM head) and vector-like
    parameters (norm gains, the embedding) have separate peak and minimum
    learning rates. The schedule warms up linearly over `warmup` steps and
    then decays (`cosine`, `linear` or `constant`) to the minimum at the last
    step. AdamW with `beta1`, `beta2`, `adam_eps`, decoupled `weight_decay`
    on matrix-like parameters only, and global-norm clipping at `clip`.

    ```mlir
    #tele.stage_config<steps = 100, batch = 8, lr_matrix = 3.0e-3,
                       lr_vector = 3.0e-3, warmup = 10>
    ```
  }];
  let parameters = (ins
    "int64_t":$steps, "int64_t":$batch,
    Tele_FloatParam<"peak LR of matrix-like parameters", "0.0">:$lr_matrix,
    Tele_FloatParam<"peak LR of vector-like parameters", "0.0">:$lr_vector,
    Tele_FloatParam<"minimum LR of matrix-like parameters", "0.0">:$min_lr_matrix,
    Tele_FloatParam<"minimum LR of vector-like parameters", "0.0">:$min_lr_vector,
    DefaultValuedParameter<"int64_t", "0">:$warmup,
    DefaultValuedParameter<"::mlir::tele::DecayKind", "::mlir::tele::DecayKind::cosine">:$decay,
    Tele_FloatParam<"decoupled weight decay", "0.1">:$weight_decay,
    Tele_FloatParam<"global gradient-norm clip", "1.0">:$clip,
    Tele_FloatParam<"AdamW beta1", "0.9">:$beta1,
    Tele_FloatParam<"AdamW beta2", "0.95">:$beta2,
    Tele_FloatParam<"AdamW epsilon", "1e-8">:$adam_eps);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // TELE_DIALECT_TELE_IR_TELEATTRS_TD
