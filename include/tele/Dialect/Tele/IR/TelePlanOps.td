//===- TelePlanOps.td - models, plans, stages, growth ------*- tablegen -*-===//
//
// This file declares the model-level ops: `tele.model`, `tele.plan`,
// `tele.stage` and the growth ops `tele.grow.width` / `tele.grow.depth`
// (docs/growth.md gives their exact meaning).
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_IR_TELEPLANOPS_TD
#define TELE_DIALECT_TELE_IR_TELEPLANOPS_TD

include "tele/Dialect/Tele/IR/TeleAttrs.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"

def Tele_ModelOp : Tele_Op<"model", [Symbol]> {
  let summary = "A decoder-only language model architecture";
  let description = [{
    Names one architecture. The model is expanded into a tensor-level loss
    function by `tele-expand-model`; stages and growth ops refer to it by
    symbol.

    ```mlir
    tele.model @tiny <vocab = 260, hidden = 64, heads = 4, head_dim = 16,
                      ffn = 172, layers = 2, seq_len = 64>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, Tele_ModelConfigAttr:$config);
  let assemblyFormat = "$sym_name $config attr-dict";
}

def Tele_PlanOp : Tele_Op<"plan", [Symbol, SymbolTable, NoTerminator,
                                   SingleBlock]> {
  let summary = "A staged training plan: train, grow, train, ...";
  let description = [{
    An ordered sequence of `tele.stage` ops with growth ops between them.
    It must begin with a stage; each growth op's source is the model of the
    stage before it and its target the model of the stage after it. A width
    and a depth growth may follow each other (a chain: their models chain and
    they apply together, at one step); a chain holds at most one of each.
    Stage names are unique within the plan.

    ```mlir
    tele.plan @default {
      tele.stage @s0 on @tiny <steps = 100, batch = 8, lr_matrix = 3.0e-3, lr_vector = 3.0e-3>
      tele.grow.width @tiny -> @wide {transition_steps = 20}
      tele.stage @s1 on @wide <steps = 100, batch = 8, lr_matrix = 2.0e-3, lr_vector = 3.0e-3>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
}

def Tele_StageOp : Tele_Op<"stage", [Symbol, HasParent<"PlanOp">,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Train one model for a number of steps";
  let description = [{
    One stage of a plan: which model to train and the optimizer and
    learning-rate schedule (`#tele.stage_config`). `data` optionally names a
    directory holding `train.tok` and `val.tok` (relative paths are relative
    to the working directory); without it the stage uses `tele train --data`
    or the default corpus.

    ```mlir
    tele.stage @pretrain on @tiny <steps = 200, batch = 8, lr_matrix = 3.0e-3,
                                   lr_vector = 3.0e-3, warmup = 20>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, FlatSymbolRefAttr:$model,
                       Tele_StageConfigAttr:$config,
                       OptionalAttr<StrAttr>:$data);
  let assemblyFormat = "$sym_name `on` $model $config attr-dict";
}

class Tele_GrowOp<string mnemonic, list<Trait> traits = []>
    : Tele_Op<mnemonic, !listconcat(traits, [HasParent<"PlanOp">,
        DeclareOpInterfaceMethods<SymbolUserOpInterface>])> {
  code commonExtraClassDeclaration = [{
    /// The source and target models, looked up in the nearest symbol table.
    ModelOp getSourceModel();
    ModelOp getTargetModel();
  }];
}

def Tele_GrowWidthOp : Tele_GrowOp<"grow.width"> {
  let summary = "Grow hidden size, attention heads and/or FFN width (MSG)";
  let description = [{
    Function-preserving width growth from the `source` model to the `target`
    model: any subset of `hidden` (with `heads`, since head_dim is fixed),
    `heads` and `ffn` grows; nothing shrinks; layers, vocabulary, head_dim
    and sequence length are equal. Every new structure is multiplied by a mask
    that ramps from 0 to 1 over `transition_steps` optimizer steps, jointly or
    one dimension after another (`schedule`). New entries are drawn from
    N(0, `init_std`); new AdamW second moments are zero or the mean of the
    old ones (`moment_init`).

    ```mlir
    tele.grow.width @tiny -> @wide {transition_steps = 50, schedule = #tele.schedule<sequential>}
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$source, FlatSymbolRefAttr:$target,
      I64Attr:$transition_steps,
      DefaultValuedAttr<Tele_MaskScheduleAttr, "MaskSchedule::joint">:$schedule,
      DefaultValuedAttr<F64Attr, "0.02">:$init_std,
      DefaultValuedAttr<Tele_SecondMomentInitAttr, "SecondMomentInit::zero">:$moment_init);
  let assemblyFormat = "$source `->` $target attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = commonExtraClassDeclaration;
}

def Tele_GrowDepthOp : Tele_GrowOp<"grow.depth"> {
  let summary = "Grow the number of layers by copying layers (MSG)";
  let description = [{
    Function-preserving depth growth from `source` to `target`, which differ
    only in `layers`. Each new layer is a copy of an existing layer inserted
    right after it and computes `x + c * (Block(x) - x)`, the identity at
    c = 0. Layers are ranked by the distance between their input and output
    residual stream on a calibration batch (`metric`: euclidean or cosine) and
    the `smallest` (default) or `largest` are copied. When the target adds
    more than `layers` layers every layer gets floor(added / layers) copies
    and the rest go by rank. `copy_layers` records the chosen source layers
    (one entry per new layer, sorted); `tele train` fills it in from a
    calibration batch before the growth is lowered.

    ```mlir
    tele.grow.depth @wide -> @deep {transition_steps = 50, metric = #tele.metric<cosine>}
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$source, FlatSymbolRefAttr:$target,
      I64Attr:$transition_steps,
      DefaultValuedAttr<Tele_DistanceMetricAttr, "DistanceMetric::euclidean">:$metric,
      DefaultValuedAttr<Tele_LayerSelectionAttr, "LayerSelection::smallest">:$select,
      DefaultValuedAttr<Tele_SecondMomentInitAttr, "SecondMomentInit::zero">:$moment_init,
      OptionalAttr<DenseI64ArrayAttr>:$copy_layers);
  let assemblyFormat = "$source `->` $target attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = commonExtraClassDeclaration;
}

#endif // TELE_DIALECT_TELE_IR_TELEPLANOPS_TD
