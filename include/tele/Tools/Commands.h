//===- Commands.h - subcommands of the tele tool ----------------*- C++ -*-===//
//
// This file declares the library functions behind `tele compile`,
// `tele data` and `tele grow`, so that the tool's main stays a thin parser.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_TOOLS_COMMANDS_H
#define TELE_TOOLS_COMMANDS_H

#include "mlir/IR/BuiltinOps.h"
#include <string>
#include <vector>

namespace mlir::tele {

/// Writes `<outDir>/<stage>.mlir` (and `<stage>.transition.mlir` for grown
/// stages) with the compiled training step of every stage.
LogicalResult compilePlan(ModuleOp plan, llvm::StringRef target,
                          llvm::StringRef outDir);

/// Tokenizes UTF-8 text files into `<outDir>/train.tok` and `val.tok`.
LogicalResult prepareData(MLIRContext *ctx,
                          const std::vector<std::string> &inputs,
                          llvm::StringRef format, double valFraction,
                          llvm::StringRef outDir);

struct GrowOptions {
  std::string checkpoint;
  /// A plan file (its growth ops that start from the checkpoint's model
  /// apply, one after another) or `key=value,...` overriding the source
  /// model's hidden, heads, ffn and layers.
  std::string to;
  std::string out;
  bool verify = false;
  uint64_t seed = 1234;
  std::string dataDir;
  bool fp64 = false;
  /// Replace `out` if it exists (never the input checkpoint).
  bool overwrite = false;
};

/// Grows a checkpoint of one of `plan`'s models.
LogicalResult growCheckpoint(ModuleOp plan, const GrowOptions &options);

/// `tele check`: verifies a checkpoint's checksums (streaming, without
/// loading a model) and its progress counters; prints one summary line.
LogicalResult checkCheckpoint(MLIRContext *ctx, StringRef path);

/// Prints a text chart of the loss in `metricsPath` (metrics.jsonl) with
/// growth marks, and writes an SVG plot to `svgPath` unless it is empty.
LogicalResult plotMetrics(MLIRContext *ctx, llvm::StringRef metricsPath,
                          llvm::StringRef svgPath);

struct BenchOptions {
  int64_t steps = 20;
  int64_t warmup = 3;
  uint64_t seed = 1234;
};

/// Times the training step of `plan`'s first stage on GPU 0 and prints one
/// JSON line (ms/step, tokens/s, MFU, memory, compile time).
LogicalResult benchPlan(ModuleOp plan, const BenchOptions &options);

} // namespace mlir::tele

#endif // TELE_TOOLS_COMMANDS_H
