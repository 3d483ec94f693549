// The generated kernels lower to PTX for sm_90a through MLIR's NVVM pipeline
// and LLVM's NVPTX backend: 128-bit vector global loads and stores in the
// elementwise kernels, warp shuffles in the row kernels and attention,
// float atomics for the reductions, no local-memory spills (the hot kernels:
// elementwise, RMSNorm, cross-entropy, attention forward and backward).
// RUN: tele-opt %s --convert-tele-to-gpu=kernels-only \
// RUN:   | tele-opt --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90a cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=true" \
// RUN:   | FileCheck %s
// RUN: tele-opt %s --convert-tele-to-gpu=kernels-only \
// RUN:   | tele-opt --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_90a cubin-features=+ptx80 cubin-format=isa kernel-bare-ptr-calling-convention=true" \
// RUN:   | FileCheck %s --check-prefix=NOSPILL

// CHECK: gpu.binary @tele_kernels
// CHECK-SAME: .target sm_90a
// CHECK-SAME: .entry swiglu_grad_4096xf32
// CHECK-SAME: ld.global.v4.b32
// CHECK-SAME: st.global.v4.b32
// CHECK-SAME: .entry adamw_4096xf32
// CHECK-SAME: .entry rms_norm_64x64xf32
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: .entry rms_norm_grad_64x64xf32
// CHECK-SAME: .entry rms_norm_gain_grad_8x64xf32
// CHECK-SAME: .entry cross_entropy_64x64xf32
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: atom.global.add.f32
// CHECK-SAME: .entry attention_1x64x1x64xf32
// CHECK-SAME: .shared
// CHECK-SAME: shfl.sync.bfly.b32
// CHECK-SAME: ld.shared.v4
// CHECK-SAME: .entry attention_grad_query_1x64x1x64xf32
// CHECK-SAME: .entry attention_grad_key_1x64x1x64xf32
// Flash attention runs on the tensor cores: bf16 operands from shared
// memory by ldmatrix (transposed for P V, dS K, P^T dO and dS^T Q), fp32
// accumulators, exp2 for the softmax.
// CHECK-SAME: .entry flash_attention_1x64x2x32_mma
// CHECK-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-SAME: ex2.approx
// CHECK-SAME: cvt.rn.bf16x2.f32
// CHECK-SAME: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-SAME: .entry flash_attention_grad_query_1x64x2x32_mma
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-SAME: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-SAME: .entry flash_attention_grad_key_1x64x2x32_mma
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-SAME: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// The head_dim 128 kernels (the flm-1b shape) keep their accumulators in
// registers as well.
// CHECK-SAME: .entry flash_attention_1x80x1x128_mma
// CHECK-SAME: .entry flash_attention_grad_query_1x80x1x128_mma
// CHECK-SAME: .entry flash_attention_grad_key_1x80x1x128_mma
// On bf16 copies (tele-bf16-gemms) the staged tiles are copied by cp.async
// into two buffers (16 bytes a copy, L1 bypassed): the next tile's copy is
// in flight while the current one is used; no copy is left at the end.
// The forward then multiplies with warpgroup MMAs: the copies made visible
// to the async proxy, S = Q K^T as m64n64k16 (K-major B), O += P V as
// m64n128k16 with B transposed, descriptors with the 128-byte swizzle
// (bit 62), each run fenced, committed and waited for; its registers
// capped at 168, so that three blocks fit an SM.
// (LLVM lays the blocks out in its own order, hence CHECK-DAG.)
// CHECK-SAME: .entry flash_attention_1x80x1x128_wgmma_bbb_bf
// CHECK-DAG: .maxnreg 168
// CHECK-DAG: cp.async.cg.shared.global {{\[%rd[0-9]+\], \[%rd[0-9]+\]}}, 16;
// CHECK-DAG: cp.async.commit_group
// CHECK-DAG: cp.async.wait_group \091;
// CHECK-DAG: fence.proxy.async.shared::cta
// CHECK-DAG: wgmma.fence.sync.aligned
// CHECK-DAG: or.b64 {{[^;]*}}, 46116865
// CHECK-DAG: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{[^;]*}}, p, 1, 1, 0;
// CHECK-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{[^;]*}}, p, 1, 1, 1;
// CHECK-DAG: wgmma.commit_group.sync.aligned
// CHECK-DAG: wgmma.wait_group.sync.aligned \090;
// CHECK-DAG: cp.async.wait_group \090;
// CHECK-NOT: mma.sync.aligned
// So does the backward. D = rowsum(dO * O) first (shuffles). Key side:
// S^T and dP^T with K and V as A from shared memory as well (two
// descriptors, A not transposed), then dV += P^T dO and dK += dS^T Q with
// P^T and dS^T in registers; dS^T goes to the scores workspace through
// shared memory, 16 bytes a store. The dQ kernel: dQ += dS K, dS as A from
// its staged tile read transposed, K transposed (the last two 1s).
// CHECK-SAME: .entry flash_attention_grad_delta_1x80x1x128_wgmma_bbbbfb_fff
// CHECK-DAG: shfl.sync.bfly
// CHECK-SAME: .entry flash_attention_grad_key_1x80x1x128_wgmma_bbbbfb_fff
// CHECK-DAG: cp.async.wait_group \091;
// CHECK-DAG: wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {{[^;]*}}}, %rd{{[0-9]+}}, %rd{{[0-9]+}}, p, 1, 1, 0, 0;
// CHECK-DAG: bar.warp.sync \09-1;
// CHECK-DAG: st.global.v4.b32
// CHECK-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{[^;]*}}, p, 1, 1, 1;
// CHECK-NOT: mma.sync.aligned
// CHECK-SAME: .entry flash_attention_grad_dq_1x80x1x128_wgmma_bbbbfb_fff
// CHECK-DAG: cp.async.wait_group \091;
// CHECK-DAG: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{[^;]*}}}, %rd{{[0-9]+}}, %rd{{[0-9]+}}, p, 1, 1, 1, 1;
// CHECK-NOT: mma.sync.aligned
// NOSPILL-NOT: .local
func.func @step(%g: tensor<64x64xf32>, %u: tensor<64x64xf32>, %dy: tensor<64x64xf32>,
                %p: tensor<64x64xf32>, %m: tensor<64x64xf32>, %v: tensor<64x64xf32>,
                %lr: tensor<f32>, %s: tensor<f32>, %t: tensor<i64>, %gain: tensor<64xf32>)
    -> (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) {
  %dg, %du = tele.swiglu_grad %g, %u, %dy : tensor<64x64xf32>
  %p1, %m1, %v1 = tele.adamw %p, %dg, %m, %v, %lr, %s, %t {beta1 = 0.9 : f64, beta2 = 0.95 : f64, eps = 1.0e-08 : f64, weight_decay = 0.1 : f64} : tensor<64x64xf32>, tensor<f32>, tensor<i64>
  %n = tele.rms_norm %du, %gain {eps = 1.0e-05 : f64} : tensor<64x64xf32>, tensor<64xf32>
  return %dg, %n, %p1, %m1, %v1, %du : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>
}

func.func @reductions(%x: tensor<1x64x64xf32>, %gain: tensor<64xf32>, %dy: tensor<1x64x64xf32>, %t: tensor<1x64xi32>)
    -> (tensor<1x64x64xf32>, tensor<64xf32>, tensor<f32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>) {
  %dx, %dg = tele.rms_norm_grad %x, %gain, %dy {eps = 1.0e-05 : f64} : tensor<1x64x64xf32>, tensor<64xf32>
  %l = tele.cross_entropy %x, %t : tensor<1x64x64xf32>, tensor<1x64xi32> -> tensor<f32>
  %o = tele.attention %x, %x, %x {head_dim = 64 : i64} : tensor<1x64x64xf32>
  %dq, %dk, %dv = tele.attention_grad %x, %x, %x, %dy {head_dim = 64 : i64} : tensor<1x64x64xf32>
  %fo, %lse = tele.flash_attention %x, %x, %x {head_dim = 32 : i64} : tensor<1x64x64xf32> -> tensor<1x64x64xf32>, tensor<1x2x64xf32>
  %fq, %fk, %fv = tele.flash_attention_grad %x, %x, %x, %fo, %lse, %dy {head_dim = 32 : i64} : tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x2x64xf32>, tensor<1x64x64xf32> -> tensor<1x64x64xf32>
  return %dx, %dg, %l, %o, %dq, %dk, %dv : tensor<1x64x64xf32>, tensor<64xf32>, tensor<f32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>, tensor<1x64x64xf32>
}

func.func @head_dim_128(%x: tensor<1x80x128xf32>, %dy: tensor<1x80x128xf32>)
    -> (tensor<1x80x128xf32>, tensor<1x80x128xf32>, tensor<1x80x128xf32>) {
  %o, %lse = tele.flash_attention %x, %x, %x {head_dim = 128 : i64} : tensor<1x80x128xf32> -> tensor<1x80x128xf32>, tensor<1x1x80xf32>
  %dq, %dk, %dv = tele.flash_attention_grad %x, %x, %x, %o, %lse, %dy {head_dim = 128 : i64} : tensor<1x80x128xf32>, tensor<1x80x128xf32>, tensor<1x1x80xf32>, tensor<1x80x128xf32> -> tensor<1x80x128xf32>
  return %dq, %dk, %dv : tensor<1x80x128xf32>, tensor<1x80x128xf32>, tensor<1x80x128xf32>
}

func.func @head_dim_128_bf16(%x: tensor<1x80x128xbf16>, %dy: tensor<1x80x128xbf16>)
    -> (tensor<1x80x128xf32>, tensor<1x80x128xf32>, tensor<1x80x128xf32>) {
  %o, %lse = tele.flash_attention %x, %x, %x {head_dim = 128 : i64} : tensor<1x80x128xbf16> -> tensor<1x80x128xbf16>, tensor<1x1x80xf32>
  %dq, %dk, %dv = tele.flash_attention_grad %x, %x, %x, %o, %lse, %dy {head_dim = 128 : i64} : tensor<1x80x128xbf16>, tensor<1x80x128xbf16>, tensor<1x1x80xf32>, tensor<1x80x128xbf16> -> tensor<1x80x128xf32>
  return %dq, %dk, %dv : tensor<1x80x128xf32>, tensor<1x80x128xf32>, tensor<1x80x128xf32>
}
