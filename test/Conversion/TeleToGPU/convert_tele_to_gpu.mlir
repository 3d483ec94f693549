// RUN: tele-opt %s --split-input-file --convert-tele-to-gpu | FileCheck %s

// Elementwise ops get one vectorized kernel each; identical ops share one.
// CHECK-LABEL: func.func @elementwise
// CHECK: tele.swiglu {{.*}}tele.block = array<i64: 256, 1, 1>, tele.grid = array<i64: 1, 1, 1>, tele.kernel = @tele_kernels::@[[SWIGLU:swiglu_64xf32]]
// CHECK: tele.add {{.*}}tele.kernel = @tele_kernels::@[[ADD:add_64xf32]]
// CHECK: tele.add {{.*}}tele.kernel = @tele_kernels::@[[ADD]]
// CHECK: gpu.module @tele_kernels
// CHECK: gpu.func @[[SWIGLU]](%[[G:.*]]: memref<64xf32>, %[[U:.*]]: memref<64xf32>, %[[Y:.*]]: memref<64xf32>) kernel
// CHECK: %[[GV:.*]] = vector.load %[[G]][%{{.*}}] {alignment = 16 : i64} : memref<64xf32>, vector<4xf32>
// CHECK: math.exp
// CHECK: vector.store %{{.*}}, %[[Y]][%{{.*}}] {alignment = 16 : i64} : memref<64xf32>, vector<4xf32>
// CHECK: gpu.func @[[ADD]]
// CHECK-NOT: gpu.func @add_64xf32_
func.func @elementwise(%g: tensor<2x4x8xf32>, %u: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %s = tele.swiglu %g, %u : tensor<2x4x8xf32>
  %a = tele.add %s, %g : tensor<2x4x8xf32>
  %b = tele.add %a, %u : tensor<2x4x8xf32>
  return %b : tensor<2x4x8xf32>
}

// -----

// A size that is not a multiple of 4 falls back to one element per thread;
// scalars (the lerp weight) are loaded once and broadcast.
// CHECK-LABEL: func.func @scalar_fallback
// CHECK: gpu.func @lerp_30xf32(%[[X:.*]]: memref<30xf32>, %[[Y:.*]]: memref<30xf32>, %[[C:.*]]: memref<1xf32>, %{{.*}}: memref<30xf32>) kernel
// CHECK: vector.load %[[X]]{{.*}}vector<1xf32>
// CHECK: %[[CV:.*]] = memref.load %[[C]]
// CHECK: vector.broadcast %[[CV]] : f32 to vector<1xf32>
func.func @scalar_fallback(%x: tensor<2x15xf32>, %y: tensor<2x15xf32>, %c: tensor<f32>) -> tensor<2x15xf32> {
  %r = tele.lerp %x, %y, %c : tensor<2x15xf32>, tensor<f32>
  return %r : tensor<2x15xf32>
}

// -----

// RMSNorm: one warp per row, the statistic reduced with xor shuffles; the
// masked variant reads the mask.
// CHECK-LABEL: func.func @norms
// CHECK: tele.rms_norm {{.*}}tele.block = array<i64: 32, 1, 1>, tele.grid = array<i64: 6, 1, 1>, tele.kernel = @tele_kernels::@rms_norm_6x64xf32
// CHECK: tele.rms_norm {{.*}}tele.kernel = @tele_kernels::@rms_norm_masked_6x64xf32
// CHECK: gpu.func @rms_norm_6x64xf32
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: math.rsqrt
// CHECK: gpu.func @rms_norm_masked_6x64xf32(%{{.*}}: memref<384xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: memref<384xf32>) kernel
func.func @norms(%x: tensor<2x3x64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>) -> (tensor<2x3x64xf32>, tensor<2x3x64xf32>) {
  %a = tele.rms_norm %x, %g {eps = 1.0e-05 : f64} : tensor<2x3x64xf32>, tensor<64xf32>
  %b = tele.rms_norm %x, %g mask %m {eps = 1.0e-05 : f64} : tensor<2x3x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %a, %b : tensor<2x3x64xf32>, tensor<2x3x64xf32>
}

// -----

// GEMMs are library calls and f64 ops are not generated yet: no kernel.
// CHECK-LABEL: func.func @no_kernel
// CHECK: tele.linear
// CHECK-NOT: tele.kernel
// CHECK: tele.add
// CHECK-NOT: tele.kernel
// CHECK: return
func.func @no_kernel(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %d: tensor<4xf64>) -> (tensor<2x4xf32>, tensor<4xf64>) {
  %y = tele.linear %x, %w : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x4xf32>
  %z = tele.add %d, %d : tensor<4xf64>
  return %y, %z : tensor<2x4xf32>, tensor<4xf64>
}

// -----

// RoPE and its inverse: chunks of four features and their rotate-half
// partners, angles from the position and the frequency index.
// CHECK-LABEL: func.func @rope
// CHECK: tele.rope {{.*}}tele.kernel = @tele_kernels::@rope_64x8xf32
// CHECK: tele.rope {{.*}}tele.kernel = @tele_kernels::@rope_inverse_64x8xf32
// CHECK: gpu.func @rope_64x8xf32(%[[X:.*]]: memref<64xf32>, %[[Y:.*]]: memref<64xf32>) kernel
// CHECK: vector.load %[[X]]{{.*}}vector<4xf32>
// CHECK: vector.load %[[X]]{{.*}}vector<4xf32>
// CHECK: math.cos
// CHECK: math.sin
// CHECK: vector.store {{.*}}, %[[Y]]
// CHECK: gpu.func @rope_inverse_64x8xf32
func.func @rope(%x: tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %r = tele.rope %x {head_dim = 8 : i64, theta = 1.0e+04 : f64} : tensor<2x4x8xf32>
  %i = tele.rope %x {head_dim = 8 : i64, inverse, theta = 1.0e+04 : f64} : tensor<2x4x8xf32>
  return %r, %i : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}
