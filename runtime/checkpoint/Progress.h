//===- runtime/checkpoint/Progress.h - a training run's counters -*- C++ -*-===//
//
// Where a training run stands, as the safetensors metadata of its
// checkpoints records it (keys tele.format, tele.step, tele.stage_index,
// tele.stage_step, tele.tokens, tele.sampler_position, tele.seed). Shared by
// the trainer (lib/Train/TrainState.cpp, which adds the state's dtype and the
// plan's growth choices) and `tele-run train`, which needs no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_RUNTIME_CHECKPOINT_PROGRESS_H
#define TELE_RUNTIME_CHECKPOINT_PROGRESS_H

#include "Status.h"

#include <cstdint>
#include <map>
#include <string>

namespace tele::ckpt {

/// Where a run stands. All counters count completed optimizer steps.
struct Progress {
  int64_t step = 0;              ///< steps of the whole plan
  int64_t stageIndex = 0;        ///< stage being trained
  int64_t stageStep = 0;         ///< steps of that stage
  int64_t tokens = 0;            ///< training tokens consumed
  uint64_t samplerPosition = 0;  ///< training batches drawn
  uint64_t seed = 0;             ///< --seed: data order and growth draws
};

using Metadata = std::map<std::string, std::string>;

/// Records `progress` (and the format marker) in checkpoint metadata.
void writeProgress(const Progress &progress, Metadata &metadata);

/// Reads what writeProgress recorded; fails, naming `path`, when the
/// metadata is not a tele training checkpoint's, a counter is missing, not a
/// number or negative, or the counters contradict each other (checkProgress).
rt::Status readProgress(const Metadata &metadata, const std::string &path, Progress &progress);

/// Checks the counters against each other: stage step and stage index at
/// most the step, one batch drawn per step (sampler position == step), at
/// least one token per step and none before the first.
rt::Status checkProgress(const Progress &progress, const std::string &path);

} // namespace tele::ckpt

#endif // TELE_RUNTIME_CHECKPOINT_PROGRESS_H
