//===- Passes.td - tele transformation passes --------------*- tablegen -*-===//
//
// This file declares every pass of the tele dialect. Each pass has one job;
// pipelines composing them live in passes/.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_TRANSFORMS_PASSES_TD
#define TELE_DIALECT_TELE_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TeleExpandModel : Pass<"tele-expand-model", "::mlir::ModuleOp"> {
  let summary = "Expand tele.model ops into tensor-level loss functions";
  let description = [{
    For each `tele.model` (or only the one named by `model`), adds a function
    `@<model>_loss(%tokens, %targets) -> tensor<f32>` computing the mean
    next-token cross-entropy of a `[batch, seq_len]` token batch:
    embedding, then per layer pre-norm attention (RMSNorm, q/k/v projections,
    RoPE on q and k, causal attention, output projection, residual add) and
    pre-norm SwiGLU MLP (gate/up projections, SwiGLU, down projection,
    residual add), a final RMSNorm, the untied LM head, the output multiplier
    `alpha_out` and cross-entropy. Parameters are `tele.param` reads with
    Llama-style names.

    ```mlir
    // Input
    tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
    // Output (abridged)
    func.func @tiny_loss(%tokens: tensor<2x4xi32>, %targets: tensor<2x4xi32>) -> tensor<f32> {
      %emb = tele.param "model.embed_tokens.weight" ... : tensor<16x8xf32>
      %x = tele.embed %emb, %tokens : ...
      ...
      %loss = tele.cross_entropy %logits, %targets : ...
      return %loss : tensor<f32>
    }
    ```
  }];
  let options = [
    Option<"modelName", "model", "std::string", /*default=*/"\"\"",
           "Expand only this model (default: all)">,
    Option<"stageName", "stage", "std::string", /*default=*/"\"\"",
           "Expand the model of this tele.stage with the stage's batch size "
           "(overrides model and batch)">,
    Option<"batch", "batch", "int64_t", /*default=*/"2",
           "Number of sequences per batch">,
    Option<"dtype", "dtype", "std::string", /*default=*/"\"f32\"",
           "Element type of parameters and activations: f32 or f64">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def TeleAutodiff : Pass<"tele-autodiff", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode differentiation of a tensor-level loss function";
  let description = [{
    For the function `func` (default: every function whose name ends in
    `_loss`), adds `@<func>_grad` returning the loss followed by the gradient
    with respect to every `tele.param` read, in order of first read; the
    function gets a `tele.params` array attribute with their names. Gradients
    of values used several times are summed with `tele.add`; growth masks are
    constants and get no gradient.

    ```mlir
    // For %y = tele.linear %x, %w the reverse sweep emits
    %dx = tele.linear_grad_input %dy, %w : ...
    %dw = tele.linear_grad_weight %dy, %x : ...
    ```
  }];
  let options = [
    Option<"funcName", "func", "std::string", /*default=*/"\"\"",
           "Differentiate only this function (default: all *_loss)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def TeleOptimizer : Pass<"tele-optimizer", "::mlir::ModuleOp"> {
  let summary = "Append the AdamW training step to a gradient function";
  let description = [{
    For each `@<model>_loss_grad` function produced by `tele-autodiff` (only
    the stage's model with `stage`), adds
    `@<model>_step(%tokens, %targets, %stage_step, %adam_step)` that computes
    loss and gradients, the global gradient norm, the clip factor, the
    learning rates of the matrix-like and vector-like groups from the stage
    schedule, and one `tele.adamw` per parameter; new parameters and moments
    are written back with `tele.assign`. It returns
    (loss, grad_norm, lr_matrix, lr_vector). Options come from the
    `#tele.stage_config` given by `stage` (a plan stage symbol) or the pass
    options.

    ```mlir
    %p1, %m1, %v1 = tele.adamw %p, %g, %m, %v, %lr, %clip, %t {...} : ...
    tele.assign "model.norm.weight", %p1 : tensor<64xf32>
    tele.assign "optim.m.model.norm.weight", %m1 : tensor<64xf32>
    ```
  }];
  let options = [
    Option<"stageName", "stage", "std::string", /*default=*/"\"\"",
           "Take the schedule and AdamW settings from this tele.stage">,
    Option<"steps", "steps", "int64_t", /*default=*/"100", "Steps of the stage">,
    Option<"warmup", "warmup", "int64_t", /*default=*/"0", "Warmup steps">,
    Option<"lrMatrix", "lr-matrix", "double", /*default=*/"1e-3",
           "Peak LR of matrix-like parameters">,
    Option<"lrVector", "lr-vector", "double", /*default=*/"1e-3",
           "Peak LR of vector-like parameters">,
    Option<"lrMatrixScale", "lr-matrix-scale", "double", /*default=*/"0.0",
           "Multiplier of the matrix-like LR (muP width scaling: d0/d after "
           "width growth); 0: the plan's scale for `stage` (1 without one)">,
  ];
  // It builds a #tele.stage_config from the options before it looks for a
  // gradient function, so the dialect must be loaded even for a module
  // without tele ops.
  let dependentDialects = ["::mlir::tele::TeleDialect"];
}

def TeleLowerGrowth : Pass<"tele-lower-growth", "::mlir::ModuleOp"> {
  let summary = "Lower MSG growth ops to a parameter map and a masked graph";
  let description = [{
    For every `tele.grow.width` / `tele.grow.depth` of the plan (or only the
    `index`-th growth op), adds:

    * `@grow_<source>_to_<target>`: the parameter map, a function without
      arguments that reads every parameter of the source model (and, with
      `moments`, its AdamW moments) and assigns the target model's: old
      blocks copied top-left by `tele.grow.pad`, new entries N(0, init_std),
      new norm gains 1, new first moments 0 and new second moments 0 or the
      mean of the old ones; new layers are copies of their source layer
      (`copy_layers`, required for depth growth) inserted right after it.
    * `@<target>_loss`: the target model's loss with MSG masks on every new
      structure, read as runtime scalars (`mask.hidden`, `mask.attention`,
      `mask.ffn`, `mask.layer.<i>`). At mask value 0 it computes exactly the
      source model's loss.

    ```mlir
    // tele.grow.width @tiny -> @wide {transition_steps = 10} lowers to
    func.func @grow_tiny_to_wide() {
      %e = tele.param "model.embed_tokens.weight" ... : tensor<16x8xf32>
      %e1 = tele.grow.pad %e {fill = #tele.fill<normal>, ...} : tensor<16x8xf32> -> tensor<16x12xf32>
      ...
      tele.assign "model.embed_tokens.weight", %e1 : tensor<16x12xf32>
    }
    ```
  }];
  let options = [
    Option<"growIndex", "index", "int64_t", /*default=*/"-1",
           "Lower only the growth op with this position among the plan's "
           "growth ops (default: all)">,
    Option<"batch", "batch", "int64_t", /*default=*/"2",
           "Sequences per batch of the masked loss function">,
    Option<"dtype", "dtype", "std::string", /*default=*/"\"f32\"",
           "Element type: f32 or f64">,
    Option<"moments", "moments", "bool", /*default=*/"true",
           "Also map the AdamW moments">,
    Option<"seed", "seed", "int64_t", /*default=*/"0",
           "Seed of the random new entries">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def TeleFoldMasks : Pass<"tele-fold-masks", "::mlir::ModuleOp"> {
  let summary = "Remove MSG masks once every mask has reached 1";
  let description = [{
    After the transition every mask value is 1, so a masked graph equals the
    plain graph of the grown model: `tele.mask_mul` by a mask vector becomes
    its input, the masked RMSNorm statistic becomes the plain one and a new
    layer's `tele.lerp(x, Block(x), c)` becomes `Block(x)`. Run it on loss
    functions, before `tele-autodiff`.

    ```mlir
    %y = tele.mask_mul %x, %m : tensor<2x4x12xf32>, tensor<12xf32>   // -> %x
    %z = tele.lerp %a, %b, %c : tensor<2x4x12xf32>, tensor<f32>      // -> %b
    ```
  }];
}

def TeleStageLoss : Pass<"tele-stage-loss", "::mlir::ModuleOp"> {
  let summary = "Build the loss and evaluation functions one stage of a plan trains";
  let description = [{
    Reads the plan through its schedule (the stages in order, each with the
    growth chain applied right before it) and builds what the named stage
    trains, by running the pass that makes it:

    * a stage without growth before it: `tele-expand-model` of its model,
      `@<model>_loss`;
    * a stage after a growth chain: `tele-lower-growth` of the chain (its
      parameter maps `@grow_<source>_to_<target>` and the masked
      `@<model>_loss`), followed by `tele-fold-masks` in the `steady` phase
      (after the transition every mask is 1).

    With `eval` it also adds `@eval(%tokens, %targets) -> (loss, logits)`,
    the model's loss with the same masks plus its logits. A depth growth
    without `copy_layers` copies the first layers (`tele train` ranks the
    layers on a calibration batch and sets them before compiling).

    ```mlir
    // tele-stage-loss{stage=s1 phase=transition} on
    tele.plan @p {
      tele.stage @s0 on @tiny <...>
      tele.grow.width @tiny -> @wide {transition_steps = 10}
      tele.stage @s1 on @wide <...>
    }
    // adds @grow_tiny_to_wide, @wide_loss (masks as runtime scalars), @eval
    ```
  }];
  let options = [
    Option<"stageName", "stage", "std::string", /*default=*/"\"\"",
           "The stage to build (required)">,
    Option<"phase", "phase", "std::string", /*default=*/"\"steady\"",
           "transition (masks are runtime scalars) or steady (masks folded)">,
    Option<"batch", "batch", "int64_t", /*default=*/"0",
           "Sequences per batch (0: the stage's batch)">,
    Option<"dtype", "dtype", "std::string", /*default=*/"\"f32\"",
           "Element type: f32 or f64">,
    Option<"seed", "seed", "int64_t", /*default=*/"0",
           "Seed of the random new entries of a growth">,
    Option<"eval", "eval", "bool", /*default=*/"true",
           "Also build @eval (loss and logits)">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def TeleExtractFunction : Pass<"tele-extract-function", "::mlir::ModuleOp"> {
  let summary = "Keep one function of the module and erase the others";
  let description = [{
    A device program holds one function: the others would add their kernels
    to it. Keeps `function` (by default the module's one `@*_step`, the
    training step `tele-optimizer` builds) and the module's declarations
    (models, plans), and erases every other function.

    ```mlir
    // tele-extract-function on a module with @tiny_loss, @tiny_step, @eval
    // keeps @tiny_step only
    ```
  }];
  let options = [
    Option<"functionName", "function", "std::string", /*default=*/"\"\"",
           "The function to keep (default: the only @*_step)">,
  ];
}

def TeleLayerDistances : Pass<"tele-layer-distances", "::mlir::ModuleOp"> {
  let summary = "Add per-layer residual-stream distance functions";
  let description = [{
    For each `tele.model` (or only `model`), adds
    `@<model>_layer_distances(%tokens) -> (tensor<f32>, ...)`, one result per
    layer: the distance between the layer's input and output residual stream
    on the batch (`tele.stream_distance`, Euclidean or cosine). Depth growth
    copies the layers with the smallest (or largest) distance.

    ```mlir
    %d0 = tele.stream_distance %x0, %x1 {metric = #tele.metric<euclidean>} : tensor<2x4x8xf32> -> tensor<f32>
    ```
  }];
  let options = [
    Option<"modelName", "model", "std::string", /*default=*/"\"\"",
           "Only this model (default: all)">,
    Option<"batch", "batch", "int64_t", /*default=*/"2", "Sequences per batch">,
    Option<"metric", "metric", "std::string", /*default=*/"\"euclidean\"",
           "euclidean or cosine">,
    Option<"dtype", "dtype", "std::string", /*default=*/"\"f32\"",
           "Element type: f32 or f64">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def TeleFuse : Pass<"tele-fuse", "::mlir::func::FuncOp"> {
  let summary = "Fuse tensor-level ops that share their inputs into one op";
  let description = [{
    Rewrites groups of ops into fused ops that the GPU target runs as one
    kernel. Now: `tele.cross_entropy` and `tele.cross_entropy_grad` on the
    same logits and targets (no loss mask), where the gradient's incoming
    scalar does not depend on the loss, become one
    `tele.cross_entropy_fused` that reads the logits once; `tele.attention`
    and `tele.attention_grad` on the same q, k, v become
    `tele.flash_attention` (which also returns the softmax log-sum-exp) and
    `tele.flash_attention_grad` (which reads it and the forward's output
    instead of recomputing the forward); `tele.add` of a `tele.linear` or
    `tele.linear_grad_input` result that only the add reads becomes that
    GEMM with `plus` the other operand (the residual add after a
    projection, the sum of several projections' input gradients), which
    cuBLASLt adds in its epilogue; an add of a `tele.rms_norm_grad` input
    gradient and a value defined before it becomes that op `plus` the value
    (the residual stream's gradient sum, in the norm's row kernel); a sum
    that only a `tele.rms_norm_grad` reads as its output gradient (the
    input gradients of the q/k/v or gate/up projections) becomes that op's
    list of gradients, summed by its row kernel; this runs first, so those
    GEMMs write their own results rather than accumulating. Run it on a
    training step (after `tele-optimizer`); `tele compile --target cuda`
    and `tele train --device cuda` do.

    ```mlir
    %l = tele.cross_entropy %x, %t : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<f32>
    %g = tele.cross_entropy_grad %x, %t, %one : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
    // becomes
    %l, %g = tele.cross_entropy_fused %x, %t, %one : tensor<2x4x16xf32>, tensor<2x4xi32>, tensor<f32>
    ```
  }];
}

def TeleBf16Gemms : Pass<"tele-bf16-gemms", "::mlir::func::FuncOp"> {
  let summary = "Give the GEMMs and flash attention bf16 operands; store bf16 what only they read";
  let description = [{
    Rounds both operands of every f32 `tele.linear`, `tele.linear_grad_input`
    and `tele.linear_grad_weight` to bf16 with a `tele.convert` right before
    the GEMM; the GEMM still writes f32 (cuBLASLt accumulates in fp32), so
    everything around it (norms, softmax, loss, AdamW on fp32 master
    weights) is unchanged. `tele.flash_attention` gets bf16 query, key and
    value, and `tele.flash_attention_grad` those plus the output and its
    gradient (its kernels round them for the tensor cores anyway); softmax
    statistics and gradients stay f32. A conversion is shared by ops that
    read the same value within `reuse-window` ops of its previous use (the
    q/k/v projections of one input; both gradient GEMMs of one incoming
    gradient); further apart the value is converted again, so no bf16 copy
    of an activation lives from the forward to the backward. The weights
    (`tele.param` results, or the function's arguments) are the exception with `keep-weight-copies`
    (the default): each is converted once, before its first GEMM, and the
    backward's GEMMs read the same copy. That keeps a bf16 copy of every
    weight live through the step (two bytes a parameter) and saves a
    conversion kernel per weight per step.

    Where every reader of a value is such a conversion, or an op that may
    read a bf16 copy (SwiGLU's gate and up and its gradient's incoming
    gradient, together; RoPE's input; the fused cross-entropy's logits), and
    its producer can round its own result (RMSNorm, RoPE, SwiGLU and its
    gradient, flash attention's output, its three gradients (all or none:
    they share a type), the fused cross-entropy's logit gradient, a GEMM on
    bf16 operands without an addend), the producer
    writes bf16 and the conversions go: those activations then live, and
    are saved for the backward, in half the memory (the logits and their
    gradient included: the largest tensors of a small model). The output
    gradients of `tele.rms_norm_grad` count as such readers, each on its
    own, so the projections' input-gradient GEMMs it sums write bf16.
    Finally, the bf16 conversions of a `tele.rms_norm_grad` input gradient
    (the residual stream's gradient, which the next projections' gradient
    GEMMs read) become that op's `copy` result, stored by its row kernel.
    `tele compile --target cuda` runs it after `tele-fuse`.

    ```mlir
    %y = tele.linear %x, %w : tensor<2x8x64xf32>, tensor<64x64xf32> -> tensor<2x8x64xf32>
    // becomes
    %xb = tele.convert %x : tensor<2x8x64xf32> -> tensor<2x8x64xbf16>
    %wb = tele.convert %w : tensor<64x64xf32> -> tensor<64x64xbf16>
    %y = tele.linear %xb, %wb : tensor<2x8x64xbf16>, tensor<64x64xbf16> -> tensor<2x8x64xf32>
    ```
  }];
  let options = [
    Option<"reuseWindow", "reuse-window", "int64_t", /*default=*/"8",
           "Ops after a value's previous use by a GEMM or flash attention "
           "within which its bf16 copy is reused">,
    Option<"keepWeightCopies", "keep-weight-copies", "bool", /*default=*/"true",
           "Convert each weight (tele.param result or argument) once per step and reuse "
           "its bf16 copy in the backward, whatever the distance">,
  ];
}

def TeleCacheWeightCopies : Pass<"tele-cache-weight-copies", "::mlir::func::FuncOp"> {
  let summary = "Keep the weights' bf16 copies as state, written by AdamW";
  let description = [{
    After `tele-bf16-gemms` a step converts every weight to bf16 before its
    first GEMM: it reads the f32 weight and writes its copy, 6 bytes a
    parameter, each step. This pass turns each such `tele.convert` of a
    `tele.param` read into a `tele.cached_convert` named `bf16.<param>`, a
    state entry that outlives the step, and where the parameter's AdamW
    update is assigned back to it, gives that `tele.adamw` a `copy` result
    (the new parameter rounded to bf16, 2 more bytes a parameter in a
    kernel that moves 26) assigned to the copy's entry. The next step then
    reads ready copies; the CUDA runtime converts a parameter again only
    where its copy is stale (see `tele.cached_convert`). The values the
    step computes are unchanged: the copy is always the parameter rounded.

    A parameter that the function assigns before reading is left alone (its
    copy would be of another value). `tele compile --target cuda` runs it
    after `tele-bf16-gemms`.

    ```mlir
    %w = tele.param "w" : tensor<64x64xf32>
    %wb = tele.convert %w : tensor<64x64xf32> -> tensor<64x64xbf16>
    ...
    %p1, %m1, %v1 = tele.adamw %w, %g, ... : tensor<64x64xf32>, tensor<f32>, tensor<i64>
    tele.assign "w", %p1 : tensor<64x64xf32>
    // becomes
    %w = tele.param "w" : tensor<64x64xf32>
    %wb = tele.cached_convert "bf16.w", %w : tensor<64x64xf32> -> tensor<64x64xbf16>
    ...
    %p1, %m1, %v1, %c = tele.adamw %w, %g, ... : tensor<64x64xf32>, tensor<f32>, tensor<i64> copy tensor<64x64xbf16>
    tele.assign "w", %p1 : tensor<64x64xf32>
    tele.assign "bf16.w", %c : tensor<64x64xbf16>
    ```
  }];
}

def TelePlanMemory : Pass<"tele-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Assign activations, gradients and scratch a static arena";
  let description = [{
    Plans the device memory of a tensor-level function (a training step) as
    one arena: every value an op produces gets a byte offset, live from its
    definition to its last use; values whose lifetimes do not overlap share
    bytes (first fit, 256-byte aligned). Parameters and optimizer moments
    live in the training state, not the arena: a `tele.adamw` result that is
    only assigned back to the state entry its operand was read from, after
    every other read of it, is updated in place. Constants and mask values
    get their own storage. Scratch buffers an op's kernels need
    (`tele.workspace`, from convert-tele-to-gpu) live for that op only.

    Annotates each op with `tele.offsets` (one per result, -1 for values
    not in the arena), `tele.workspace_offsets` where it has scratch, and
    the function with `tele.arena_bytes` (the planned peak) and
    `tele.unplanned_bytes` (what one buffer per value would need).

    ```mlir
    %3 = tele.rms_norm %1, %2 {eps = 1.0e-05 : f64, tele.offsets = array<i64: 1024>} : ...
    ```
  }];
}

#endif // TELE_DIALECT_TELE_TRANSFORMS_PASSES_TD
