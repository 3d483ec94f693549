//===- runtime/cuda/Blas.h - cuBLASLt, loaded at run time -------*- C++ -*-===//
//
// Internal to the GPU runtime: the cuBLASLt entry points the program
// executor uses for its GEMMs, resolved with dlopen like the driver so
// that the runtime links against neither.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_RUNTIME_CUDA_BLAS_H
#define TELE_RUNTIME_CUDA_BLAS_H

#include <cublasLt.h>

#include <string>

namespace tele::rt::cuda {

struct BlasLt {
#define TELE_BLAS_FN(name) decltype(&::name) name = nullptr;
  TELE_BLAS_FN(cublasLtCreate)
  TELE_BLAS_FN(cublasLtDestroy)
  TELE_BLAS_FN(cublasLtGetStatusString)
  TELE_BLAS_FN(cublasLtMatmulDescCreate)
  TELE_BLAS_FN(cublasLtMatmulDescDestroy)
  TELE_BLAS_FN(cublasLtMatmulDescSetAttribute)
  TELE_BLAS_FN(cublasLtMatrixLayoutCreate)
  TELE_BLAS_FN(cublasLtMatrixLayoutDestroy)
  TELE_BLAS_FN(cublasLtMatmulPreferenceCreate)
  TELE_BLAS_FN(cublasLtMatmulPreferenceDestroy)
  TELE_BLAS_FN(cublasLtMatmulPreferenceSetAttribute)
  TELE_BLAS_FN(cublasLtMatmulAlgoGetHeuristic)
  TELE_BLAS_FN(cublasLtMatmul)
#undef TELE_BLAS_FN
  bool loaded = false;
  std::string error;
};

/// cuBLASLt from libcublasLt.so.13 (or .12); `loaded` false with `error`
/// set if it is missing.
const BlasLt &blasLt();

} // namespace tele::rt::cuda

#endif // TELE_RUNTIME_CUDA_BLAS_H
