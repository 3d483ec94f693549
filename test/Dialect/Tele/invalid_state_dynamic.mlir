// RUN: tele-opt %s -split-input-file -verify-diagnostics

// tele.param and tele.assign still accept dynamically shaped tensors
// (AnyRankedTensor) although every tensor-level op now requires static
// shapes: a dynamic parameter can be read and written but not used by any
// other tele op, and the runtime state has no shape for it.

// A parameter read has a static shape.
func.func @param_dynamic() -> tensor<?x8xf32> {
  // expected-error @+1 {{'tele.param' op}}
  %p = tele.param "model.norm.weight" : tensor<?x8xf32>
  return %p : tensor<?x8xf32>
}

// -----

// A state write has a static shape.
func.func @assign_dynamic(%x: tensor<?xf32>) {
  // expected-error @+1 {{'tele.assign' op}}
  tele.assign "model.norm.weight", %x : tensor<?xf32>
  return
}
