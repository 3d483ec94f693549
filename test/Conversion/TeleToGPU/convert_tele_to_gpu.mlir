// RUN: tele-opt %s --split-input-file --convert-tele-to-gpu | FileCheck %s

// Elementwise ops get one vectorized kernel each; identical ops share one.
// CHECK-LABEL: func.func @elementwise
// CHECK: tele.swiglu {{.*}}tele.launches = [{args = array<i64: 0, 1, 2>, block = array<i64: 256, 1, 1>, grid = array<i64: 1, 1, 1>, kernel = @tele_kernels::@[[SWIGLU:swiglu_64xf32]]}]
// CHECK: tele.add {{.*}}kernel = @tele_kernels::@[[ADD:add_64xf32]]
// CHECK: tele.add {{.*}}kernel = @tele_kernels::@[[ADD]]
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

// RMSNorm: one warp per row, four rows a block; each lane reads chunks of
// the row (two floats when it is 64 wide, four when a multiple of 128,
// single guarded floats when not a multiple of 32), the statistic reduced
// with xor shuffles; the masked variant reads the mask.
// CHECK-LABEL: func.func @norms
// CHECK: tele.rms_norm {{.*}}block = array<i64: 128, 1, 1>, grid = array<i64: 2, 1, 1>, kernel = @tele_kernels::@rms_norm_6x64xf32
// CHECK: tele.rms_norm {{.*}}kernel = @tele_kernels::@rms_norm_masked_6x64xf32
// CHECK: tele.rms_norm {{.*}}kernel = @tele_kernels::@rms_norm_6x128xf32
// CHECK: tele.rms_norm {{.*}}kernel = @tele_kernels::@rms_norm_6x40xf32
// CHECK: gpu.func @rms_norm_6x64xf32
// CHECK: vector.load {{.*}} : memref<384xf32>, vector<2xf32>
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: math.rsqrt
// CHECK: vector.store {{.*}} : memref<384xf32>, vector<2xf32>
// CHECK: gpu.func @rms_norm_masked_6x64xf32(%{{.*}}: memref<384xf32>, %{{.*}}: memref<64xf32>, %[[M:.*]]: memref<64xf32>, %{{.*}}: memref<384xf32>) kernel
// CHECK: vector.load %[[M]]
// CHECK: gpu.func @rms_norm_6x128xf32
// CHECK: vector.load {{.*}} : memref<768xf32>, vector<4xf32>
// CHECK: gpu.func @rms_norm_6x40xf32
// CHECK: scf.if {{.*}} -> (vector<1xf32>)
// CHECK: vector.load {{.*}} : memref<240xf32>, vector<1xf32>
func.func @norms(%x: tensor<2x3x64xf32>, %g: tensor<64xf32>, %m: tensor<64xf32>, %xw: tensor<2x3x128xf32>, %gw: tensor<128xf32>, %xr: tensor<2x3x40xf32>, %gr: tensor<40xf32>) -> (tensor<2x3x64xf32>, tensor<2x3x64xf32>, tensor<2x3x128xf32>, tensor<2x3x40xf32>) {
  %a = tele.rms_norm %x, %g {eps = 1.0e-05 : f64} : tensor<2x3x64xf32>, tensor<64xf32>
  %b = tele.rms_norm %x, %g mask %m {eps = 1.0e-05 : f64} : tensor<2x3x64xf32>, tensor<64xf32>, tensor<64xf32>
  %c = tele.rms_norm %xw, %gw {eps = 1.0e-05 : f64} : tensor<2x3x128xf32>, tensor<128xf32>
  %d = tele.rms_norm %xr, %gr {eps = 1.0e-05 : f64} : tensor<2x3x40xf32>, tensor<40xf32>
  return %a, %b, %c, %d : tensor<2x3x64xf32>, tensor<2x3x64xf32>, tensor<2x3x128xf32>, tensor<2x3x40xf32>
}

// -----

// GEMMs are library calls and f64 ops are not generated yet: no kernel.
// CHECK-LABEL: func.func @no_kernel
// CHECK: tele.linear
// CHECK-NOT: tele.launches
// CHECK: tele.add
// CHECK-NOT: tele.launches
// CHECK: return
func.func @no_kernel(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %d: tensor<4xf64>) -> (tensor<2x4xf32>, tensor<4xf64>) {
  %y = tele.linear %x, %w : tensor<2x8xf32>, tensor<4x8xf32> -> tensor<2x4xf32>
  %z = tele.add %d, %d : tensor<4xf64>
  return %y, %z : tensor<2x4xf32>, tensor<4xf64>
}

// -----

// RoPE and its inverse: chunks of four features and their rotate-half
// partners, angles from the position and the frequency index, reduced to
// [-pi, pi] by the nearest multiple of 2 pi (two-part constant), then the
// approximate sine and cosine per lane.
// CHECK-LABEL: func.func @rope
// CHECK: tele.rope {{.*}}kernel = @tele_kernels::@rope_64x8xf32
// CHECK: tele.rope {{.*}}kernel = @tele_kernels::@rope_inverse_64x8xf32
// CHECK: gpu.func @rope_64x8xf32(%[[X:.*]]: memref<64xf32>, %[[Y:.*]]: memref<64xf32>) kernel
// CHECK: vector.load %[[X]]{{.*}}vector<4xf32>
// CHECK: vector.load %[[X]]{{.*}}vector<4xf32>
// CHECK: math.roundeven
// CHECK: math.fma
// CHECK: math.fma
// CHECK: math.sin {{.*}} fastmath<afn> : f32
// CHECK: math.cos {{.*}} fastmath<afn> : f32
// CHECK-COUNT-3: math.cos {{.*}} fastmath<afn> : f32
// CHECK-NOT: math.sincos
// CHECK: vector.store {{.*}}, %[[Y]]
// CHECK: gpu.func @rope_inverse_64x8xf32
func.func @rope(%x: tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %r = tele.rope %x {head_dim = 8 : i64, theta = 1.0e+04 : f64} : tensor<2x4x8xf32>
  %i = tele.rope %x {head_dim = 8 : i64, inverse, theta = 1.0e+04 : f64} : tensor<2x4x8xf32>
  return %r, %i : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}

// -----

// RMSNorm backward: each warp walks 8 rows (args index operands, results,
// then workspaces), writing dx and reducing the squares and dy g x with
// shuffles, and leaves its sums of the gain gradient's terms in a row of
// the workspace; a column kernel adds the warps' rows in order, without
// atomics (dgain needs no zeroing). A row this narrow needs no shared
// memory.
// CHECK-LABEL: func.func @norm_grad
// CHECK: tele.rms_norm_grad {{.*}}tele.launches = [{args = array<i64: 0, 1, 2, 3, 5>, block = array<i64: 128, 1, 1>, grid = array<i64: 1, 1, 1>, kernel = @tele_kernels::@rms_norm_grad_6x64xf32}, {args = array<i64: 5, 4>, block = array<i64: 1024, 1, 1>, grid = array<i64: 2, 1, 1>, kernel = @tele_kernels::@rms_norm_gain_grad_1x64xf32}], tele.workspace = array<i64: 256>}
// CHECK: gpu.func @rms_norm_grad_6x64xf32
// CHECK-NOT: workgroup(
// CHECK: scf.for {{.*}} -> (vector<2xf32>)
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK-NOT: gpu.shuffle
// CHECK-NOT: nvvm.barrier
// CHECK: gpu.func @rms_norm_gain_grad_1x64xf32
// CHECK: scf.for
// CHECK-NOT: memref.atomic_rmw
// CHECK: gpu.return
func.func @norm_grad(%x: tensor<2x3x64xf32>, %g: tensor<64xf32>, %dy: tensor<2x3x64xf32>) -> (tensor<2x3x64xf32>, tensor<64xf32>) {
  %dx, %dg = tele.rms_norm_grad %x, %g, %dy {eps = 1.0e-05 : f64} : tensor<2x3x64xf32>, tensor<64xf32>
  return %dx, %dg : tensor<2x3x64xf32>, tensor<64xf32>
}

// -----

// A wide row (1024 features) is shared by two warps, which add their
// warps' sums through shared memory (two sums, two row parities, four
// warps: 16 floats) behind a named barrier of the row's 64 threads; the
// gradients are summed as they are loaded (bf16, widened), and dx is also
// stored as its bf16 copy (launch argument 7, after dx 5 and dgain 6).
// CHECK-LABEL: func.func @norm_grad_wide
// CHECK: tele.rms_norm_grad {{.*}}tele.launches = [{args = array<i64: 0, 1, 2, 3, 4, 5, 7, 8>, block = array<i64: 128, 1, 1>, grid = array<i64: 1, 1, 1>, kernel = @tele_kernels::@rms_norm_grad_plus_sum2_16x1024xf32_ffbbf_ffb}, {args = array<i64: 8, 6>, block = array<i64: 1024, 1, 1>, grid = array<i64: 32, 1, 1>, kernel = @tele_kernels::@rms_norm_gain_grad_2x1024xf32}], tele.workspace = array<i64: 8192>}
// CHECK: gpu.func @rms_norm_grad_plus_sum2_16x1024xf32_ffbbf_ffb({{.*}}) workgroup(%[[SUMS:.*]] : memref<16xf32, #gpu.address_space<workgroup>>) kernel
// CHECK: %[[DQ:.*]] = vector.load %arg2[{{.*}}] {{.*}}: memref<16384xbf16>, vector<4xbf16>
// CHECK: %[[DQF:.*]] = arith.extf %[[DQ]]
// CHECK: %[[DK:.*]] = vector.load %arg3[{{.*}}] {{.*}}: memref<16384xbf16>, vector<4xbf16>
// CHECK: %[[DKF:.*]] = arith.extf %[[DK]]
// CHECK: arith.addf %[[DQF]], %[[DKF]]
// CHECK-COUNT-10: gpu.shuffle  xor
// CHECK: memref.store {{.*}}, %[[SUMS]]
// CHECK: memref.store {{.*}}, %[[SUMS]]
// CHECK: nvvm.barrier id = %{{.*}} number_of_threads = %c64_i32
// CHECK: memref.load %[[SUMS]]
// CHECK: vector.store {{.*}}, %arg5[{{.*}}] {{.*}}: memref<16384xf32>, vector<4xf32>
// CHECK: vector.store {{.*}}, %arg6[{{.*}}] {{.*}}: memref<16384xbf16>, vector<4xbf16>
func.func @norm_grad_wide(%x: tensor<2x8x1024xf32>, %g: tensor<1024xf32>, %dq: tensor<2x8x1024xbf16>,
                          %dk: tensor<2x8x1024xbf16>, %r: tensor<2x8x1024xf32>)
    -> (tensor<2x8x1024xf32>, tensor<1024xf32>, tensor<2x8x1024xbf16>) {
  %dx, %dg, %c = tele.rms_norm_grad %x, %g, %dq, %dk plus %r {eps = 1.0e-05 : f64} : tensor<2x8x1024xf32>, tensor<1024xf32> plus tensor<2x8x1024xf32> grads (tensor<2x8x1024xbf16>, tensor<2x8x1024xbf16>) copy tensor<2x8x1024xbf16>
  return %dx, %dg, %c : tensor<2x8x1024xf32>, tensor<1024xf32>, tensor<2x8x1024xbf16>
}

// -----

// Embedding: a vectorized gather with clamped token ids; its gradient a
// scatter-add with atomics into the zeroed table.
// CHECK-LABEL: func.func @embedding
// CHECK: tele.embed {{.*}}kernel = @tele_kernels::@embed_8x10x16xf32
// CHECK: tele.embed_grad {{.*}}kernel = @tele_kernels::@embed_grad_8x10x16xf32}], tele.zeroed = array<i64: 2>
// CHECK: gpu.func @embed_8x10x16xf32
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: vector.load {{.*}}vector<4xf32>
// CHECK: gpu.func @embed_grad_8x10x16xf32
// CHECK: memref.atomic_rmw addf
func.func @embedding(%t: tensor<10x16xf32>, %ids: tensor<2x4xi32>, %dy: tensor<2x4x16xf32>) -> (tensor<2x4x16xf32>, tensor<10x16xf32>) {
  %e = tele.embed %t, %ids : tensor<10x16xf32>, tensor<2x4xi32> -> tensor<2x4x16xf32>
  %g = tele.embed_grad %dy, %ids : tensor<2x4x16xf32>, tensor<2x4xi32> -> tensor<10x16xf32>
  return %e, %g : tensor<2x4x16xf32>, tensor<10x16xf32>
}

// -----

// Cross-entropy: a warp per row with an online max/sum in the log2 domain
// (50 logits a row: single guarded logits, -inf past the end); the forward
// adds row losses / rows atomically into the zeroed scalar and never writes
// probabilities; the backward recomputes the statistics.
// CHECK-LABEL: func.func @loss
// CHECK: tele.cross_entropy {{.*}}kernel = @tele_kernels::@cross_entropy_8x50xf32}], tele.zeroed = array<i64: 2>
// CHECK: tele.cross_entropy_grad {{.*}}kernel = @tele_kernels::@cross_entropy_grad_8x50xf32
// CHECK: gpu.func @cross_entropy_8x50xf32
// CHECK: scf.for
// CHECK: arith.constant dense<0xFF800000> : vector<1xf32>
// CHECK: vector.reduction <maximumf>
// CHECK: math.exp2
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: math.log2
// CHECK: memref.atomic_rmw addf
// CHECK: gpu.func @cross_entropy_grad_8x50xf32
// CHECK-NOT: memref.atomic_rmw
// CHECK: vector.store
func.func @loss(%l: tensor<2x4x50xf32>, %t: tensor<2x4xi32>, %g: tensor<f32>) -> (tensor<f32>, tensor<2x4x50xf32>) {
  %c = tele.cross_entropy %l, %t : tensor<2x4x50xf32>, tensor<2x4xi32> -> tensor<f32>
  %d = tele.cross_entropy_grad %l, %t, %g : tensor<2x4x50xf32>, tensor<2x4xi32>, tensor<f32>
  return %c, %d : tensor<f32>, tensor<2x4x50xf32>
}

// -----

// Attention: a block per 64 rows of one (batch, head), key tiles staged in
// shared memory, online softmax over keys j <= i; the backward runs a
// query-side kernel (dQ, and the row's log-sum-exp and dO.O into two
// workspaces) and a key-side kernel (dK, dV).
// CHECK-LABEL: func.func @attention
// CHECK: tele.attention {{.*}}tele.launches = [{args = array<i64: 0, 1, 2, 3>, block = array<i64: 64, 1, 1>, grid = array<i64: 1, 4, 1>, kernel = @tele_kernels::@attention_2x4x2x8xf32}]
// CHECK: tele.attention_grad {{.*}}tele.launches = [{args = array<i64: 0, 1, 2, 3, 4, 7, 8>, {{.*}}kernel = @tele_kernels::@attention_grad_query_2x4x2x8xf32}, {args = array<i64: 0, 1, 2, 3, 7, 8, 5, 6>, {{.*}}kernel = @tele_kernels::@attention_grad_key_2x4x2x8xf32}], tele.workspace = array<i64: 64, 64>
// CHECK: gpu.func @attention_2x4x2x8xf32({{.*}}) workgroup(%{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>, %{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>) kernel
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: vector.load {{.*}}#gpu.address_space<workgroup>>, vector<4xf32>
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: vector.fma
// CHECK: gpu.func @attention_grad_query_2x4x2x8xf32
// CHECK: math.log
// CHECK: gpu.func @attention_grad_key_2x4x2x8xf32
func.func @attention(%q: tensor<2x4x16xf32>, %k: tensor<2x4x16xf32>, %v: tensor<2x4x16xf32>, %do: tensor<2x4x16xf32>) -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  %o = tele.attention %q, %k, %v {head_dim = 8 : i64} : tensor<2x4x16xf32>
  %dq, %dk, %dv = tele.attention_grad %q, %k, %v, %do {head_dim = 8 : i64} : tensor<2x4x16xf32>
  return %o, %dq, %dk, %dv : tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>
}

// -----

// Optimizer scalars stay on the device: the global norm is one launch
// over all gradients (each block finds its gradient with a scan over the
// pieces' first blocks, an index_switch picks its pointer, 128-bit loads
// where the size allows) writing one partial sum per block, then one block
// adds the partials and takes the square root; no atomics, nothing zeroed.
// Clip scale and learning rate are one-thread kernels.
// CHECK-LABEL: func.func @scalars
// CHECK: tele.global_norm {{.*}}tele.launches = [{args = array<i64: 0, 1, 3>, block = array<i64: 256, 1, 1>, grid = array<i64: 2, 1, 1>, kernel = @tele_kernels::@sum_squares_2x_{{[0-9A-F]+}}}, {args = array<i64: 3, 2>, block = array<i64: 256, 1, 1>, grid = array<i64: 1, 1, 1>, kernel = @tele_kernels::@sqrt_sum_2xf32}], tele.workspace = array<i64: 8>}
// CHECK: tele.clip_scale {{.*}}kernel = @tele_kernels::@clip_scale_
// CHECK: tele.lr_schedule {{.*}}kernel = @tele_kernels::@lr_schedule_cosine_10_100_
// CHECK: tele.mask_vector {{.*}}kernel = @tele_kernels::@mask_vector_16_kept12_f32
// CHECK: gpu.func @sum_squares_2x_{{[0-9A-F]+}}(%{{.*}}: memref<64xf32>, %{{.*}}: memref<30xf32>, %[[P:.*]]: memref<2xf32>) workgroup
// CHECK: arith.cmpi uge, %{{.*}}, %c1
// CHECK: scf.index_switch
// CHECK: case 0 {
// CHECK: vector.load {{.*}} : memref<64xf32>, vector<4xf32>
// CHECK: vector.fma
// CHECK: case 1 {
// CHECK: vector.load {{.*}} : memref<30xf32>, vector<1xf32>
// CHECK: gpu.barrier
// CHECK-NOT: memref.atomic_rmw
// CHECK: memref.store {{.*}}, %[[P]]
// CHECK: gpu.func @sqrt_sum_2xf32
// CHECK: gpu.barrier
// CHECK: math.sqrt
// CHECK: gpu.func @lr_schedule_cosine_10_100_
// CHECK: math.cos
// CHECK: arith.select
func.func @scalars(%a: tensor<64xf32>, %b: tensor<2x15xf32>, %t: tensor<i64>, %c: tensor<f32>) -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<16xf32>) {
  %n = tele.global_norm %a, %b : tensor<64xf32>, tensor<2x15xf32> -> tensor<f32>
  %s = tele.clip_scale %n {max_norm = 1.0 : f64} : tensor<f32>
  %lr = tele.lr_schedule %t {decay = #tele.decay<cosine>, min = 1.0e-04 : f64, peak = 1.0e-03 : f64, total = 100 : i64, warmup = 10 : i64} : tensor<i64> -> tensor<f32>
  %m = tele.mask_vector %c {kept = 12} : tensor<f32> -> tensor<16xf32>
  return %n, %s, %lr, %m : tensor<f32>, tensor<f32>, tensor<f32>, tensor<16xf32>
}

// -----

// The fused loss (tele-fuse) is one kernel: statistics, atomic loss and
// the gradient from one pass over each row. On bf16 logits (a multiple of
// 128 wide) it reads four at a time, widened, and stores a bf16 gradient.
// CHECK-LABEL: func.func @fused_loss
// CHECK: tele.cross_entropy_fused {{.*}}kernel = @tele_kernels::@cross_entropy_fused_8x50xf32}], tele.zeroed = array<i64: 3>
// CHECK: tele.cross_entropy_fused {{.*}}kernel = @tele_kernels::@cross_entropy_fused_8x256xf32_bff_fb}]
// CHECK: gpu.func @cross_entropy_fused_8x50xf32
// CHECK: math.log2
// CHECK: memref.atomic_rmw addf
// CHECK: scf.for
// CHECK: math.exp2
// CHECK: vector.store
// CHECK: gpu.func @cross_entropy_fused_8x256xf32_bff_fb
// CHECK: vector.load {{.*}} : memref<2048xbf16>, vector<4xbf16>
// CHECK: arith.extf {{.*}} : vector<4xbf16> to vector<4xf32>
// CHECK: arith.cmpi eq, {{.*}} : vector<4xi32>
// CHECK: arith.truncf {{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK: vector.store {{.*}} : memref<2048xbf16>, vector<4xbf16>
func.func @fused_loss(%l: tensor<2x4x50xf32>, %t: tensor<2x4xi32>, %g: tensor<f32>, %lb: tensor<2x4x256xbf16>) -> (tensor<f32>, tensor<2x4x50xf32>, tensor<f32>, tensor<2x4x256xbf16>) {
  %c, %d = tele.cross_entropy_fused %l, %t, %g : tensor<2x4x50xf32>, tensor<2x4xi32>, tensor<f32>
  %cb, %db = tele.cross_entropy_fused %lb, %t, %g : tensor<2x4x256xbf16>, tensor<2x4xi32>, tensor<f32>
  return %c, %d, %cb, %db : tensor<f32>, tensor<2x4x50xf32>, tensor<f32>, tensor<2x4x256xbf16>
}

// -----

// Flash attention (tele-fuse) with a head_dim that is not a multiple of 16
// keeps the fp32 CUDA-core kernels: the forward also writes the
// log-sum-exp; the backward's query kernel reads it and the output (no recomputed forward),
// and the key kernel reads the log-sum-exp operand and one workspace.
// CHECK-LABEL: func.func @flash
// CHECK: tele.flash_attention {{.*}}kernel = @tele_kernels::@flash_attention_2x4x2x8xf32}]
// CHECK: tele.flash_attention_grad {{.*}}tele.launches = [{args = array<i64: 0, 1, 2, 3, 4, 5, 6, 9>, {{.*}}kernel = @tele_kernels::@flash_attention_grad_query_2x4x2x8xf32}, {args = array<i64: 0, 1, 2, 5, 4, 9, 7, 8>, {{.*}}kernel = @tele_kernels::@attention_grad_key_2x4x2x8xf32}], tele.workspace = array<i64: 64>
// CHECK: gpu.func @flash_attention_2x4x2x8xf32
// CHECK: math.log
// CHECK: gpu.func @flash_attention_grad_query_2x4x2x8xf32
// CHECK-NOT: math.log
// CHECK: gpu.func @attention_grad_key_2x4x2x8xf32
func.func @flash(%q: tensor<2x4x16xf32>, %k: tensor<2x4x16xf32>, %v: tensor<2x4x16xf32>, %do: tensor<2x4x16xf32>) -> (tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>) {
  %o, %lse = tele.flash_attention %q, %k, %v {head_dim = 8 : i64} : tensor<2x4x16xf32> -> tensor<2x4x16xf32>, tensor<2x2x4xf32>
  %dq, %dk, %dv = tele.flash_attention_grad %q, %k, %v, %o, %lse, %do {head_dim = 8 : i64} : tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x2x4xf32>, tensor<2x4x16xf32> -> tensor<2x4x16xf32>
  return %o, %dq, %dk, %dv : tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>
}

// -----

// head_dim a multiple of 16: tensor-core kernels (bf16 nvvm.mma.sync on
// operands read by nvgpu.ldmatrix from 16-byte aligned shared tiles), 128
// threads for 128 query rows at head_dim 32 (two 16-row tiles a warp). The
// tiles are views of dynamic shared
// memory; each launch says how many bytes: two 64-row tiles of 40 bf16
// (32 + 16 bytes of padding) for the query side, plus two 32-row query
// tiles for the key side.
// CHECK-LABEL: func.func @flash_mma
// CHECK: tele.flash_attention {{.*}}block = array<i64: 128, 1, 1>, grid = array<i64: 1, 2, 1>, kernel = @tele_kernels::@flash_attention_1x32x2x32_mma, shared_bytes = 10240 : i64}]
// CHECK: tele.flash_attention_grad {{.*}}kernel = @tele_kernels::@flash_attention_grad_query_1x32x2x32_mma, shared_bytes = 10240 : i64}, {{.*}}kernel = @tele_kernels::@flash_attention_grad_key_1x32x2x32_mma, shared_bytes = 15360 : i64}]
// CHECK: gpu.func @flash_attention_1x32x2x32_mma
// CHECK: %[[SHARED:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: memref.view %[[SHARED]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x40xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.ldmatrix {{.*}}transpose = false
// CHECK: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK: math.exp2
// CHECK: nvgpu.ldmatrix {{.*}}transpose = true
func.func @flash_mma(%q: tensor<1x32x64xf32>, %k: tensor<1x32x64xf32>, %v: tensor<1x32x64xf32>, %do: tensor<1x32x64xf32>) -> (tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>) {
  %o, %lse = tele.flash_attention %q, %k, %v {head_dim = 32 : i64} : tensor<1x32x64xf32> -> tensor<1x32x64xf32>, tensor<1x2x32xf32>
  %dq, %dk, %dv = tele.flash_attention_grad %q, %k, %v, %o, %lse, %do {head_dim = 32 : i64} : tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x2x32xf32>, tensor<1x32x64xf32> -> tensor<1x32x64xf32>
  return %o, %dq, %dk, %dv : tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>, tensor<1x32x64xf32>
}

// -----

// Up to head_dim 64 a query-side block covers 128 rows (4 warps, two
// 16-row tiles each): 300 positions take 3 blocks per head, and each
// staged key fragment feeds both of a warp's tiles.
// CHECK-LABEL: func.func @flash_mma_rows
// CHECK: tele.flash_attention {{.*}}block = array<i64: 128, 1, 1>, grid = array<i64: 3, 2, 1>, kernel = @tele_kernels::@flash_attention_1x300x2x32_mma
// CHECK: gpu.func @flash_attention_1x300x2x32_mma
// CHECK: scf.for
// CHECK: nvgpu.ldmatrix
// CHECK-NOT: nvgpu.ldmatrix
// CHECK: nvvm.mma.sync
// CHECK-NOT: nvgpu.ldmatrix
// CHECK: nvvm.mma.sync
// CHECK-NOT: nvgpu.ldmatrix
// CHECK: nvvm.mma.sync
// CHECK-NOT: nvgpu.ldmatrix
// CHECK: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: nvgpu.ldmatrix
func.func @flash_mma_rows(%q: tensor<1x300x64xf32>) -> tensor<1x300x64xf32> {
  %o, %lse = tele.flash_attention %q, %q, %q {head_dim = 32 : i64} : tensor<1x300x64xf32> -> tensor<1x300x64xf32>, tensor<1x2x300xf32>
  return %o : tensor<1x300x64xf32>
}

// -----

// On bf16 copies at head_dim 64 the forward multiplies with wgmma
// (llvm.inline_asm, A in registers) on 128-byte-swizzled tiles: [8-row
// groups][64-feature segments][8][64] views 1024-aligned in dynamic shared
// memory (2 x 2 x 64 x 64 bf16 + 1024 bytes of slack). S = Q K^T is two
// 32-key halves per k step (the whole 64 keys would have O's shape, which
// measured wrong); O += P V takes B transposed. Each run is fenced,
// committed and waited for.
// CHECK-LABEL: func.func @flash_wgmma
// CHECK: tele.flash_attention {{.*}}block = array<i64: 128, 1, 1>, grid = array<i64: 1, 2, 1>, kernel = @tele_kernels::@flash_attention_1x64x2x64_wgmma_bbb_bf, shared_bytes = 33792 : i64}]
// CHECK: tele.flash_attention_grad {{.*}}args = array<i64: 3, 5, 9>{{.*}}@flash_attention_grad_delta_1x64x2x64_wgmma_bbbbfb_bbb}, {args = array<i64: 0, 1, 2, 5, 4, 9, 7, 8, 10>{{.*}}@flash_attention_grad_key_1x64x2x64_wgmma_bbbbfb_bbb, shared_bytes = 38912 : i64}, {args = array<i64: 1, 10, 6>{{.*}}@flash_attention_grad_dq_1x64x2x64_wgmma_bbbbfb_bbb, shared_bytes = 33792 : i64}], tele.workspace = array<i64: 512, 16384>
// CHECK: gpu.func @flash_attention_1x64x2x64_wgmma_bbb_bf
// CHECK: memref.view {{.*}} to memref<16x1x8x64xbf16, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy
// CHECK: scf.for
// CHECK: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0;
// CHECK: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0;
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.return
// The backward: D = rowsum(dO * O) first (a row's 8 lanes reduce with
// shuffles); the key side (K and V as A through descriptors, 32 staged
// queries a step) also writes dS^T to the scores workspace (workspace 10,
// one 64 x 64 tile per head here), through each warp's rows of a padded
// shared buffer; then the dQ kernel multiplies dQ = dS K, A = dS read
// transposed (MN-major) from its staged tile and K transposed. Gradients
// here are bf16 (as tele-bf16-gemms narrows them), rounded as they are
// stored (`_bbb`).
// CHECK: gpu.func @flash_attention_grad_delta_1x64x2x64_wgmma_bbbbfb_bbb
// CHECK: gpu.shuffle xor
// CHECK: gpu.func @flash_attention_grad_key_1x64x2x64_wgmma_bbbbfb_bbb
// CHECK: llvm.inline_asm has_side_effects {{.*}}m64n32k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 0;
// CHECK: vector.store {{.*}} : memref<64x40xbf16, #gpu.address_space<workgroup>>, vector<2xbf16>
// CHECK: nvvm.bar.warp.sync
// CHECK: vector.store {{.*}} {alignment = 16 : i64} : memref<8192xbf16>, vector<8xbf16>
// CHECK: llvm.inline_asm has_side_effects {{.*}}m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1;
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.return
// CHECK: gpu.func @flash_attention_grad_dq_1x64x2x64_wgmma_bbbbfb_bbb
// CHECK: nvgpu.device_async_copy
// CHECK: llvm.inline_asm has_side_effects {{.*}}m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 1, 1;
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.return
func.func @flash_wgmma(%q: tensor<1x64x128xbf16>) -> (tensor<1x64x128xbf16>, tensor<1x64x128xbf16>) {
  %o, %lse = tele.flash_attention %q, %q, %q {head_dim = 64 : i64} : tensor<1x64x128xbf16> -> tensor<1x64x128xbf16>, tensor<1x2x64xf32>
  %dq, %dk, %dv = tele.flash_attention_grad %q, %q, %q, %o, %lse, %q {head_dim = 64 : i64} : tensor<1x64x128xbf16>, tensor<1x64x128xbf16>, tensor<1x2x64xf32>, tensor<1x64x128xbf16> -> tensor<1x64x128xbf16>
  return %o, %dq : tensor<1x64x128xbf16>, tensor<1x64x128xbf16>
}

// -----

// tele.convert (from tele-bf16-gemms): f32 loads, the rounding at the
// store, 8 elements a thread (128-bit bf16 stores).
// CHECK-LABEL: func.func @convert
// CHECK: tele.convert {{.*}}grid = array<i64: 1, 1, 1>, kernel = @tele_kernels::@convert_1024xf32_to_bf16}]
// CHECK: gpu.func @convert_1024xf32_to_bf16
// CHECK: vector.load {{.*}} : memref<1024xf32>, vector<8xf32>
// CHECK: arith.truncf {{.*}} : vector<8xf32> to vector<8xbf16>
// CHECK: vector.store {{.*}} : memref<1024xbf16>, vector<8xbf16>
func.func @convert(%x: tensor<4x256xf32>) -> tensor<4x256xbf16> {
  %y = tele.convert %x : tensor<4x256xf32> -> tensor<4x256xbf16>
  return %y : tensor<4x256xbf16>
}

// -----

// Cached weight copies convert alike; the entry's name does not change the
// kernel, so copies of equal size share one. AdamW with a copy result
// stores the new parameter twice, the second time rounded to bf16.
// CHECK-LABEL: func.func @cached_copies
// CHECK: tele.cached_convert "bf16.a", {{.*}}kernel = @tele_kernels::@[[COPY:convert_1024xf32_to_bf16]]}]
// CHECK: tele.cached_convert "bf16.b", {{.*}}kernel = @tele_kernels::@[[COPY]]}]
// CHECK: tele.adamw {{.*}}args = array<i64: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10>{{.*}}kernel = @tele_kernels::@[[ADAMW:adamw_1024xf32_to_bf16]]}]
// CHECK: gpu.func @[[COPY]]
// CHECK-NOT: gpu.func @convert_
// CHECK: gpu.func @[[ADAMW]]({{.*}}, %[[C:.*]]: memref<1024xbf16>) kernel
// CHECK: vector.store %[[P:.*]], %{{.*}} : memref<1024xf32>, vector<4xf32>
// CHECK: %[[R:.*]] = arith.truncf %[[P]] : vector<4xf32> to vector<4xbf16>
// CHECK: vector.store %[[R]], %[[C]]
func.func @cached_copies(%g: tensor<4x256xf32>, %lr: tensor<f32>, %t: tensor<i64>) -> (tensor<4x256xbf16>, tensor<4x256xbf16>, tensor<4x256xbf16>) {
  %a = tele.param "a" : tensor<4x256xf32>
  %b = tele.param "b" : tensor<4x256xf32>
  %ca = tele.cached_convert "bf16.a", %a : tensor<4x256xf32> -> tensor<4x256xbf16>
  %cb = tele.cached_convert "bf16.b", %b : tensor<4x256xf32> -> tensor<4x256xbf16>
  %p1, %m1, %v1, %c1 = tele.adamw %a, %g, %g, %g, %lr, %lr, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-8 : f64, weight_decay = 0.1 : f64} : tensor<4x256xf32>, tensor<f32>, tensor<i64> copy tensor<4x256xbf16>
  return %ca, %cb, %c1 : tensor<4x256xbf16>, tensor<4x256xbf16>, tensor<4x256xbf16>
}

// -----

// The global norm skips empty gradients (they add nothing); a fused loss
// that computes in bf16 (grad and loss bf16) gets no kernel: the kernels'
// statistics are f32.
// CHECK-LABEL: func.func @edge_cases
// CHECK: tele.global_norm {{.*}}tele.launches = [{args = array<i64: 1, 3>, {{.*}}kernel = @tele_kernels::@sum_squares_1x_{{[0-9A-F]+}}}, {args = array<i64: 3, 2>, {{.*}}kernel = @tele_kernels::@sqrt_sum_1xf32}]
// CHECK: tele.cross_entropy_fused
// CHECK-NOT: tele.launches
// CHECK: return
func.func @edge_cases(%e: tensor<0xf32>, %a: tensor<64xf32>, %l: tensor<2x4x256xbf16>, %t: tensor<2x4xi32>, %g: tensor<bf16>) -> (tensor<f32>, tensor<bf16>, tensor<2x4x256xbf16>) {
  %n = tele.global_norm %e, %a : tensor<0xf32>, tensor<64xf32> -> tensor<f32>
  %c, %d = tele.cross_entropy_fused %l, %t, %g : tensor<2x4x256xbf16>, tensor<2x4xi32>, tensor<bf16>
  return %n, %c, %d : tensor<f32>, tensor<bf16>, tensor<2x4x256xbf16>
}
