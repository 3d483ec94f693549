// RUN: tele-opt %s -split-input-file --tele-extract-function -verify-diagnostics
// RUN: not tele-opt %s --tele-extract-function="function=nope" --split-input-file 2>&1 | FileCheck %s --check-prefix=NOPE

// tele-extract-function without a function name needs exactly one @*_step.

// NOPE: no function named @nope

// expected-error @+1 {{tele-extract-function: expected exactly one @*_step function, found 2 (functions: a_step, b_step)}}
module {
  func.func @a_step() { return }
  func.func @b_step() { return }
}

// -----

// expected-error @+1 {{tele-extract-function: expected exactly one @*_step function, found 0 (functions: none)}}
module {
}
