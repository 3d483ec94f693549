//===- TeleBase.td - tele dialect definition ---------------*- tablegen -*-===//
//
// This file declares the tele dialect and the base class of its ops. The
// dialect has two levels: model-level ops (models, training plans, growth)
// and tensor-level ops (what a model expands into, and what autodiff and the
// optimizer add).
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_IR_TELEBASE_TD
#define TELE_DIALECT_TELE_IR_TELEBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Tele_Dialect : Dialect {
  let name = "tele";
  let cppNamespace = "::mlir::tele";
  let summary = "Training programs for decoder-only language models that grow.";
  let description = [{
    The `tele` dialect describes how a Llama-style decoder (pre-norm RMSNorm,
    SwiGLU, RoPE, untied embeddings, no biases) is trained and grown.

    *Model level*: `tele.model` names an architecture by a
    `#tele.config<...>` attribute; `tele.plan` is an ordered list of
    `tele.stage` (train a model for some steps) and growth ops
    (`tele.grow.width`, `tele.grow.depth`) between stages, following Masked
    Structural Growth (MSG).

    *Tensor level*: `tele-expand-model` turns a model into a function over
    statically shaped tensors built from `tele.param`, `tele.embed`,
    `tele.rms_norm`, `tele.linear`, `tele.rope`, `tele.attention`,
    `tele.swiglu`, `tele.cross_entropy` and friends. `tele-autodiff` adds the
    `*_grad` ops, `tele-optimizer` the AdamW update.

    ```mlir
    tele.model @tiny <vocab = 260, hidden = 64, heads = 4, head_dim = 16,
                      ffn = 172, layers = 2, seq_len = 64>
    ```
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

class Tele_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tele_Dialect, mnemonic, traits>;

// Tensor constraints shared by the tensor-level ops.
def Tele_FloatTensor : StaticShapeTensorOf<[F32, F64, BF16, F16]>;
def Tele_TokenTensor : StaticShapeTensorOf<[I32]>;
def Tele_Scalar : 0DTensorOf<[F32, F64, BF16, F16]>;
def Tele_StepScalar : 0DTensorOf<[I64]>;

#endif // TELE_DIALECT_TELE_IR_TELEBASE_TD
