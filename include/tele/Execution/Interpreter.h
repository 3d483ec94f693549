//===- Interpreter.h - CPU executor of tensor-level tele IR -----*- C++ -*-===//
//
// This file declares the CPU reference executor: it runs a func.func of
// tensor-level tele ops (the IR the pass pipeline produced, not a separately
// written model) op by op with the runtime's CPU kernels, in fp32 or fp64.
// Training state (parameters, optimizer moments) lives in a TrainingState
// that tele.param reads and tele.assign writes; growth masks are runtime
// scalars. It is the numerical oracle of tele and the executor of the CPU
// training demo.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_EXECUTION_INTERPRETER_H
#define TELE_EXECUTION_INTERPRETER_H

#include "tele/Dialect/Tele/IR/TeleOps.h"
#include "llvm/Support/Error.h"
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace mlir::tele::exec {

/// A host tensor value: floats of element type T, int32 tokens, or an int64
/// scalar (optimizer step counters). Buffers are immutable once produced and
/// shared by reference.
template <typename T> struct HostValue {
  SmallVector<int64_t> shape;
  std::shared_ptr<const std::vector<T>> floats;
  std::shared_ptr<const std::vector<int32_t>> ints;
  int64_t step = 0;

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  static HostValue fromFloats(ArrayRef<int64_t> shape, std::vector<T> data);
  static HostValue fromTokens(ArrayRef<int64_t> shape, std::vector<int32_t> data);
  static HostValue fromStep(int64_t step);
  /// The value of a 0-d float tensor.
  T scalar() const { return (*floats)[0]; }
};

/// Named training-state tensors of element type T.
template <typename T> class TrainingState {
public:
  struct Entry {
    SmallVector<int64_t> shape;
    std::shared_ptr<const std::vector<T>> data;
  };

  bool contains(StringRef name) const { return entries.count(name.str()); }
  const Entry *lookup(StringRef name) const;
  void set(StringRef name, ArrayRef<int64_t> shape,
           std::shared_ptr<const std::vector<T>> data);
  void erase(StringRef name) { entries.erase(name.str()); }
  const std::map<std::string, Entry> &all() const { return entries; }

  /// Growth-mask scalars read by tele.mask_value.
  std::map<std::string, double> masks;

private:
  std::map<std::string, Entry> entries;
};

/// Creates every state tensor read by `fn` that is not yet in `state`,
/// following each tele.param's `init`: N(0, initStd) for `normal`, ones,
/// zeros. Draws in order of first read from a generator seeded by `seed`, so
/// initialisation is reproducible.
template <typename T>
llvm::Error initializeState(func::FuncOp fn, TrainingState<T> &state,
                            uint64_t seed, double initStd);

/// Runs `fn` on `args` (one per function argument). Errors (missing state,
/// out-of-range tokens, wrong argument shapes, unsupported ops or element
/// types) name the op and its location.
template <typename T>
llvm::Expected<std::vector<HostValue<T>>>
execute(func::FuncOp fn, ArrayRef<HostValue<T>> args, TrainingState<T> &state);

} // namespace mlir::tele::exec

#endif // TELE_EXECUTION_INTERPRETER_H
