// RUN: tele-opt %s -split-input-file -verify-diagnostics

// tele.grow.fill has no verifier: unlike tele.grow.pad it accepts a normal
// fill with std <= 0 (N(0, 0) or N(0, -1) for the new entries).

// A zero standard deviation.
func.func @fill_std_zero(%v: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'tele.grow.fill' op std must be positive for normal fill}}
  %y = tele.grow.fill %v {fill = #tele.fill<normal>, std = 0.0 : f64} : tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

// A negative standard deviation.
func.func @fill_std_negative(%v: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'tele.grow.fill' op std must be positive for normal fill}}
  %y = tele.grow.fill %v {fill = #tele.fill<normal>, std = -1.0 : f64} : tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}
