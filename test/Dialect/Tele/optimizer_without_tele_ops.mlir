// RUN: not tele-opt %s --tele-optimizer 2>&1 | FileCheck %s
// RUN: not tele-opt %s --tele-training-step 2>&1 | FileCheck %s

// A module without tele ops (the tele dialect is not loaded by the parser):
// tele-optimizer reports that there is nothing to extend. It used to abort
// building its #tele.stage_config ("storage uniquer isn't initialized");
// found by tele-ir-fuzzer.

// CHECK: error: tele-optimizer: no gradient function found (run tele-autodiff first)

func.func @f() {
  return
}
