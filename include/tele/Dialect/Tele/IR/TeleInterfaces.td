//===- TeleInterfaces.td - op interfaces of the tele dialect -*- tablegen -*-===//
//
// This file declares the interfaces that several tele ops share. A growth op
// (`tele.grow.width`, `tele.grow.depth`) is read through GrowthOpInterface
// wherever the code needs only what every growth has: the models it grows
// from and to, how long its transition lasts and how new second moments
// start.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_DIALECT_TELE_IR_TELEINTERFACES_TD
#define TELE_DIALECT_TELE_IR_TELEINTERFACES_TD

include "mlir/IR/OpBase.td"

def Tele_GrowthOpInterface : OpInterface<"GrowthOpInterface"> {
  let description = [{
    An MSG growth of a plan: a function-preserving step from the `source`
    model to the `target` model whose new structures are multiplied by masks
    that ramp from 0 to 1 over `transition_steps` optimizer steps. Growth ops
    in a row (no stage between them) form a chain applied at one step.
  }];
  let cppNamespace = "::mlir::tele";
  let methods = [
    InterfaceMethod<"The symbol of the model grown from.",
      "::mlir::FlatSymbolRefAttr", "getSourceAttr">,
    InterfaceMethod<"The symbol of the model grown to.",
      "::mlir::FlatSymbolRefAttr", "getTargetAttr">,
    InterfaceMethod<"Optimizer steps over which the masks ramp 0 -> 1.",
      "uint64_t", "getTransitionSteps">,
    InterfaceMethod<"How the new AdamW second moments start.",
      "::mlir::tele::SecondMomentInit", "getMomentInit">,
  ];
  let extraClassDeclaration = [{
    /// The models grown from and to, looked up beside the plan (models are
    /// siblings of the plan, not symbols of it). Defined in TeleOps.cpp,
    /// where ModelOp is complete.
    ::mlir::tele::ModelOp getSourceModel();
    ::mlir::tele::ModelOp getTargetModel();
  }];
}

#endif // TELE_DIALECT_TELE_IR_TELEINTERFACES_TD
