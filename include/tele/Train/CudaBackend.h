//===- CudaBackend.h - tele train's GPU executor ----------------*- C++ -*-===//
//
// This file declares how `tele train --device cuda` runs compiled stage
// functions on a GPU: each function is compiled once to a CUDA program
// (Target/CudaProgram.h) and run by the MLIR-free runtime (tele_rt.h); the
// training state lives on the device between steps and is copied to the
// host only when the host needs it (checkpoints, growth, the end of a
// stage).
//
//===----------------------------------------------------------------------===//

#ifndef TELE_TRAIN_CUDABACKEND_H
#define TELE_TRAIN_CUDABACKEND_H

#include "tele/Execution/Interpreter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <map>
#include <memory>

namespace mlir::tele {

class CudaBackend {
public:
  /// Opens GPU 0; fails with a diagnostic when there is none or the CUDA
  /// runtime was not built.
  static FailureOr<std::unique_ptr<CudaBackend>> open(Location loc);
  ~CudaBackend();

  std::string deviceName() const;

  /// Copies every host entry to the device (after initialisation, growth
  /// or a resume).
  LogicalResult upload(const exec::TrainingState<float> &state, Location loc);
  /// Copies every device entry back to the host state.
  LogicalResult download(exec::TrainingState<float> &state, Location loc);

  /// Compiles `fn` to a CUDA program and loads it (run does this on first
  /// use); for timing the compiler apart from the step.
  LogicalResult prepare(func::FuncOp fn);
  /// Drops every loaded program (their functions are about to go away).
  void releasePrograms();
  /// Device memory in use (total - free), in bytes.
  int64_t deviceBytesInUse() const;
  /// Planned arena bytes of `fn`'s program (0 if not loaded).
  int64_t arenaBytes(func::FuncOp fn) const;

  /// Runs `fn` (compiled on first use) with token and step arguments and
  /// the given mask values; returns its scalar (0-d) results in order
  /// (NaN for non-scalar results, which stay on the device).
  FailureOr<std::vector<double>>
  run(func::FuncOp fn, ArrayRef<exec::HostValue<float>> args,
      const std::map<std::string, double> &masks);

private:
  struct Impl;
  explicit CudaBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace mlir::tele

#endif // TELE_TRAIN_CUDABACKEND_H
