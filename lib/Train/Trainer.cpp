//===- Trainer.cpp - run a staged training plan ---------------------------===//
//
// This file implements `tele train`: for each stage of the plan it compiles
// the training step with the tele pass pipeline and runs it on the CPU
// executor. Between stages it applies growth: it measures the loss and logits
// of the small model on a calibration batch, chooses the layers to copy
// (depth growth), runs the lowered parameter map on the training state and
// measures the masked grown model on the same batch at mask 0. During a
// transition the masks ramp c(t) = min(1, t/T) and the masked graph runs;
// afterwards the masks are folded away. Metrics go to metrics.jsonl,
// checkpoints to ckpt-<step>.safetensors.
//
// Everything that decides a step's result (state tensors, data position,
// stage and step counters, chosen layers) is in the checkpoint, so a resumed
// run computes bit-identical losses.
//
//===----------------------------------------------------------------------===//

#include "tele/Train/Trainer.h"
#include "tele/Train/CudaBackend.h"
#include "tele/Train/Growth.h"
#include "tele/Train/StageCompiler.h"
#include "tele/Train/TrainState.h"
#include "tele/Dialect/Tele/Transforms/ModelBuilder.h"
#include "tele/Execution/Interpreter.h"
#include "MemoryBudget.h"
#include "StaleTempFiles.h"
#include "data/TokenFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"
#include <chrono>
#include <cmath>
#include <unistd.h>

using namespace mlir;
using namespace mlir::tele;
using namespace mlir::tele::exec;

std::string mlir::tele::defaultDataDir() {
  if (const char *env = std::getenv("TELE_DATA_DIR"))
    return env;
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  SmallString<256> dir(llvm::sys::path::parent_path(exe));
  llvm::sys::path::append(dir, "..", "share", "tele", "corpus");
  return std::string(dir);
}

namespace {
using Clock = std::chrono::steady_clock;

/// One stage of the plan and the growth chain right before it.
using PlanStage = ScheduledStage;

LogicalResult fail(Location loc, const Twine &message) {
  return emitError(loc) << message;
}

/// The files of an earlier run in `dir`: metrics.jsonl and checkpoints.
std::vector<std::string> earlierRunFiles(StringRef dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    if (name == "metrics.jsonl" ||
        (name.starts_with("ckpt-") && name.ends_with(".safetensors")))
      files.push_back(it->path());
  }
  llvm::sort(files);
  return files;
}

bool allOnes(const std::map<std::string, double> &masks) {
  return llvm::all_of(masks, [](const auto &kv) { return kv.second >= 1.0; });
}

std::string formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "?";
  int64_t s = (int64_t)std::llround(seconds);
  if (s >= 3600)
    return llvm::formatv("{0}h{1:2}m", s / 3600, (s % 3600) / 60).str();
  if (s >= 60)
    return llvm::formatv("{0}m{1:2}s", s / 60, s % 60).str();
  return llvm::formatv("{0}s", s).str();
}

/// Runs one plan in element type T.
template <typename T> class PlanRunner {
public:
  PlanRunner(ModuleOp plan, const TrainOptions &opts)
      : plan(plan), opts(opts), ctx(plan.getContext()) {
    counters.seed = opts.seed;
  }

  LogicalResult run();

private:
  LogicalResult collectStages();
  LogicalResult openData(const PlanStage &ps);
  /// Opens the stage's data and checks it fits the model: the vocabulary,
  /// one training sequence, one validation batch.
  LogicalResult checkData(const PlanStage &ps);
  /// Checks a resumed run's counters against the plan's stages.
  LogicalResult checkProgressFitsPlan(StringRef path);
  /// Refuses a plan whose state (parameters, AdamW moments, gradients) and
  /// logits alone need more host memory than there is.
  LogicalResult checkHostMemory();
  /// Creates the output directory and (re)opens metrics.jsonl, deleting an
  /// earlier run's files with --overwrite: done at the first write, after
  /// every input has been checked, so a failed start changes nothing.
  LogicalResult prepareOutput();
  LogicalResult openMetrics(bool truncateAfterStep);
  LogicalResult growInto(size_t stageIndex);
  LogicalResult runStage(size_t stageIndex);
  FailureOr<std::pair<double, std::vector<T>>>
  evaluate(func::FuncOp eval, ArrayRef<int32_t> inputs,
           ArrayRef<int32_t> targets, int64_t batch, int64_t seqLen);
  FailureOr<double> validationLoss(func::FuncOp eval, int64_t batch,
                                   int64_t seqLen);
  LogicalResult saveCheckpoint();
  /// Runs a step or evaluation function on the GPU (with --device cuda) or
  /// the CPU executor; returns its scalar results (NaN for tensors).
  FailureOr<std::vector<double>> runScalars(func::FuncOp fn,
                                            ArrayRef<HostValue<T>> args);
  /// With --device cuda, brings the host state up to date with the device.
  LogicalResult syncStateToHost();
  LogicalResult writeMetrics(llvm::json::Object record);
  void progress(const PlanStage &ps, double loss, double tokensPerSec,
                bool final);
  FloatType elementType() {
    return opts.fp64 ? FloatType(Float64Type::get(ctx))
                     : FloatType(Float32Type::get(ctx));
  }
  ModelOp modelOf(StageOp s) {
    return plan.lookupSymbol<ModelOp>(s.getModelAttr());
  }

  ModuleOp plan;
  const TrainOptions &opts;
  MLIRContext *ctx;
  std::vector<PlanStage> stages;
  int64_t planSteps = 0;  ///< steps of the plan, capped by maxSteps

  TrainingState<T> state;
  Progress counters;
  ::tele::data::TokenFile trainFile, valFile;
  std::string openDataDir;
  std::unique_ptr<llvm::raw_fd_ostream> metrics;
  bool outputReady = false;
  Clock::time_point started = Clock::now();
  int64_t stepsThisRun = 0;
  bool interactive = false;
  std::vector<double> losses; ///< this run's training losses, for the summary
  /// The GPU executor (--device cuda, fp32 only) and whether the device
  /// state is newer than the host's.
  std::unique_ptr<CudaBackend> gpu;
  bool deviceAhead = false;
};

template <typename T>
FailureOr<std::vector<double>>
PlanRunner<T>::runScalars(func::FuncOp fn, ArrayRef<HostValue<T>> args) {
  if constexpr (std::is_same_v<T, float>) {
    if (gpu) {
      auto out = gpu->run(fn, args, state.masks);
      if (succeeded(out))
        deviceAhead = true;
      return out;
    }
  }
  auto results = execute<T>(fn, args, state);
  if (!results)
    return fail(fn.getLoc(), llvm::toString(results.takeError()));
  std::vector<double> out;
  for (const HostValue<T> &v : *results)
    out.push_back(v.shape.empty() && v.floats ? double(v.scalar()) : std::nan(""));
  return out;
}

template <typename T> LogicalResult PlanRunner<T>::syncStateToHost() {
  if constexpr (std::is_same_v<T, float>) {
    if (gpu && deviceAhead) {
      if (failed(gpu->download(state, plan.getLoc())))
        return failure();
      deviceAhead = false;
    }
  }
  return success();
}

template <typename T> LogicalResult PlanRunner<T>::collectStages() {
  auto schedule = schedulePlan(plan);
  if (failed(schedule))
    return failure();
  stages.assign(schedule->begin(), schedule->end());
  for (PlanStage &ps : stages)
    planSteps += ps.stage.getConfig().getSteps();
  if (opts.maxSteps)
    planSteps = std::min(planSteps, *opts.maxSteps);
  return success();
}

template <typename T>
LogicalResult PlanRunner<T>::openData(const PlanStage &constStage) {
  PlanStage ps = constStage;
  std::string dir = ps.stage.getData() ? ps.stage.getData()->str()
                    : opts.dataDir.empty() ? defaultDataDir()
                                           : opts.dataDir;
  if (dir == openDataDir)
    return success();
  auto open = [&](StringRef name, ::tele::data::TokenFile &file) {
    SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    ::tele::rt::Status st = ::tele::data::TokenFile::open(std::string(path), file);
    // The hint only where the default corpus was looked for.
    bool defaultCorpus = !ps.stage.getData() && opts.dataDir.empty() &&
                         !std::getenv("TELE_DATA_DIR");
    if (!st)
      return fail(ps.stage.getLoc(), st.message() +
                                          (defaultCorpus
                                               ? " (the default corpus is built "
                                                 "with the project; set "
                                                 "TELE_DATA_DIR or --data)"
                                               : ""));
    return success();
  };
  if (failed(open("train.tok", trainFile)) || failed(open("val.tok", valFile)))
    return failure();
  openDataDir = dir;
  return success();
}

template <typename T>
LogicalResult PlanRunner<T>::checkData(const PlanStage &ps) {
  StageOp stage = ps.stage;
  ModelConfigAttr model = modelOf(stage).getConfig();
  int64_t batch = stage.getConfig().getBatch(), seqLen = model.getSeqLen();
  if (failed(openData(ps)))
    return failure();
  if (trainFile.vocabSize() > uint64_t(model.getVocab()))
    return fail(stage.getLoc(), "data file " + trainFile.path() +
                                    " has vocabulary " +
                                    Twine(trainFile.vocabSize()) +
                                    ", larger than model vocab " +
                                    Twine(model.getVocab()));
  // Training needs one sequence, validation (every --eval-every steps and at
  // the stage's end) one full batch.
  ::tele::data::BatchSampler trainCheck(trainFile, batch, seqLen, opts.seed);
  if (!trainCheck.status())
    return fail(stage.getLoc(), trainCheck.status().message());
  if (::tele::data::BatchSampler(valFile, batch, seqLen, opts.seed)
          .numSequentialBatches() == 0)
    return fail(stage.getLoc(), "validation file " + valFile.path() +
                                    " is shorter than one batch (" +
                                    Twine(batch) + " x " + Twine(seqLen + 1) +
                                    " tokens)");
  return success();
}

template <typename T>
LogicalResult PlanRunner<T>::checkProgressFitsPlan(StringRef path) {
  // Stages run to their end before the next begins, so the step and token
  // counters follow from the stage index and stage step.
  int64_t step = 0, tokens = 0;
  for (int64_t i = 0; i < counters.stageIndex; ++i) {
    StageConfigAttr cfg = stages[i].stage.getConfig();
    step += cfg.getSteps();
    tokens += cfg.getSteps() * cfg.getBatch() *
              modelOf(stages[i].stage).getConfig().getSeqLen();
  }
  StageOp stage = stages[counters.stageIndex].stage;
  StageConfigAttr cfg = stage.getConfig();
  step += counters.stageStep;
  tokens += counters.stageStep * cfg.getBatch() *
            modelOf(stage).getConfig().getSeqLen();
  if (counters.stageStep > cfg.getSteps() || step != counters.step ||
      tokens != counters.tokens)
    return fail(plan.getLoc(),
                path + " is at step " + Twine(counters.step) + " (stage " +
                    Twine(counters.stageIndex) + " step " +
                    Twine(counters.stageStep) + ", " + Twine(counters.tokens) +
                    " tokens), which this plan's stages never reach (step " +
                    Twine(step) + ", " + Twine(tokens) + " tokens)");
  return success();
}

template <typename T> LogicalResult PlanRunner<T>::checkHostMemory() {
  // A lower bound: parameters, two AdamW moments and the gradients, plus the
  // logits and their gradient; the executor needs more (activations).
  uint64_t elementBytes = opts.fp64 ? 8 : 4, need = 0;
  StageOp worst;
  for (size_t i = counters.stageIndex; i < stages.size(); ++i) {
    StageOp stage = stages[i].stage;
    ModelConfigAttr m = modelOf(stage).getConfig();
    double bytes = (4.0 * double(m.getNumParameters()) +
                    2.0 * double(stage.getConfig().getBatch()) *
                        double(m.getSeqLen()) * double(m.getVocab())) *
                   double(elementBytes);
    // On the GPU the host holds the state (parameters and moments) only.
    if (opts.device == "cuda")
      bytes = 3.0 * double(m.getNumParameters()) * double(elementBytes);
    if (bytes > double(need)) {
      need = bytes >= 1.8e19 ? UINT64_MAX : uint64_t(bytes);
      worst = stage;
    }
  }
  uint64_t available = ::tele::rt::availableHostMemory();
  if (need <= available)
    return success();
  return fail(worst.getLoc(),
              "stage " + worst.getSymName() + " needs at least " +
                  ::tele::rt::formatBytes(double(need)) +
                  " of host memory (model " + worst.getModel() + ": " +
                  Twine(modelOf(worst).getConfig().getNumParameters()) +
                  " parameters with AdamW state and gradients, and the "
                  "logits), but " +
                  ::tele::rt::formatBytes(double(available)) + " is available");
}

template <typename T> LogicalResult PlanRunner<T>::prepareOutput() {
  if (outputReady)
    return success();
  if (auto ec = llvm::sys::fs::create_directories(opts.outDir))
    return fail(plan.getLoc(),
                "cannot create " + opts.outDir + ": " + ec.message());
  if (opts.overwrite)
    for (const std::string &file : earlierRunFiles(opts.outDir))
      if (auto ec = llvm::sys::fs::remove(file))
        return fail(plan.getLoc(), "--overwrite: cannot delete " + file +
                                       ": " + ec.message());
  if (failed(openMetrics(opts.resume)))
    return failure();
  outputReady = true;
  return success();
}

template <typename T>
LogicalResult PlanRunner<T>::openMetrics(bool truncateAfterStep) {
  SmallString<256> path(opts.outDir);
  llvm::sys::path::append(path, "metrics.jsonl");
  std::string kept;
  if (truncateAfterStep) {
    // Records past the checkpoint were not part of the resumed history.
    if (auto buf = llvm::MemoryBuffer::getFile(path)) {
      SmallVector<StringRef> lines;
      (*buf)->getBuffer().split(lines, '\n', -1, false);
      for (StringRef line : lines) {
        auto parsed = llvm::json::parse(line);
        if (!parsed) {
          llvm::consumeError(parsed.takeError());
          continue;
        }
        auto *obj = parsed->getAsObject();
        std::optional<int64_t> step = obj ? obj->getInteger("step") : std::nullopt;
        // A growth at step S happens after checkpoint S, so a resumed run
        // repeats it (and its record).
        bool event = obj && obj->getString("event");
        if (step && (*step > counters.step || (event && *step >= counters.step)))
          continue;
        kept += line.str() + "\n";
      }
    }
  }
  std::error_code ec;
  metrics = std::make_unique<llvm::raw_fd_ostream>(path, ec);
  if (ec)
    return fail(plan.getLoc(), "cannot write " + path + ": " + ec.message());
  *metrics << kept;
  metrics->flush();
  return success();
}

template <typename T>
LogicalResult PlanRunner<T>::writeMetrics(llvm::json::Object record) {
  if (failed(prepareOutput()))
    return failure();
  *metrics << llvm::json::Value(std::move(record)) << "\n";
  metrics->flush();
  if (metrics->has_error()) {
    // Cleared so that the stream's destructor does not abort the process.
    metrics->clear_error();
    return fail(plan.getLoc(), "cannot write metrics.jsonl in " + opts.outDir);
  }
  return success();
}

template <typename T>
FailureOr<std::pair<double, std::vector<T>>>
PlanRunner<T>::evaluate(func::FuncOp eval, ArrayRef<int32_t> inputs,
                        ArrayRef<int32_t> targets, int64_t batch,
                        int64_t seqLen) {
  SmallVector<HostValue<T>> args = {
      HostValue<T>::fromTokens({batch, seqLen}, std::vector<int32_t>(inputs)),
      HostValue<T>::fromTokens({batch, seqLen}, std::vector<int32_t>(targets))};
  auto results = execute<T>(eval, args, state);
  if (!results)
    return fail(eval.getLoc(), llvm::toString(results.takeError()));
  return std::make_pair(double((*results)[0].scalar()),
                        std::vector<T>(*(*results)[1].floats));
}

template <typename T>
FailureOr<double> PlanRunner<T>::validationLoss(func::FuncOp eval,
                                                int64_t batch, int64_t seqLen) {
  ::tele::data::BatchSampler sampler(valFile, batch, seqLen, opts.seed);
  uint64_t available = sampler.numSequentialBatches();
  if (available == 0)
    return fail(eval.getLoc(), "validation file " + valFile.path() +
                                   " is shorter than one batch");
  std::vector<int32_t> in(batch * seqLen), tg(batch * seqLen);
  double total = 0;
  int64_t n = std::min<int64_t>(opts.evalBatches, available);
  for (int64_t i = 0; i < n; ++i) {
    if (auto st = sampler.sequentialBatch(i, in.data(), tg.data()); !st)
      return fail(eval.getLoc(), st.message());
    SmallVector<HostValue<T>> args = {
        HostValue<T>::fromTokens({batch, seqLen}, in),
        HostValue<T>::fromTokens({batch, seqLen}, tg)};
    auto r = runScalars(eval, args);
    if (failed(r))
      return failure();
    total += (*r)[0];
  }
  return total / double(n);
}

template <typename T> LogicalResult PlanRunner<T>::growInto(size_t index) {
  const PlanStage &ps = stages[index];
  Operation *grow = ps.lastGrowth();
  SmallVector<Operation *> chain = growthChainEndingAt(grow);
  StageOp stage = ps.stage;
  int64_t batch = stage.getConfig().getBatch();
  // The model before the whole chain: what the grown model must reproduce.
  ModelOp source = cast<GrowthOpInterface>(chain.front()).getSourceModel();
  int64_t seqLen = source.getConfig().getSeqLen();

  // The calibration batch: the first validation batch.
  ::tele::data::BatchSampler sampler(valFile, batch, seqLen, opts.seed);
  std::vector<int32_t> in(batch * seqLen), tg(batch * seqLen);
  if (auto st = sampler.sequentialBatch(0, in.data(), tg.data()); !st)
    return fail(grow->getLoc(), "calibration batch: " + st.message());

  auto before = compileEvalOnly(source, batch, elementType());
  if (failed(before))
    return failure();
  auto small = evaluate(before->eval, in, tg, batch, seqLen);
  if (failed(small))
    return failure();

  std::string kind;
  for (Operation *op : chain)
    kind += (kind.empty() ? "" : "+") +
            std::string(isa<GrowWidthOp>(op) ? "width" : "depth");
  llvm::json::Object event{{"event", "grow"},
                           {"stage", stage.getSymName()},
                           {"step", counters.step},
                           {"kind", kind},
                           {"from", source.getSymName()},
                           {"to", stage.getModel()}};
  // Width growth keeps the layer count, so the layers to copy are ranked on
  // the model before the chain, which the grown model reproduces.
  auto distances =
      chooseLayersToCopy<T>(chain, source, in, batch, elementType(), state);
  if (failed(distances))
    return failure();
  if (!distances->empty())
    event["layer_distances"] = llvm::json::Array(*distances);
  for (Operation *op : chain)
    if (auto depth = dyn_cast<GrowDepthOp>(op))
      event["copy_layers"] = llvm::json::Array(*depth.getCopyLayers());

  StageCompileOptions options{batch, elementType(),
                              int64_t(opts.seed) + ps.growIndex};
  auto grown = compileStage(plan, stage, StagePhase::Transition, options);
  if (failed(grown))
    return failure();
  for (func::FuncOp map : grown->paramMaps)
    if (auto mapped = execute<T>(map, {}, state); !mapped)
      return fail(grow->getLoc(), llvm::toString(mapped.takeError()));
  state.masks = growthMaskValues(grow, 0);
  auto large = evaluate(grown->eval, in, tg, batch, seqLen);
  if (failed(large))
    return failure();

  double maxDiff = 0;
  for (size_t i = 0; i < small->second.size(); ++i)
    maxDiff = std::max(maxDiff, std::abs(double(small->second[i]) -
                                         double(large->second[i])));
  double rel = std::abs(large->first - small->first) /
               std::max(std::abs(small->first), 1e-30);
  event["loss_before"] = small->first;
  event["loss_after"] = large->first;
  event["relative_loss_change"] = rel;
  event["max_abs_logit_diff"] = maxDiff;
  if (failed(writeMetrics(std::move(event))))
    return failure();
  if (!opts.quiet) {
    if (interactive)
      llvm::errs() << "\n";
    llvm::errs() << llvm::formatv(
        "grow {0} -> {1}: loss {2:f6} before, {3:f6} after (relative change "
        "{4:e2}, max |logit diff| {5:e2})\n",
        source.getSymName(), stage.getModel(), small->first, large->first, rel,
        maxDiff);
  }
  return success();
}

template <typename T>
void PlanRunner<T>::progress(const PlanStage &ps, double loss,
                             double tokensPerSec, bool final) {
  if (opts.quiet)
    return;
  StageOp stage = ps.stage;
  double elapsed =
      std::chrono::duration<double>(Clock::now() - started).count();
  double perStep = stepsThisRun ? elapsed / stepsThisRun : 0;
  double eta = perStep * double(planSteps - counters.step);
  std::string line = llvm::formatv(
      "[{0}] step {1}/{2} loss {3:f4} {4:f0} tok/s ETA {5}",
      stage.getSymName(), counters.step, planSteps, loss, tokensPerSec,
      formatDuration(eta));
  if (interactive) {
    llvm::errs() << "\r" << line << "\x1b[K";
    if (final)
      llvm::errs() << "\n";
  } else if (final || counters.step % std::max<int64_t>(1, planSteps / 20) == 0) {
    llvm::errs() << line << "\n";
  }
}

template <typename T> LogicalResult PlanRunner<T>::runStage(size_t index) {
  const PlanStage &ps = stages[index];
  StageOp stage = ps.stage;
  StageConfigAttr cfg = stage.getConfig();
  ModelConfigAttr model = modelOf(stage).getConfig();
  int64_t batch = cfg.getBatch(), seqLen = model.getSeqLen();
  // run() checked every stage's data before the first step; this opens it.
  if (failed(checkData(ps)))
    return failure();

  if (ps.grows() && counters.stageStep == 0 && failed(growInto(index)))
    return failure();

  StageCompileOptions options{batch, elementType(),
                              int64_t(opts.seed) + ps.growIndex};
  // Compiled lazily: masked during the transition, folded afterwards.
  std::optional<CompiledStage> masked, plain;
  auto stepFor = [&](bool transition) -> FailureOr<CompiledStage *> {
    std::optional<CompiledStage> &slot = transition ? masked : plain;
    if (!slot) {
      auto compiled = compileStage(
          plan, stage, transition ? StagePhase::Transition : StagePhase::Steady,
          options);
      if (failed(compiled))
        return failure();
      slot = std::move(*compiled);
    }
    return &*slot;
  };

  // A fresh run initialises every tensor the step reads; any later stage or
  // a resumed run must find all of them (with the right shapes) in the
  // state, so that a checkpoint of another plan is reported, not patched.
  {
    auto first = stepFor(ps.grows() &&
                         !allOnes(growthMaskValues(ps.lastGrowth(), counters.stageStep)));
    if (failed(first))
      return failure();
    if (index == 0 && counters.step == 0)
      if (auto err = initializeState<T>((*first)->step, state, opts.seed,
                                        model.getInitStdValue()))
        return fail(stage.getLoc(), llvm::toString(std::move(err)));
    if (failed(checkStateMatches<T>((*first)->step, state,
                                    opts.resume ? "checkpoint" : "training state")))
      return failure();
  }
  if constexpr (std::is_same_v<T, float>)
    if (gpu && failed(gpu->upload(state, stage.getLoc())))
      return failure();

  ::tele::data::BatchSampler sampler(trainFile, batch, seqLen, opts.seed);
  if (!sampler.status())
    return fail(stage.getLoc(), sampler.status().message());
  sampler.seek(counters.samplerPosition);
  std::vector<int32_t> in(batch * seqLen), tg(batch * seqLen);

  while (counters.stageStep < cfg.getSteps() && counters.step < planSteps) {
    state.masks = growthMaskValues(ps.lastGrowth(), counters.stageStep);
    bool transition = ps.grows() && !allOnes(state.masks);
    auto compiled = stepFor(transition);
    if (failed(compiled))
      return failure();
    // The batch this step trains on, recorded so that tests can check the
    // documented order (step s trains on batch s - 1) across stages,
    // growths and resumes.
    uint64_t batchIndex = sampler.position();
    if (auto st = sampler.next(in.data(), tg.data()); !st)
      return fail(stage.getLoc(), st.message());
    auto t0 = Clock::now();
    SmallVector<HostValue<T>> args = {
        HostValue<T>::fromTokens({batch, seqLen}, in),
        HostValue<T>::fromTokens({batch, seqLen}, tg),
        HostValue<T>::fromStep(counters.stageStep),
        HostValue<T>::fromStep(counters.step + 1)};
    auto results = runScalars((*compiled)->step, args);
    if (failed(results))
      return failure();
    double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    double loss = (*results)[0];
    if (!std::isfinite(loss))
      return fail(stage.getLoc(), "loss is " + std::to_string(loss) + " at step " +
                                      Twine(counters.step + 1) +
                                      "; lower the learning rate");
    counters.step += 1;
    counters.stageStep += 1;
    counters.tokens += batch * seqLen;
    counters.samplerPosition = sampler.position();
    ++stepsThisRun;
    losses.push_back(loss);

    double tokensPerSec = double(batch * seqLen) / std::max(seconds, 1e-9);
    llvm::json::Object record{
        {"stage", stage.getSymName()},
        {"step", counters.step},
        {"stage_step", counters.stageStep},
        {"tokens", counters.tokens},
        {"batch", int64_t(batchIndex)},
        {"loss", loss},
        {"lr", (*results)[2]},
        {"lr_vector", (*results)[3]},
        {"grad_norm", (*results)[1]},
        {"tokens_per_sec", tokensPerSec},
        {"elapsed_s",
         std::chrono::duration<double>(Clock::now() - started).count()}};
    for (auto &[name, value] : state.masks)
      record[name] = value;
    bool stageEnd = counters.stageStep == cfg.getSteps() ||
                    counters.step == planSteps;
    if ((opts.evalEvery > 0 && counters.step % opts.evalEvery == 0) ||
        stageEnd) {
      auto val = validationLoss((*compiled)->eval, batch, seqLen);
      if (failed(val))
        return failure();
      record["val_loss"] = *val;
    }
    if (failed(writeMetrics(std::move(record))))
      return failure();
    progress(ps, loss, tokensPerSec, stageEnd);
    if (opts.saveEvery > 0 && counters.step % opts.saveEvery == 0 &&
        failed(saveCheckpoint()))
      return failure();
  }
  // Growth and checkpoints work on the host state; this stage's programs
  // go with its compiled functions.
  if (failed(syncStateToHost()))
    return failure();
  if constexpr (std::is_same_v<T, float>)
    if (gpu)
      gpu->releasePrograms();
  return success();
}

template <typename T> LogicalResult PlanRunner<T>::saveCheckpoint() {
  if (failed(syncStateToHost()) || failed(prepareOutput()))
    return failure();
  std::string path = checkpointPath(opts.outDir, counters.step);
  if (auto err = writeCheckpoint<T>(path, state, counters, plan))
    return fail(plan.getLoc(), llvm::toString(std::move(err)));
  return success();
}

template <typename T> LogicalResult PlanRunner<T>::run() {
  interactive = ::isatty(2) && !opts.quiet;
  if (failed(collectStages()))
    return failure();
  if (opts.device == "cuda") {
    if constexpr (std::is_same_v<T, float>) {
      auto backend = CudaBackend::open(plan.getLoc());
      if (failed(backend))
        return failure();
      gpu = std::move(*backend);
      if (!opts.quiet)
        llvm::errs() << "device: " << gpu->deviceName() << "\n";
    }
  }
  // A directory belongs to one run: a fresh start must not mix its metrics
  // and checkpoints with an earlier run's (a later --resume would load the
  // old checkpoint). Temporary files of a killed write go first.
  for (const std::string &name : ::tele::rt::removeStaleTempFiles(opts.outDir))
    if (!opts.quiet)
      llvm::errs() << "removed " << name << " (left by a killed write)\n";
  if (!opts.resume && !opts.overwrite) {
    std::vector<std::string> earlier = earlierRunFiles(opts.outDir);
    if (!earlier.empty()) {
      size_t checkpoints = llvm::count_if(earlier, [](StringRef f) {
        return f.ends_with(".safetensors");
      });
      std::string what =
          checkpoints == earlier.size() ? "" : "metrics.jsonl, ";
      what += std::to_string(checkpoints) +
              (checkpoints == 1 ? " checkpoint" : " checkpoints");
      return fail(plan.getLoc(), opts.outDir + " holds an earlier run (" +
                                     what +
                                     "); continue it with --resume or start "
                                     "again with --overwrite");
    }
  }

  if (opts.resume) {
    std::string path = newestCheckpoint(opts.outDir);
    if (path.empty())
      return fail(plan.getLoc(), "--resume: no checkpoint (ckpt-*.safetensors) in " +
                                     opts.outDir);
    if (auto err = readCheckpoint<T>(path, state, counters, plan))
      return fail(plan.getLoc(), llvm::toString(std::move(err)));
    if (counters.seed != opts.seed)
      return fail(plan.getLoc(), path + " was written with --seed " +
                                     Twine(counters.seed) +
                                     "; resume with the same seed");
    if (counters.stageIndex >= (int64_t)stages.size())
      return fail(plan.getLoc(), path + " is at stage " +
                                     Twine(counters.stageIndex) +
                                     " but the plan has " +
                                     Twine(stages.size()) + " stages");
    if (failed(checkProgressFitsPlan(path)))
      return failure();
    if (counters.step >= planSteps) {
      if (!opts.quiet)
        llvm::errs() << path << " is at step " << counters.step << " of "
                     << planSteps << ": nothing to train\n";
      return success();
    }
    if (!opts.quiet)
      llvm::errs() << "resuming from " << path << " at step " << counters.step
                   << "\n";
  }
  // Every input before the first write: the data of every stage still to
  // run, and the memory the state needs.
  for (size_t i = counters.stageIndex; i < stages.size(); ++i)
    if (failed(checkData(stages[i])))
      return failure();
  if (failed(checkHostMemory()))
    return failure();

  for (size_t i = counters.stageIndex; i < stages.size(); ++i) {
    if (counters.step >= planSteps)
      break;
    counters.stageIndex = i;
    if (failed(runStage(i)))
      return failure();
    if (counters.stageStep >= stages[i].stage.getConfig().getSteps() &&
        i + 1 < stages.size()) {
      counters.stageIndex = i + 1;
      counters.stageStep = 0;
    }
  }
  if (failed(saveCheckpoint()))
    return failure();
  if (!opts.quiet) {
    double first = losses.empty() ? NAN : losses.front();
    double last = 0;
    size_t n = std::min<size_t>(10, losses.size());
    for (size_t i = losses.size() - n; i < losses.size(); ++i)
      last += losses[i] / double(n);
    llvm::errs() << llvm::formatv(
        "trained {0} steps ({1} this run) in {2}; loss {3:f4} -> {4:f4} (mean "
        "of last {5})\nmetrics: {6}/metrics.jsonl\ncheckpoint: {7}\n",
        counters.step, stepsThisRun,
        formatDuration(
            std::chrono::duration<double>(Clock::now() - started).count()),
        first, last, n, opts.outDir, checkpointPath(opts.outDir, counters.step));
  }
  return success();
}
} // namespace

LogicalResult mlir::tele::trainPlan(ModuleOp plan, const TrainOptions &opts) {
  if (opts.maxSteps && *opts.maxSteps <= 0)
    return emitError(plan.getLoc())
           << "--steps must be positive, got " << *opts.maxSteps;
  if (opts.saveEvery < 0)
    return emitError(plan.getLoc())
           << "--save-every must be positive (or 0: only at the end), got "
           << opts.saveEvery;
  if (opts.evalEvery < 0)
    return emitError(plan.getLoc())
           << "--eval-every must be positive (or 0: only at stage ends), got "
           << opts.evalEvery;
  if (opts.resume && opts.overwrite)
    return emitError(plan.getLoc())
           << "--resume continues the run in --out, --overwrite starts it "
              "again: pass one";
  if (opts.device == "cuda" && opts.fp64)
    return emitError(plan.getLoc())
           << "--device cuda runs in fp32; --fp64 is for the CPU executor";
  if (opts.device != "cpu" && opts.device != "cuda")
    return emitError(plan.getLoc())
           << "unknown device '" << opts.device << "' (expected cpu or cuda)";
  if (opts.fp64)
    return PlanRunner<double>(plan, opts).run();
  return PlanRunner<float>(plan, opts).run();
}
