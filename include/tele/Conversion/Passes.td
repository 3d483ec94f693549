//===- Passes.td - tele conversion passes ------------------*- tablegen -*-===//
//
// This file declares the conversions out of the tele dialect.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_CONVERSION_PASSES_TD
#define TELE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTeleToGPU : Pass<"convert-tele-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Generate GPU kernels for tele's elementwise and row-wise ops";
  let description = [{
    For every supported tensor-level op in the module's functions, adds a
    kernel to `gpu.module @tele_kernels` (one per distinct op and shape) and
    records on the op which kernel runs it and its launch configuration
    (`tele.kernel`, `tele.grid`, `tele.block`). Kernels take flattened,
    statically shaped memrefs (bare pointers after lowering), inputs first,
    then outputs.

    Families:
    * elementwise (`tele.add`, `tele.scale`, `tele.swiglu`, `tele.swiglu_grad`,
      `tele.mask_mul`, `tele.lerp`, `tele.adamw`): four elements per thread
      with vector loads and stores when the size allows;
    * `tele.rope` (forward and inverse): four features per thread with
      their rotate-half partners;
    * row-wise (`tele.rms_norm`, plain or masked): one warp per row, the
      statistic reduced with warp shuffles in fp32.

    GEMMs (`tele.linear*`) are library calls (cuBLASLt) and get no kernel.
    The upstream `gpu-lower-to-nvvm-pipeline` then produces PTX (run it on
    the result of `kernels-only`); `tele compile --target cuda` does both.

    ```mlir
    %y = tele.swiglu %g, %u : tensor<2x8x172xf32>
    // becomes annotated with
    //   {tele.kernel = @tele_kernels::@swiglu_2752xf32, tele.grid = array<i64: 3, 1, 1>, tele.block = array<i64: 256, 1, 1>}
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
    "::mlir::math::MathDialect", "::mlir::vector::VectorDialect"
  ];
}

#endif // TELE_CONVERSION_PASSES_TD
