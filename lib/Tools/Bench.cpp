//===- Bench.cpp - tele bench: time a plan's training step on the GPU -----===//
//
// This file implements `tele bench`: the first stage of a plan is compiled
// (tele passes + CUDA program) and its training step run on GPU 0 on random
// tokens, after warm-up steps (the first eager, the next captured as a CUDA
// graph). It prints one JSON line in the shape of the PyTorch reference
// benchmark's, so bench/run.sh can put tele next to PyTorch:
//   ms per step (median of the timed steps), tokens/s, MFU with
//   flops = 6 N tokens + 6 L d T tokens (causal attention at half) over
//   989 TFLOP/s (dense bf16, H100 SXM), device memory in use after the
//   steps, the planned arena, and compile time (passes + PTX + load).
//
// Weights are drawn from a fast uniform generator scaled to the model's
// init std (runtime/bench/StepBench.h, shared with tele-run).
//
//===----------------------------------------------------------------------===//

#include "tele/Tools/Commands.h"
#include "tele/Train/CudaBackend.h"
#include "tele/Train/StageCompiler.h"
#include "bench/StepBench.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>

using namespace mlir;
using namespace mlir::tele;
using namespace mlir::tele::exec;
using Clock = std::chrono::steady_clock;

namespace {
double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Every state entry `fn` reads: uniform with the init std for `normal`,
/// ones, zeros.
void fillState(func::FuncOp fn, TrainingState<float> &state, double initStd,
               uint64_t seed) {
  fn.walk([&](ParamOp p) {
    if (state.contains(p.getName()))
      return;
    auto ty = p.getType();
    std::vector<float> data(ty.getNumElements(), 0.0f);
    if (p.getInit() == ParamInit::ones)
      std::fill(data.begin(), data.end(), 1.0f);
    else if (p.getInit() == ParamInit::normal)
      ::tele::bench::fillUniform(data, initStd, seed);
    state.set(p.getName(), ty.getShape(),
              std::make_shared<const std::vector<float>>(std::move(data)));
  });
}
} // namespace

LogicalResult mlir::tele::benchPlan(ModuleOp plan, const BenchOptions &opts) {
  Location loc = plan.getLoc();
  auto stages = schedulePlan(plan);
  if (failed(stages))
    return failure();
  StageOp stage = stages->front().stage;
  auto model = plan.lookupSymbol<ModelOp>(stage.getModelAttr());
  ModelConfigAttr cfg = model.getConfig();
  int64_t batch = stage.getConfig().getBatch(), seqLen = cfg.getSeqLen();

  auto gpu = CudaBackend::open(loc);
  if (failed(gpu))
    return failure();

  auto t0 = Clock::now();
  StageCompileOptions options{batch, Float32Type::get(plan.getContext()), 0};
  auto compiled = compileStage(plan, stage, StagePhase::Steady, options);
  if (failed(compiled))
    return failure();
  double passSeconds = secondsSince(t0);
  func::FuncOp step = compiled->step;
  if (failed((*gpu)->prepare(step)))
    return failure();
  double compileSeconds = secondsSince(t0);

  TrainingState<float> state;
  fillState(step, state, cfg.getInitStdValue(), opts.seed);
  int64_t params = 0;
  for (const auto &[name, entry] : state.all())
    if (!StringRef(name).starts_with("optim."))
      params += int64_t(entry.data->size());
  if (failed((*gpu)->upload(state, loc)))
    return failure();

  uint64_t rng = opts.seed ^ 0xA5A5A5A5ull;
  auto tokens = [&] {
    return ::tele::bench::randomTokens(batch * seqLen, cfg.getVocab(), rng);
  };
  SmallVector<HostValue<float>> args = {
      HostValue<float>::fromTokens({batch, seqLen}, tokens()),
      HostValue<float>::fromTokens({batch, seqLen}, tokens()),
      HostValue<float>::fromStep(0), HostValue<float>::fromStep(1)};
  double loss = 0;
  std::vector<double> times;
  for (int64_t i = 0; i < opts.warmup + opts.steps; ++i) {
    args[2] = HostValue<float>::fromStep(i);
    args[3] = HostValue<float>::fromStep(i + 1);
    auto ts = Clock::now();
    auto out = (*gpu)->run(step, args, {});
    if (failed(out))
      return failure();
    if (i >= opts.warmup)
      times.push_back(secondsSince(ts));
    loss = (*out)[0];
  }
  auto t = ::tele::bench::summarize(times, params, cfg.getLayers(), cfg.getHidden(), seqLen,
                                     batch);
  llvm::json::Object line{
      {"cfg", model.getSymName()},
      {"mode", "tele"},
      {"device", (*gpu)->deviceName()},
      {"params", params},
      {"ms", t.ms},
      {"ms_min", t.msMin},
      {"tok_s", t.tokensPerSec},
      {"mfu", t.mfu},
      {"compile_s", std::round(compileSeconds * 1e3) / 1e3},
      {"passes_s", std::round(passSeconds * 1e3) / 1e3},
      {"mem_gb", double((*gpu)->deviceBytesInUse()) / double(1ll << 30)},
      {"arena_gb", double((*gpu)->arenaBytes(step)) / double(1ll << 30)},
      {"loss", loss},
  };
  llvm::outs() << llvm::json::Value(std::move(line)) << "\n";
  return success();
}
