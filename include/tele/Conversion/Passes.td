//===- Passes.td - tele conversion passes ------------------*- tablegen -*-===//
//
// This file declares the conversions out of the tele dialect.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_CONVERSION_PASSES_TD
#define TELE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTeleToGPU : Pass<"convert-tele-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Generate the GPU kernels of tele's tensor-level ops";
  let description = [{
    For every supported tensor-level op in the module's functions, adds its
    kernels to `gpu.module @tele_kernels` (shared by ops that print alike:
    same op, attributes and types) and records on the op how the runtime
    runs it:
    * `tele.launches`: an array of `{kernel, grid, block, args}`, in order;
      `args` index the op's operands, then its results, then its workspaces;
      `shared_bytes`, where present, is the dynamic shared memory a kernel
      carves its tiles from (the tensor-core attention's);
    * `tele.workspace`: bytes of each scratch buffer the launches share;
    * `tele.zeroed`: buffers (same indexing) to zero before the first launch
      (outputs that kernels accumulate into with atomics).
    Kernels take flattened, statically shaped memrefs (bare pointers after
    lowering).

    Families (f32):
    * elementwise (`add`, `scale`, `swiglu`, `swiglu_grad`, `mask_mul`,
      `lerp`, `lerp_grad`, `adamw`): four elements per thread with 128-bit
      loads and stores when the size allows (`convert`: eight);
    * `rope` (forward and inverse; angles reduced to [-pi, pi], then the
      hardware's sine and cosine);
    * `rms_norm` (a warp per row in chunks of up to 16 bytes, kept in
      registers between the statistics and the output up to 2048 features)
      and `rms_norm_grad` (dx likewise, each warp walking 8 rows and summing
      their gain-gradient terms in registers; a second kernel adds the
      warps' sums in a fixed order, without atomics);
    * `embed` (gather) and `embed_grad` (atomic scatter-add);
    * `cross_entropy`, `cross_entropy_grad` and `cross_entropy_fused`
      without a loss mask: a warp per row, chunks of logits (bf16 copies
      widened for the fused op), an online max/sum in the log2 domain,
      probabilities never written;
    * `attention` and `attention_grad`: causal, online softmax, key/query
      tiles staged in shared memory, no T x T matrix; the backward stores
      the log-sum-exp and dO.O per row in workspaces;
    * `global_norm` (one launch per 256 gradients, a partial sum per block
      of up to 64K floats, then one block adds the partials in order: no
      atomics), `clip_scale`, `lr_schedule`, `mask_vector`: the optimizer's
      scalars stay on the device.

    GEMMs (`tele.linear*`) are library calls (cuBLASLt) and get no kernel.
    The upstream `gpu-lower-to-nvvm-pipeline` then produces PTX (run it on
    the result of `kernels-only`); `tele compile --target cuda` does both
    and writes the runtime's program.

    ```mlir
    %y = tele.swiglu %g, %u : tensor<2x8x172xf32>
    // becomes annotated with
    //   {tele.launches = [{args = array<i64: 0, 1, 2>, block = array<i64: 256, 1, 1>,
    //                      grid = array<i64: 3, 1, 1>, kernel = @tele_kernels::@swiglu_2752xf32}
    //                    ]}
    // and gpu.module @tele_kernels gains gpu.func @swiglu_2752xf32(...) kernel
    ```
  }];
  let options = [
    Option<"kernelsOnly", "kernels-only", "bool", /*default=*/"false",
           "Keep only the gpu.module (for lowering the kernels to PTX on "
           "their own)">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect", "::mlir::vector::VectorDialect",
    "::mlir::nvgpu::NVGPUDialect", "::mlir::NVVM::NVVMDialect",
    "::mlir::LLVM::LLVMDialect"
  ];
}

#endif // TELE_CONVERSION_PASSES_TD
