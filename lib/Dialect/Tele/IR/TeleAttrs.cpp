//===- TeleAttrs.cpp - tele attributes and enums --------------------------===//
//
// This file implements the hand-written parts of the tele attributes: parsing
// of float parameters and the verifiers of the model and stage configurations.
// The generated definitions are in TeleDialect.cpp, where the dialect
// registers them.
//
//===----------------------------------------------------------------------===//

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tele;

FailureOr<llvm::APFloat> mlir::tele::parseFloatParameter(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return llvm::APFloat(value);
}

LogicalResult
ModelConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        int64_t vocab, int64_t hidden, int64_t heads,
                        int64_t headDim, int64_t ffn, int64_t layers,
                        int64_t seqLen, llvm::APFloat eps,
                        llvm::APFloat ropeTheta, llvm::APFloat alphaOut,
                        llvm::APFloat initStd) {
  struct Named {
    const char *name;
    int64_t value;
  };
  for (Named field : {Named{"vocab", vocab}, Named{"hidden", hidden},
                      Named{"heads", heads}, Named{"head_dim", headDim},
                      Named{"ffn", ffn}, Named{"layers", layers},
                      Named{"seq_len", seqLen}})
    if (field.value <= 0)
      return emitError() << "model " << field.name << " must be positive, got "
                         << field.value;
  // Checked: heads x head_dim of user input may not fit in 64 bits.
  int64_t headsTimesHeadDim = 0;
  bool overflows = llvm::MulOverflow(heads, headDim, headsTimesHeadDim);
  if (overflows || hidden != headsTimesHeadDim) {
    InFlightDiagnostic diag = emitError();
    diag << "model hidden (" << hidden << ") must equal heads x head_dim ("
         << heads << " x " << headDim;
    if (overflows)
      return diag << ", which overflows 64 bits)";
    return diag << " = " << headsTimesHeadDim << ")";
  }
  if (headDim % 2 != 0)
    return emitError() << "model head_dim must be even for RoPE, got "
                       << headDim;
  if (!(eps.convertToDouble() > 0.0))
    return emitError() << "model eps must be positive";
  if (!(ropeTheta.convertToDouble() > 0.0))
    return emitError() << "model rope_theta must be positive";
  if (!(alphaOut.convertToDouble() > 0.0))
    return emitError() << "model alpha_out must be positive";
  if (!(initStd.convertToDouble() > 0.0))
    return emitError() << "model init_std must be positive";
  return success();
}

int64_t ModelConfigAttr::getNumParameters() const {
  int64_t d = getHidden(), f = getFfn();
  int64_t perLayer = 4 * d * d + 3 * d * f + 2 * d;
  return 2 * getVocab() * d + getLayers() * perLayer + d;
}

LogicalResult StageConfigAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, int64_t steps, int64_t batch,
    llvm::APFloat lrMatrix, llvm::APFloat lrVector, llvm::APFloat minLrMatrix,
    llvm::APFloat minLrVector, int64_t warmup, DecayKind decay,
    llvm::APFloat weightDecay, llvm::APFloat clip, llvm::APFloat beta1,
    llvm::APFloat beta2, llvm::APFloat adamEps) {
  if (steps <= 0)
    return emitError() << "stage steps must be positive, got " << steps;
  if (batch <= 0)
    return emitError() << "stage batch must be positive, got " << batch;
  if (warmup < 0 || warmup > steps)
    return emitError() << "stage warmup must be in [0, steps], got " << warmup;
  auto d = [](const llvm::APFloat &f) { return f.convertToDouble(); };
  if (!(d(lrMatrix) > 0) || !(d(lrVector) > 0))
    return emitError() << "stage lr_matrix and lr_vector must be positive";
  if (d(minLrMatrix) < 0 || d(minLrMatrix) > d(lrMatrix) ||
      d(minLrVector) < 0 || d(minLrVector) > d(lrVector))
    return emitError() << "stage minimum learning rates must be in [0, peak]";
  if (d(weightDecay) < 0)
    return emitError() << "stage weight_decay must be non-negative";
  if (!(d(clip) > 0))
    return emitError() << "stage clip must be positive";
  if (!(d(beta1) >= 0 && d(beta1) < 1) || !(d(beta2) >= 0 && d(beta2) < 1))
    return emitError() << "stage beta1 and beta2 must be in [0, 1)";
  if (!(d(adamEps) > 0))
    return emitError() << "stage adam_eps must be positive";
  return success();
}
