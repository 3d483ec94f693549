//===- TeleTensorOps.td - tensor-level ops -----------------*- tablegen -*-===//
//
// This file declares the tensor-level ops: what `tele-expand-model` produces
// (forward), what `tele-autodiff` adds (`*_grad`) and what `tele-optimizer`
// adds (norms, schedule, AdamW, state updates). All shapes are static.
// Activations are [batch, seq, features]; weights are stored [out, in];
// attention and RoPE work on [batch, seq, heads * head_dim] directly.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_IR_TELETENSOROPS_TD
#define TELE_DIALECT_TELE_IR_TELETENSOROPS_TD

include "tele/Dialect/Tele/IR/TeleAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Tele_PureOp<string mnemonic, list<Trait> traits = []>
    : Tele_Op<mnemonic, !listconcat(traits, [Pure])>;

//===----------------------------------------------------------------------===//
// Training state: parameters, masks, assignments
//===----------------------------------------------------------------------===//

def Tele_ParamOp : Tele_Op<"param", [MemoryEffects<[MemRead]>]> {
  let summary = "Read a named parameter (or optimizer state) tensor";
  let description = [{
    Reads the current value of the named training-state tensor. Names follow
    the Llama/Hugging Face convention (`model.layers.0.self_attn.q_proj.weight`);
    optimizer moments are `optim.m.<name>` / `optim.v.<name>`. `group` picks
    the optimizer group (matrix-like or vector-like learning rate), `init` how
    the tensor is initialised (normal with the model's `init_std`, ones, zeros).

    ```mlir
    %w = tele.param "model.layers.0.mlp.up_proj.weight" {group = #tele.group<matrix>, init = #tele.init<normal>} : tensor<172x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name,
      DefaultValuedAttr<Tele_ParamGroupAttr, "ParamGroup::matrix">:$group,
      DefaultValuedAttr<Tele_ParamInitAttr, "ParamInit::normal">:$init);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tele_AssignOp : Tele_Op<"assign", [MemoryEffects<[MemWrite]>]> {
  let summary = "Overwrite a named training-state tensor";
  let description = [{
    Stores `value` as the new value of the named state tensor (a parameter or
    an optimizer moment). Reads of the same name earlier in the function see
    the old value.

    ```mlir
    tele.assign "model.norm.weight", %new : tensor<64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, AnyStaticShapeTensor:$value);
  let assemblyFormat = "$name `,` $value attr-dict `:` type($value)";
}

def Tele_MaskValueOp : Tele_Op<"mask_value", [MemoryEffects<[MemRead]>]> {
  let summary = "Read the current value of a growth mask";
  let description = [{
    The scalar c of one grown structure: 0 at the growth step, rising to 1
    over the transition. It is a runtime input, not a learned parameter.

    ```mlir
    %c = tele.mask_value "mask.hidden" : tensor<f32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Tele_Scalar:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def Tele_MaskVectorOp : Tele_PureOp<"mask_vector"> {
  let summary = "Build an MSG mask [1]*kept ++ [c]*(n - kept)";
  let description = [{
    The per-feature mask of a grown dimension: the first `kept` entries (the
    old structure) are 1, the rest are the scalar `c`.

    ```mlir
    %m = tele.mask_vector %c {kept = 64} : tensor<f32> -> tensor<96xf32>
    ```
  }];
  let arguments = (ins Tele_Scalar:$value, I64Attr:$kept);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$value attr-dict `:` type($value) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Forward ops
//===----------------------------------------------------------------------===//

def Tele_EmbedOp : Tele_PureOp<"embed"> {
  let summary = "Embedding lookup";
  let description = [{
    `result[b, t, :] = table[tokens[b, t], :]`.

    ```mlir
    %x = tele.embed %table, %tokens : tensor<260x64xf32>, tensor<2x64xi32> -> tensor<2x64x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$table, Tele_TokenTensor:$tokens);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$table `,` $tokens attr-dict `:` type($table) `,` type($tokens) `->` type($result)";
  let hasVerifier = 1;
}

def Tele_RMSNormOp : Tele_PureOp<"rms_norm", [AllShapesMatch<["input", "result"]>]> {
  let summary = "RMSNorm with gain, optionally with an MSG width mask";
  let description = [{
    `y = gain * x / sqrt(sum_i m_i x_i^2 / sum_i m_i + eps)` over the last
    dimension; without `mask` m is all ones (plain RMSNorm). Statistics are
    computed in at least fp32. The result has the input's type, or bf16 for
    an f32 input when only bf16 GEMMs read it (`tele-bf16-gemms`; printed
    as `-> tensor<...xbf16>`).

    ```mlir
    %y = tele.rms_norm %x, %g mask %m {eps = 1.0e-05 : f64} : tensor<2x8x96xf32>, tensor<96xf32>, tensor<96xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$input, Tele_FloatTensor:$gain,
                       Optional<Tele_FloatTensor>:$mask, F64Attr:$eps);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $gain (`mask` $mask^)? attr-dict `:` type($input) `,` type($gain) (`,` type($mask)^)?
    ``custom<NarrowedResult>(ref(type($input)), type($result))
  }];
  let hasVerifier = 1;
}

def Tele_LinearOp : Tele_PureOp<"linear"> {
  let summary = "Multiply by a weight stored [out, in] (no bias)";
  let description = [{
    `result[..., n] = sum_k input[..., k] * weight[n, k]`. Lowered to a GEMM.
    Input and weight share an element type; with bf16 or f16 operands the
    result may be f32 (the GEMM accumulates in f32), as `tele-bf16-gemms`
    makes them. With `plus %r` (r has the result's type) the GEMM's epilogue
    adds r: `tele-fuse` folds a residual add into the projection before it.

    ```mlir
    %q = tele.linear %x, %wq : tensor<2x8x64xf32>, tensor<64x64xf32> -> tensor<2x8x64xf32>
    %h = tele.linear %o, %wo plus %x : tensor<2x8x64xf32>, tensor<64x64xf32>, tensor<2x8x64xf32> -> tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$input, Tele_FloatTensor:$weight,
                       Optional<Tele_FloatTensor>:$addend);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`plus` $addend^)? attr-dict `:` type($input) `,` type($weight)
    (`,` type($addend)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tele_RopeOp : Tele_PureOp<"rope", [AllShapesMatch<["input", "result"]>]> {
  let summary = "Rotary position embedding (rotate-half), per head";
  let description = [{
    Rotates each `head_dim`-wide head of `[batch, seq, heads * head_dim]` by
    position-dependent angles `t * theta^(-2i/head_dim)` in the rotate-half
    convention. With `inverse` the rotation is by the negative angle, which is
    also the gradient of the forward rotation. It computes in f32; the input
    may be a bf16 copy and the result may be stored as bf16
    (`tele-bf16-gemms`); with f64 everything is f64.

    ```mlir
    %qr = tele.rope %q {head_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$input, I64Attr:$head_dim, F64Attr:$theta,
                       UnitAttr:$inverse);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = [{
    $input attr-dict `:` type($input)``custom<NarrowedResult>(ref(type($input)), type($result))
  }];
  let hasVerifier = 1;
}

def Tele_AttentionOp : Tele_PureOp<"attention", [AllTypesMatch<["query", "key", "value", "result"]>]> {
  let summary = "Causal multi-head attention";
  let description = [{
    For each head, `softmax(q k^T / sqrt(head_dim) + causal) v` with softmax
    in fp32; q, k, v and the result are `[batch, seq, heads * head_dim]`.

    ```mlir
    %a = tele.attention %q, %k, %v {head_dim = 16 : i64} : tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$query, Tele_FloatTensor:$key,
                       Tele_FloatTensor:$value, I64Attr:$head_dim);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$query `,` $key `,` $value attr-dict `:` type($query)";
  let hasVerifier = 1;
}

def Tele_SwiGLUOp : Tele_PureOp<"swiglu", [AllTypesMatch<["gate", "up"]>, AllShapesMatch<["gate", "result"]>]> {
  let summary = "SwiGLU product silu(gate) * up";
  let description = [{
    Computes in f32; `gate` and `up` (together) may be bf16 copies and the
    result may be stored as bf16 (`tele-bf16-gemms`); with f64 everything is
    f64.

    ```mlir
    %h = tele.swiglu %g, %u : tensor<2x8x172xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$gate, Tele_FloatTensor:$up);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = [{
    $gate `,` $up attr-dict `:` type($gate)``custom<NarrowedResult>(ref(type($gate)), type($result))
  }];
  let hasVerifier = 1;
}

def Tele_AddOp : Tele_PureOp<"add", [Commutative, AllTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "Elementwise sum (residual add, gradient accumulation)";
  let description = [{
    ```mlir
    %y = tele.add %x, %r : tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$lhs, Tele_FloatTensor:$rhs);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs)";
}

def Tele_ScaleOp : Tele_PureOp<"scale", [AllTypesMatch<["input", "result"]>]> {
  let summary = "Multiply by a constant factor";
  let description = [{
    Used for the output multiplier `alpha_out` on the logits.

    ```mlir
    %y = tele.scale %x {factor = 3.125000e-02 : f64} : tensor<2x8x260xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$input, F64Attr:$factor);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tele_MaskMulOp : Tele_PureOp<"mask_mul", [AllTypesMatch<["input", "result"]>]> {
  let summary = "Multiply the last dimension by a mask vector";
  let description = [{
    `result[..., i] = input[..., i] * mask[i]`: how MSG scales the
    contribution of new features, heads or FFN channels.

    ```mlir
    %y = tele.mask_mul %x, %m : tensor<2x8x96xf32>, tensor<96xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$input, Tele_FloatTensor:$mask);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$input `,` $mask attr-dict `:` type($input) `,` type($mask)";
  let hasVerifier = 1;
}

def Tele_LerpOp : Tele_PureOp<"lerp", [AllTypesMatch<["start", "end", "result"]>]> {
  let summary = "x + c * (y - x) with a scalar c";
  let description = [{
    A new layer inserted by depth growth computes `lerp(x, Block(x), c)`:
    the identity at c = 0, the plain block at c = 1.

    ```mlir
    %y = tele.lerp %x, %b, %c : tensor<2x8x64xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$start, Tele_FloatTensor:$end, Tele_Scalar:$weight);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$start `,` $end `,` $weight attr-dict `:` type($start) `,` type($weight)";
  let hasVerifier = 1;
}

def Tele_CrossEntropyOp : Tele_PureOp<"cross_entropy"> {
  let summary = "Mean softmax cross-entropy of logits against target tokens";
  let description = [{
    `mean_r w_r * (logsumexp(logits[r]) - logits[r, target[r]])` over all
    positions r, with w the optional `loss_mask` (ones by default; SFT masks
    prompt tokens) and the mean taken over sum(w). Computed in fp32 or wider.

    ```mlir
    %loss = tele.cross_entropy %logits, %targets : tensor<2x8x260xf32>, tensor<2x8xi32> -> tensor<f32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$logits, Tele_TokenTensor:$targets,
                       Optional<Tele_FloatTensor>:$loss_mask);
  let results = (outs Tele_Scalar:$result);
  let assemblyFormat = [{
    $logits `,` $targets (`mask` $loss_mask^)? attr-dict `:` type($logits) `,` type($targets) (`,` type($loss_mask)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Gradient ops (added by tele-autodiff)
//===----------------------------------------------------------------------===//

def Tele_LinearGradInputOp : Tele_PureOp<"linear_grad_input"> {
  let summary = "Input gradient of tele.linear: dy · W";
  let description = [{
    With `plus %r` the result is dy · W + r (gradient accumulation in the
    GEMM's epilogue, made by `tele-fuse`).

    ```mlir
    %dx = tele.linear_grad_input %dy, %w : tensor<2x8x172xf32>, tensor<172x64xf32> -> tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$grad, Tele_FloatTensor:$weight,
                       Optional<Tele_FloatTensor>:$addend);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $weight (`plus` $addend^)? attr-dict `:` type($grad) `,` type($weight)
    (`,` type($addend)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Tele_LinearGradWeightOp : Tele_PureOp<"linear_grad_weight"> {
  let summary = "Weight gradient of tele.linear: dy^T · x over all positions";
  let description = [{
    ```mlir
    %dw = tele.linear_grad_weight %dy, %x : tensor<2x8x172xf32>, tensor<2x8x64xf32> -> tensor<172x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$grad, Tele_FloatTensor:$input);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($grad) `,` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Tele_EmbedGradOp : Tele_PureOp<"embed_grad"> {
  let summary = "Table gradient of tele.embed (scatter-add by token)";
  let description = [{
    ```mlir
    %dt = tele.embed_grad %dy, %tokens : tensor<2x8x64xf32>, tensor<2x8xi32> -> tensor<260x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$grad, Tele_TokenTensor:$tokens);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $tokens attr-dict `:` type($grad) `,` type($tokens) `->` type($result)";
  let hasVerifier = 1;
}

def Tele_RMSNormGradOp : Tele_PureOp<"rms_norm_grad", [AttrSizedOperandSegments, AllTypesMatch<["input", "input_grad"]>, AllTypesMatch<["gain", "gain_grad"]>]> {
  let summary = "Input and gain gradients of tele.rms_norm";
  let description = [{
    The norm's output gradient is the sum of `grads` (one or more, each
    shaped like the input): `tele-fuse` folds the sum of several
    projections' input gradients (q, k and v; gate and up) into the norm's
    backward, so each GEMM writes its own gradient (bf16, after
    `tele-bf16-gemms`) instead of accumulating into an f32 one.

    With `plus %r` (r has the input's type) the input gradient is the norm's
    plus r: `tele-fuse` folds the residual stream's gradient sum into the
    norm's backward kernel.

    With a `copy` result the kernel also stores the input gradient rounded
    to bf16 (`tele-bf16-gemms` folds the conversion the GEMMs that read it
    would need).

    Gradients of another type than the input (bf16 copies) are listed after
    `grads`.

    ```mlir
    %dx, %dg = tele.rms_norm_grad %x, %g, %dy {eps = 1.0e-05 : f64} : tensor<2x8x64xf32>, tensor<64xf32>
    %dx2, %dg2 = tele.rms_norm_grad %x, %g, %dy plus %r {eps = 1.0e-05 : f64} : tensor<2x8x64xf32>, tensor<64xf32> plus tensor<2x8x64xf32>
    %dx3, %dg3, %c = tele.rms_norm_grad %x, %g, %dq, %dk plus %r {eps = 1.0e-05 : f64} : tensor<2x8x64xf32>, tensor<64xf32> plus tensor<2x8x64xf32> grads (tensor<2x8x64xbf16>, tensor<2x8x64xbf16>) copy tensor<2x8x64xbf16>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$input, Tele_FloatTensor:$gain,
                       Variadic<Tele_FloatTensor>:$grads, Optional<Tele_FloatTensor>:$mask,
                       Optional<Tele_FloatTensor>:$addend, F64Attr:$eps);
  let results = (outs Tele_FloatTensor:$input_grad, Tele_FloatTensor:$gain_grad,
                      Optional<Tele_FloatTensor>:$input_grad_copy);
  let assemblyFormat = [{
    $input `,` $gain `,` $grads (`mask` $mask^)? (`plus` $addend^)? attr-dict `:` type($input) `,`
    type($gain) (`,` type($mask)^)? (`plus` type($addend)^)?``
    custom<GradTypes>(ref(type($input)), ref($grads), type($grads))
    (`copy` type($input_grad_copy)^)?
  }];
  let hasVerifier = 1;
}

def Tele_AttentionGradOp : Tele_PureOp<"attention_grad", [AllTypesMatch<["query", "key", "value", "grad", "query_grad", "key_grad", "value_grad"]>]> {
  let summary = "Gradients of tele.attention with respect to q, k and v";
  let description = [{
    ```mlir
    %dq, %dk, %dv = tele.attention_grad %q, %k, %v, %dy {head_dim = 16 : i64} : tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$query, Tele_FloatTensor:$key,
                       Tele_FloatTensor:$value, Tele_FloatTensor:$grad, I64Attr:$head_dim);
  let results = (outs Tele_FloatTensor:$query_grad, Tele_FloatTensor:$key_grad,
                      Tele_FloatTensor:$value_grad);
  let assemblyFormat = "$query `,` $key `,` $value `,` $grad attr-dict `:` type($query)";
  let hasVerifier = 1;
}

def Tele_SwiGLUGradOp : Tele_PureOp<"swiglu_grad", [AllTypesMatch<["gate", "up", "grad"]>, AllShapesMatch<["gate", "gate_grad", "up_grad"]>]> {
  let summary = "Gate and up gradients of tele.swiglu";
  let description = [{
    Computes in f32; `gate`, `up` and `grad` (together) may be bf16 copies
    and either gradient may be stored as bf16 (`tele-bf16-gemms`; printed
    `-> (type, type)`); with f64 everything is f64.

    ```mlir
    %dg, %du = tele.swiglu_grad %g, %u, %dy : tensor<2x8x172xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$gate, Tele_FloatTensor:$up, Tele_FloatTensor:$grad);
  let results = (outs Tele_FloatTensor:$gate_grad, Tele_FloatTensor:$up_grad);
  let assemblyFormat = [{
    $gate `,` $up `,` $grad attr-dict `:` type($gate)
    ``custom<NarrowedResults>(ref(type($gate)), type($gate_grad), type($up_grad))
  }];
  let hasVerifier = 1;
}

def Tele_LerpGradOp : Tele_PureOp<"lerp_grad", [AllTypesMatch<["grad", "start_grad", "end_grad"]>]> {
  let summary = "Gradients of tele.lerp with respect to start and end";
  let description = [{
    `(1 - c) * dy` and `c * dy`; masks are constants, so no gradient for c.

    ```mlir
    %dx, %db = tele.lerp_grad %dy, %c : tensor<2x8x64xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$grad, Tele_Scalar:$weight);
  let results = (outs Tele_FloatTensor:$start_grad, Tele_FloatTensor:$end_grad);
  let assemblyFormat = "$grad `,` $weight attr-dict `:` type($grad) `,` type($weight)";
  let hasVerifier = 1;
}

def Tele_CrossEntropyGradOp : Tele_PureOp<"cross_entropy_grad", [AllTypesMatch<["logits", "result"]>]> {
  let summary = "Logit gradient of tele.cross_entropy";
  let description = [{
    `dloss * w_r / sum(w) * (softmax(logits[r]) - onehot(target[r]))`.

    ```mlir
    %dl = tele.cross_entropy_grad %logits, %targets, %dloss : tensor<2x8x260xf32>, tensor<2x8xi32>, tensor<f32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$logits, Tele_TokenTensor:$targets,
                       Tele_Scalar:$grad, Optional<Tele_FloatTensor>:$loss_mask);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = [{
    $logits `,` $targets `,` $grad (`mask` $loss_mask^)? attr-dict `:` type($logits) `,` type($targets) `,` type($grad) (`,` type($loss_mask)^)?
  }];
  let hasVerifier = 1;
}

def Tele_CrossEntropyFusedOp : Tele_PureOp<"cross_entropy_fused", [AllShapesMatch<["logits", "logits_grad"]>, AllTypesMatch<["grad", "loss"]>]> {
  let summary = "Cross-entropy and its logit gradient in one pass";
  let description = [{
    The fusion of `tele.cross_entropy` and `tele.cross_entropy_grad` on the
    same logits and targets (made by `tele-fuse`): `loss` is the mean of
    `-log softmax(logits[r])[target[r]]`, `logits_grad` is
    `grad / rows * (softmax(logits[r]) - onehot(target[r]))`. `grad` must not
    depend on `loss` (in a training step it is the constant seed 1), so both
    come from one read of the logits; the probabilities are never stored.

    It computes in the element type of `grad` and `loss`. With f32, the
    logits may be a bf16 copy and `logits_grad` may be stored as bf16
    (`tele-bf16-gemms`: the LM head's GEMM writes bf16 logits, its gradient
    GEMMs read bf16 anyway); the result type is then written after `->`
    where it differs from the logits'.

    ```mlir
    %loss, %dl = tele.cross_entropy_fused %logits, %targets, %one : tensor<2x8x260xf32>, tensor<2x8xi32>, tensor<f32>
    %loss2, %dl2 = tele.cross_entropy_fused %logits_bf16, %targets, %one : tensor<2x8x260xbf16>, tensor<2x8xi32>, tensor<f32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$logits, Tele_TokenTensor:$targets,
                       Tele_Scalar:$grad);
  let results = (outs Tele_Scalar:$loss, Tele_FloatTensor:$logits_grad);
  let assemblyFormat = [{
    $logits `,` $targets `,` $grad attr-dict `:` type($logits) `,` type($targets) `,` type($grad)``custom<NarrowedResult>(ref(type($logits)), type($logits_grad))
  }];
  let hasVerifier = 1;
}

def Tele_ConvertOp : Tele_PureOp<"convert", [SameOperandsAndResultShape]> {
  let summary = "Round a tensor to another floating-point element type";
  let description = [{
    Elementwise conversion (round to nearest even). Made by
    `tele-bf16-gemms`, which rounds the operands of the GEMMs to bf16 right
    before them; converting to the same type folds away.

    ```mlir
    %xb = tele.convert %x : tensor<2x8x64xf32> -> tensor<2x8x64xbf16>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$input);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Tele_CachedConvertOp : Tele_PureOp<"cached_convert", [SameOperandsAndResultShape]> {
  let summary = "A parameter's bf16 copy, kept as training state between steps";
  let description = [{
    The value is `tele.convert` of `input` (round to nearest even), and
    `input` is a `tele.param` read: the copy of a weight that the GEMMs
    read. Made by `tele-cache-weight-copies`, which also lets the AdamW
    update of the parameter store the copy (its `copy` result, assigned
    to `name`): the step then finds the copy of its updated weights ready
    instead of converting every weight again.

    The CUDA runtime keeps the copy as the state entry `name` and converts
    the parameter again only where the copy is stale: before a program's
    first run, after the parameter was uploaded, or after a program wrote
    the parameter without its copy. The parameter must not be assigned
    before this op in the function (the copy is of its value at entry).

    ```mlir
    %w = tele.param "model.layers.0.mlp.up_proj.weight" : tensor<172x64xf32>
    %wb = tele.cached_convert "bf16.model.layers.0.mlp.up_proj.weight", %w : tensor<172x64xf32> -> tensor<172x64xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name, Tele_FloatTensor:$input);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$name `,` $input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Tele_FlashAttentionOp : Tele_PureOp<"flash_attention", [AllTypesMatch<["query", "key", "value"]>]> {
  let summary = "Causal attention that also returns its softmax statistics";
  let description = [{
    `tele.attention` plus the log-sum-exp of every (batch, head, position)
    row of scaled scores, `lse : [batch, heads, seq]`, for
    `tele.flash_attention_grad`. Made by `tele-fuse` from an attention whose
    gradient is taken, so the backward needs no second forward pass.

    The log-sum-exp's element type (f32 or f64) is the type the op computes
    in. `tele-bf16-gemms` may make the inputs bf16 (copies rounded for the
    tensor cores) and the result bf16 (rounded when stored, where every
    reader would round it anyway); both are otherwise of the compute type.

    ```mlir
    %a, %lse = tele.flash_attention %q, %k, %v {head_dim = 16 : i64} : tensor<2x8x64xf32> -> tensor<2x8x64xf32>, tensor<2x4x8xf32>
    %b, %lse2 = tele.flash_attention %qb, %kb, %vb {head_dim = 16 : i64} : tensor<2x8x64xbf16> -> tensor<2x8x64xbf16>, tensor<2x4x8xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$query, Tele_FloatTensor:$key,
                       Tele_FloatTensor:$value, I64Attr:$head_dim);
  let results = (outs Tele_FloatTensor:$result, Tele_FloatTensor:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict `:` type($query) `->` type($result) `,` type($lse)
  }];
  let hasVerifier = 1;
}

def Tele_FlashAttentionGradOp : Tele_PureOp<"flash_attention_grad", [AllTypesMatch<["query", "key", "value"]>, AllTypesMatch<["query_grad", "key_grad", "value_grad"]>]> {
  let summary = "Gradients of tele.flash_attention from its output and statistics";
  let description = [{
    The gradients `tele.attention_grad` computes, from the forward's output
    and log-sum-exp instead of a recomputed forward pass. As for
    `tele.flash_attention`, the log-sum-exp's element type is the compute
    type; the inputs (`query`, `key`, `value`, `output`, `grad`) may be bf16
    copies, and so may the gradients, all three together (computed in the
    compute type, rounded as they are stored: tele-bf16-gemms narrows them
    where their readers only convert them or may read bf16).

    ```mlir
    %dq, %dk, %dv = tele.flash_attention_grad %q, %k, %v, %out, %lse, %dout {head_dim = 16 : i64} : tensor<2x8x64xf32>, tensor<2x8x64xf32>, tensor<2x4x8xf32>, tensor<2x8x64xf32> -> tensor<2x8x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$query, Tele_FloatTensor:$key,
                       Tele_FloatTensor:$value, Tele_FloatTensor:$output,
                       Tele_FloatTensor:$lse, Tele_FloatTensor:$grad, I64Attr:$head_dim);
  let results = (outs Tele_FloatTensor:$query_grad, Tele_FloatTensor:$key_grad,
                      Tele_FloatTensor:$value_grad);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $output `,` $lse `,` $grad attr-dict `:`
    type($query) `,` type($output) `,` type($lse) `,` type($grad) `->` type($query_grad)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Optimizer ops (added by tele-optimizer)
//===----------------------------------------------------------------------===//

def Tele_GlobalNormOp : Tele_PureOp<"global_norm"> {
  let summary = "L2 norm over a list of tensors";
  let description = [{
    `sqrt(sum over all tensors and elements of g^2)`, accumulated in fp64.
    Inputs have the result's element type, or are bf16 copies for an f32
    result (weight gradients that `tele-bf16-gemms` narrowed).

    ```mlir
    %n = tele.global_norm %g0, %g1 : tensor<64xf32>, tensor<64x64xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins Variadic<Tele_FloatTensor>:$inputs);
  let results = (outs Tele_Scalar:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def Tele_ClipScaleOp : Tele_PureOp<"clip_scale", [AllTypesMatch<["norm", "result"]>]> {
  let summary = "Gradient scale factor of global-norm clipping";
  let description = [{
    `min(1, max_norm / (norm + 1e-6))` (PyTorch's clip_grad_norm_).

    ```mlir
    %s = tele.clip_scale %n {max_norm = 1.0 : f64} : tensor<f32>
    ```
  }];
  let arguments = (ins Tele_Scalar:$norm, F64Attr:$max_norm);
  let results = (outs Tele_Scalar:$result);
  let assemblyFormat = "$norm attr-dict `:` type($norm)";
  let hasVerifier = 1;
}

def Tele_LRScheduleOp : Tele_PureOp<"lr_schedule"> {
  let summary = "Learning rate at a step of a stage";
  let description = [{
    Linear warmup from `peak / warmup` to `peak` over `warmup` steps, then
    decay (`cosine`, `linear` or `constant`) to `min` at step `total`.
    `step` counts optimizer steps within the stage from 0.

    ```mlir
    %lr = tele.lr_schedule %step {peak = 3.0e-03 : f64, min = 3.0e-04 : f64, warmup = 10 : i64, total = 100 : i64, decay = #tele.decay<cosine>} : tensor<i64> -> tensor<f32>
    ```
  }];
  let arguments = (ins Tele_StepScalar:$step, F64Attr:$peak, F64Attr:$min,
                       I64Attr:$warmup, I64Attr:$total, Tele_DecayKindAttr:$decay);
  let results = (outs Tele_Scalar:$result);
  let assemblyFormat = "$step attr-dict `:` type($step) `->` type($result)";
  let hasVerifier = 1;
}

def Tele_AdamWOp : Tele_PureOp<"adamw", [AllTypesMatch<["param", "moment1", "moment2", "new_param", "new_moment1", "new_moment2"]>, AllTypesMatch<["lr", "grad_scale"]>]> {
  let summary = "One AdamW update of a parameter and its moments";
  let description = [{
    With g' = g * `grad_scale` (the clip factor): m = b1 m + (1-b1) g',
    v = b2 v + (1-b2) g'^2, p = p - lr * wd * p - lr * m_hat / (sqrt(v_hat) + eps)
    where the hats are bias-corrected with the 1-based optimizer step.
    Decoupled weight decay as in PyTorch's AdamW. The gradient has the
    parameter's type, or is a bf16 copy of an f32 one (a weight gradient
    that `tele-bf16-gemms` narrowed), printed after `grad` then.

    With a `copy` result the kernel also stores the new parameter rounded
    to bf16: the copy `tele.cached_convert` keeps for the next step's GEMMs
    (`tele-cache-weight-copies` adds it).

    ```mlir
    %p1, %m1, %v1 = tele.adamw %p, %g, %m, %v, %lr, %s, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-08 : f64, weight_decay = 0.1 : f64} : tensor<64x64xf32>, tensor<f32>, tensor<i64>
    %q1, %n1, %w1 = tele.adamw %p, %gb, %m, %v, %lr, %s, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-08 : f64, weight_decay = 0.1 : f64} : tensor<64x64xf32>, tensor<f32>, tensor<i64> grad tensor<64x64xbf16>
    %p2, %m2, %v2, %c = tele.adamw %p, %gb, %m, %v, %lr, %s, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-08 : f64, weight_decay = 0.1 : f64} : tensor<64x64xf32>, tensor<f32>, tensor<i64> grad tensor<64x64xbf16> copy tensor<64x64xbf16>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$param, Tele_FloatTensor:$grad,
                       Tele_FloatTensor:$moment1, Tele_FloatTensor:$moment2,
                       Tele_Scalar:$lr, Tele_Scalar:$grad_scale, Tele_StepScalar:$step,
                       F64Attr:$beta1, F64Attr:$beta2, F64Attr:$eps, F64Attr:$weight_decay);
  let results = (outs Tele_FloatTensor:$new_param, Tele_FloatTensor:$new_moment1,
                      Tele_FloatTensor:$new_moment2, Optional<Tele_FloatTensor>:$new_param_copy);
  let assemblyFormat = [{
    $param `,` $grad `,` $moment1 `,` $moment2 `,` $lr `,` $grad_scale `,` $step attr-dict `:` type($param) `,` type($lr) `,` type($step)``
    custom<AdamWGradType>(ref(type($param)), type($grad))
    (`copy` type($new_param_copy)^)?
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Growth ops (added by tele-lower-growth)
//===----------------------------------------------------------------------===//

def Tele_GrowPadOp : Tele_PureOp<"grow.pad"> {
  let summary = "Embed a tensor in the top-left block of a larger one";
  let description = [{
    The parameter map of MSG growth: the result has the old tensor in its
    top-left block (every dimension may grow, none may shrink) and new
    entries filled with N(0, `std`) drawn from a generator seeded by `seed`
    (`normal`), ones (new norm gains), zeros (new first moments) or the mean
    of the old entries (`mean`, to seed new second moments).

    ```mlir
    %w1 = tele.grow.pad %w {fill = #tele.fill<normal>, std = 2.0e-02 : f64, seed = 7 : i64} : tensor<64x64xf32> -> tensor<96x96xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$input, Tele_GrowFillAttr:$fill,
                       DefaultValuedAttr<F64Attr, "0.02">:$std,
                       DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Tele_GrowFillOp : Tele_PureOp<"grow.fill", [AllTypesMatch<["input", "result"]>]> {
  let summary = "A fresh tensor shaped like its input";
  let description = [{
    Every entry is new: N(0, `std`) from a generator seeded by `seed`
    (`normal`), ones, zeros, or the mean of the input's entries (`mean`).
    Depth growth uses it for the AdamW moments of a copied layer, which start
    afresh like any new structure.

    ```mlir
    %v1 = tele.grow.fill %v {fill = #tele.fill<mean>} : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$input, Tele_GrowFillAttr:$fill,
                       DefaultValuedAttr<F64Attr, "0.02">:$std,
                       DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs Tele_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Tele_StreamDistanceOp : Tele_PureOp<"stream_distance", [AllTypesMatch<["input", "output"]>]> {
  let summary = "Distance between a layer's input and output residual stream";
  let description = [{
    Depth growth ranks layers by how much they change the residual stream:
    `euclidean` is `mean_t ||out_t - in_t||`, `cosine` is
    `1 - mean_t cos(in_t, out_t)`, over all positions t.

    ```mlir
    %d = tele.stream_distance %x_in, %x_out {metric = #tele.metric<euclidean>} : tensor<2x8x64xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins Tele_FloatTensor:$input, Tele_FloatTensor:$output,
                       Tele_DistanceMetricAttr:$metric);
  let results = (outs Tele_Scalar:$result);
  let assemblyFormat = "$input `,` $output attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif // TELE_DIALECT_TELE_IR_TELETENSOROPS_TD
