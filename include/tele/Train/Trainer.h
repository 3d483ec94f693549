//===- Trainer.h - run a staged training plan -------------------*- C++ -*-===//
//
// This file declares the driver of `tele train`: it compiles each stage of a
// plan with the tele pass pipeline, executes the compiled step, applies
// growth between stages through the lowered parameter map, and writes
// metrics and checkpoints.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_TRAIN_TRAINER_H
#define TELE_TRAIN_TRAINER_H

#include "mlir/IR/BuiltinOps.h"
#include <cstdint>
#include <optional>
#include <string>

namespace mlir::tele {

struct TrainOptions {
  /// "cpu" (the reference executor) or "cuda".
  std::string device = "cpu";
  /// Cap on the total number of optimizer steps of the plan (positive);
  /// none: the plan's steps.
  std::optional<int64_t> maxSteps;
  /// Where metrics.jsonl and checkpoints go.
  std::string outDir = "tele-out";
  /// Continue from the newest checkpoint in outDir.
  bool resume = false;
  /// Start again in an outDir that holds an earlier run, deleting its
  /// metrics and checkpoints (once every input has been validated). Without
  /// this or `resume`, such a directory is refused.
  bool overwrite = false;
  /// Also checkpoint every this many steps (0: only at the end; not negative).
  int64_t saveEvery = 0;
  /// Validation loss every this many steps (0: never) and at the end of
  /// each stage.
  int64_t evalEvery = 50;
  /// Validation batches per evaluation.
  int64_t evalBatches = 4;
  /// Seed of initialisation, growth and data order.
  uint64_t seed = 1234;
  /// Directory holding train.tok and val.tok for stages without `data`;
  /// empty: the default corpus.
  std::string dataDir;
  /// Run in fp64 instead of fp32.
  bool fp64 = false;
  /// Print only errors (no progress, growth lines or summary).
  bool quiet = false;
};

/// Trains `plan` (a module with tele.model ops and one tele.plan). Errors are
/// reported as diagnostics; returns failure after reporting.
LogicalResult trainPlan(ModuleOp plan, const TrainOptions &options);

/// The directory of the default corpus: $TELE_DATA_DIR, else
/// <dir of the running executable>/../share/tele/corpus.
std::string defaultDataDir();

} // namespace mlir::tele

#endif // TELE_TRAIN_TRAINER_H
