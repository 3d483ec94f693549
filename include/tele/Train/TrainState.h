//===- TrainState.h - checkpoints of a training run -------------*- C++ -*-===//
//
// This file declares the trainer's counters and their checkpoint format: the
// training state (parameters and AdamW moments, Llama-style names, moments
// under optim.m. / optim.v.) as safetensors tensors, and the counters, data
// position, seed and growth choices as safetensors metadata.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_TRAIN_TRAINSTATE_H
#define TELE_TRAIN_TRAINSTATE_H

#include "tele/Execution/Interpreter.h"
#include "checkpoint/Progress.h"
#include "llvm/Support/Error.h"
#include <string>

namespace mlir::tele {

/// Where a run stands (runtime/checkpoint/Progress.h: the record the
/// checkpoint metadata holds, shared with tele-run).
using Progress = ::tele::ckpt::Progress;

/// DIR/ckpt-<8-digit step>.safetensors.
std::string checkpointPath(llvm::StringRef dir, int64_t step);
/// The checkpoint with the highest step in `dir`, or "" if none.
std::string newestCheckpoint(llvm::StringRef dir);

/// Writes the state, counters and the plan's growth choices atomically.
template <typename T>
llvm::Error writeCheckpoint(const std::string &path,
                            const exec::TrainingState<T> &state,
                            const Progress &progress, ModuleOp plan);

/// Reads a checkpoint written by writeCheckpoint: fills the state and
/// counters and restores the growth choices (copy_layers) on `plan`.
template <typename T>
llvm::Error readCheckpoint(const std::string &path,
                           exec::TrainingState<T> &state, Progress &progress,
                           ModuleOp plan);

} // namespace mlir::tele

#endif // TELE_TRAIN_TRAINSTATE_H
