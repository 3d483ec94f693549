//===- Growth.h - applying growth to a training state -----------*- C++ -*-===//
//
// This file declares the pieces `tele train` and `tele grow` share when they
// grow a model held in a training state: the mask values over a transition,
// the depth-growth layer choice on a calibration batch, and the check that a
// state holds exactly the tensors a function reads.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_TRAIN_GROWTH_H
#define TELE_TRAIN_GROWTH_H

#include "tele/Execution/Interpreter.h"
#include <map>
#include <string>

namespace mlir::tele {

/// The mask values `t` optimizer steps after the growth chain ending at
/// `grow` (empty for null). Joint: every mask ramps c(t) = min(1, t/T) from
/// the growth step, T being its op's transition_steps. Sequential (the width
/// op's schedule): the FFN, then new layers, then hidden and heads, each
/// ramp starting when the one before it has finished.
std::map<std::string, double> growthMaskValues(Operation *grow, int64_t t);

/// Fills `copy_layers` of every depth op of `chain` that has none, ranking
/// the layers of `before` (the model before the chain, which has the depth
/// op's layer count since width growth keeps it) on the calibration batch
/// `tokens` [batch, seq_len]. Returns the distances it measured (empty if
/// none were needed); errors name the op.
template <typename T>
FailureOr<std::vector<double>>
chooseLayersToCopy(ArrayRef<Operation *> chain, ModelOp before,
                   ArrayRef<int32_t> tokens, int64_t batch, FloatType et,
                   exec::TrainingState<T> &state);

/// Succeeds if `state` holds every tensor `fn` reads, with its shape;
/// otherwise reports the first missing or misshapen tensor, prefixed by
/// `what` (e.g. the checkpoint's path), unless `quiet`.
template <typename T>
LogicalResult checkStateMatches(func::FuncOp fn,
                                const exec::TrainingState<T> &state,
                                StringRef what, bool quiet = false);

} // namespace mlir::tele

#endif // TELE_TRAIN_GROWTH_H
