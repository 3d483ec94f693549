//===- Commands.cpp - subcommands of the tele tool ------------------------===//
//
// This file implements `tele compile`, `tele data`, `tele grow` and
// `tele check` over the tele libraries. `tele grow` runs the same lowered
// parameter map as a staged plan, and with --verify checks function
// preservation on a calibration batch: each growth's masked graph at mask 0
// against the model before it.
//
//===----------------------------------------------------------------------===//

#include "tele/Tools/Commands.h"
#include "tele/Config/PlanFile.h"
#include "tele/Conversion/Passes.h"
#include "tele/Target/CudaProgram.h"
#include "tele/Dialect/Tele/Transforms/ModelBuilder.h"
#include "tele/Train/Growth.h"
#include "tele/Train/StageCompiler.h"
#include "tele/Train/TrainState.h"
#include "tele/Train/Trainer.h"
#include "MemoryBudget.h"
#include "StaleTempFiles.h"
#include "checkpoint/SafeTensors.h"
#include "data/Corpus.h"
#include "data/TokenFile.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/JSON.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <cmath>

using namespace mlir;
using namespace mlir::tele;
using namespace mlir::tele::exec;
namespace json = llvm::json;

namespace {
LogicalResult fail(MLIRContext *ctx, const Twine &message) {
  return emitError(UnknownLoc::get(ctx)) << message;
}

/// Writes `text` to `path` and says so; a failed open or write is reported
/// as an error line (never left to raw_fd_ostream's fatal error).
LogicalResult writeFile(MLIRContext *ctx, StringRef path, StringRef text) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return fail(ctx, "cannot write " + path + ": " + ec.message());
  os << text;
  os.close();
  if (os.has_error()) {
    os.clear_error();
    return fail(ctx, "cannot write " + path);
  }
  llvm::outs() << "wrote " << path << "\n";
  return success();
}

std::string printed(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  os << "\n";
  return text;
}
} // namespace

//===----------------------------------------------------------------------===//
// tele compile
//===----------------------------------------------------------------------===//

namespace {
/// The training step as the GPU runtime runs it, from the module that
/// tele-train-step-pipeline{target=cuda} left: <stem>.ptx (the kernels),
/// <stem>.program.json (buffers and launches, see docs/program-format.md)
/// and <stem>.mlir (the step annotated with its kernels and memory plan).
LogicalResult writeCudaArtifacts(ModuleOp step, StringRef outDir,
                                 StringRef stem) {
  MLIRContext *ctx = step.getContext();
  // The PTX is lowered from a copy: the .mlir is the pipeline's output.
  FailureOr<CudaProgram> compiled = emitCudaProgram(step);
  if (failed(compiled))
    return failure();
  compiled->program["ptx"] = (stem + ".ptx").str();
  auto writeText = [&](StringRef suffix, StringRef text) {
    SmallString<256> path(outDir);
    llvm::sys::path::append(path, (stem + suffix).str());
    return writeFile(ctx, path, text);
  };
  std::string program;
  llvm::raw_string_ostream os(program);
  os << llvm::formatv("{0:1}", json::Value(std::move(compiled->program)));
  llvm::outs() << llvm::formatv("{0}: arena {1} MiB planned ({2} MiB unplanned)\n",
                                stem, compiled->arenaBytes >> 20,
                                compiled->unplannedBytes >> 20);
  return success(succeeded(writeText(".ptx", compiled->ptx)) &&
                 succeeded(writeText(".program.json", program)) &&
                 succeeded(writeText(".mlir", printed(step))));
}
} // namespace

LogicalResult mlir::tele::compilePlan(ModuleOp plan, StringRef target,
                                      StringRef outDir) {
  MLIRContext *ctx = plan.getContext();
  bool cuda = target == "cuda";
  if (target != "cpu" && !cuda)
    return fail(ctx, "unknown target '" + target + "' (expected cpu or cuda)");
  auto stages = schedulePlan(plan);
  if (failed(stages))
    return failure();
  if (auto ec = llvm::sys::fs::create_directories(outDir))
    return fail(ctx, "cannot create " + outDir + ": " + ec.message());

  // A stage after growth has two graphs: masked during the transition
  // (<stage>.transition) and folded afterwards (<stage>).
  for (ScheduledStage &s : *stages) {
    SmallVector<std::pair<StagePhase, std::string>> phases;
    if (s.grows())
      phases.push_back({StagePhase::Transition, ".transition"});
    phases.push_back({StagePhase::Steady, ""});
    StageCompileOptions options{s.stage.getConfig().getBatch(),
                                Float32Type::get(ctx), /*seed=*/0};
    for (auto &[phase, suffix] : phases) {
      auto module = compileStageModule(plan, s.stage, phase, options,
                                       cuda ? StepTarget::Cuda : StepTarget::Cpu);
      if (failed(module))
        return failure();
      std::string stem = (s.stage.getSymName() + suffix).str();
      if (cuda) {
        if (failed(writeCudaArtifacts(**module, outDir, stem)))
          return failure();
        continue;
      }
      SmallString<256> path(outDir);
      llvm::sys::path::append(path, stem + ".mlir");
      if (failed(writeFile(ctx, path, printed(**module))))
        return failure();
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// tele data
//===----------------------------------------------------------------------===//

LogicalResult mlir::tele::prepareData(MLIRContext *ctx,
                                      const std::vector<std::string> &inputs,
                                      StringRef format, double valFraction,
                                      StringRef outDir) {
  ::tele::data::CorpusOptions opts;
  if (format == "plain")
    opts.format = ::tele::data::CorpusFormat::Plain;
  else if (format == "fortune")
    opts.format = ::tele::data::CorpusFormat::Fortune;
  else
    return fail(ctx, "unknown --format '" + format + "' (expected plain or fortune)");
  opts.valFraction = valFraction;
  if (inputs.empty())
    return fail(ctx, "tele data: no input files");
  bool existed = llvm::sys::fs::exists(outDir);
  if (auto ec = llvm::sys::fs::create_directories(outDir))
    return fail(ctx, "cannot create " + outDir + ": " + ec.message());
  ::tele::rt::removeStaleTempFiles(outDir.str());
  SmallString<256> train(outDir), val(outDir);
  llvm::sys::path::append(train, "train.tok");
  llvm::sys::path::append(val, "val.tok");
  ::tele::data::CorpusStats stats;
  ::tele::rt::Status st = ::tele::data::prepareCorpus(
      inputs, opts, std::string(train), std::string(val), &stats);
  if (!st) {
    // A failed run leaves no trace: the directory it made goes (it is empty,
    // the token files are written atomically).
    if (!existed)
      (void)llvm::sys::fs::remove(outDir);
    return fail(ctx, st.message());
  }
  llvm::outs() << llvm::formatv(
      "{0} documents ({1} bytes): {2} train tokens in {3}, {4} validation "
      "tokens in {5}\n",
      stats.documents, stats.bytes, stats.trainTokens, train, stats.valTokens,
      val);
  return success();
}

//===----------------------------------------------------------------------===//
// tele grow
//===----------------------------------------------------------------------===//

namespace {
/// Builds a plan module: the source model, grown by `spec` (key=value,...).
FailureOr<OwningOpRef<ModuleOp>> planFromShape(ModelOp source, StringRef spec) {
  MLIRContext *ctx = source.getContext();
  ModelConfigAttr from = source.getConfig();
  int64_t hidden = -1, heads = -1, ffn = from.getFfn(), layers = from.getLayers();
  SmallVector<StringRef> items;
  spec.split(items, ',', -1, false);
  for (StringRef item : items) {
    auto [key, value] = item.split('=');
    int64_t v;
    if (value.trim().getAsInteger(10, v) || v <= 0)
      return fail(ctx, "--to: '" + item + "' is not key=positive integer");
    key = key.trim();
    if (key == "hidden") hidden = v;
    else if (key == "heads") heads = v;
    else if (key == "ffn") ffn = v;
    else if (key == "layers") layers = v;
    else
      return fail(ctx, "--to: unknown key '" + key +
                           "' (expected hidden, heads, ffn, layers)");
  }
  int64_t dh = from.getHeadDim();
  if (heads < 0 && hidden < 0) {
    heads = from.getHeads();
    hidden = from.getHidden();
  } else if (heads < 0) {
    if (hidden % dh)
      return fail(ctx, "--to: hidden " + Twine(hidden) +
                           " is not a multiple of head_dim " + Twine(dh));
    heads = hidden / dh;
  } else if (hidden < 0) {
    if (llvm::MulOverflow(heads, dh, hidden))
      return fail(ctx, "--to: heads " + Twine(heads) + " x head_dim " +
                           Twine(dh) + " overflows");
  }
  // The grown model must satisfy the model's invariants (hidden = heads x
  // head_dim, sizes that fit int64): checked like a parsed plan's.
  auto emitShapeError = [&] {
    return emitError(UnknownLoc::get(ctx)) << "--to '" << spec << "': ";
  };
  if (!ModelConfigAttr::getChecked(emitShapeError, ctx, from.getVocab(),
                                   hidden, heads, dh, ffn, layers,
                                   from.getSeqLen(), from.getEps(),
                                   from.getRopeTheta(), from.getAlphaOut(),
                                   from.getInitStd()))
    return failure();
  OwningOpRef<ModuleOp> module = ModuleOp::create(source.getLoc());
  OpBuilder b(module->getBody(), module->getBody()->end());
  auto f = [](double v) { return llvm::APFloat(v); };
  auto model = [&](StringRef name, int64_t d, int64_t h, int64_t fw, int64_t l) {
    return ModelOp::create(
        b, source.getLoc(), name,
        ModelConfigAttr::get(ctx, from.getVocab(), d, h, dh, fw, l,
                             from.getSeqLen(), from.getEps(),
                             from.getRopeTheta(), from.getAlphaOut(),
                             from.getInitStd()));
  };
  model("source", from.getHidden(), from.getHeads(), from.getFfn(), from.getLayers());
  bool width = hidden != from.getHidden() || ffn != from.getFfn();
  bool depth = layers != from.getLayers();
  if (width)
    model("wide", hidden, heads, ffn, from.getLayers());
  if (depth)
    model("deep", hidden, heads, ffn, layers);
  if (!width && !depth)
    return fail(ctx, "--to '" + spec + "' grows nothing");
  auto stageCfg = StageConfigAttr::get(ctx, 1, 1, f(1e-3), f(1e-3), f(0), f(0),
                                       0, DecayKind::cosine, f(0.1), f(1.0),
                                       f(0.9), f(0.95), f(1e-8));
  auto plan = PlanOp::create(b, source.getLoc(), "grow");
  plan.getBody().push_back(new Block());
  OpBuilder pb(&plan.getBody().front(), plan.getBody().front().end());
  auto sym = [&](StringRef n) { return FlatSymbolRefAttr::get(ctx, n); };
  StageOp::create(pb, source.getLoc(), pb.getStringAttr("s0"), sym("source"),
                  stageCfg, StringAttr());
  StringRef current = "source";
  if (width) {
    GrowWidthOp::create(pb, source.getLoc(), sym(current), sym("wide"),
                        pb.getI64IntegerAttr(1),
                        MaskScheduleAttr::get(ctx, MaskSchedule::joint),
                        pb.getF64FloatAttr(from.getInitStdValue()),
                        SecondMomentInitAttr::get(ctx, SecondMomentInit::zero));
    StageOp::create(pb, source.getLoc(), pb.getStringAttr("s1"), sym("wide"),
                    stageCfg, StringAttr());
    current = "wide";
  }
  if (depth) {
    GrowDepthOp::create(pb, source.getLoc(), sym(current), sym("deep"),
                        pb.getI64IntegerAttr(1),
                        DistanceMetricAttr::get(ctx, DistanceMetric::euclidean),
                        LayerSelectionAttr::get(ctx, LayerSelection::smallest),
                        SecondMomentInitAttr::get(ctx, SecondMomentInit::zero),
                        nullptr);
    StageOp::create(pb, source.getLoc(), pb.getStringAttr("s2"), sym("deep"),
                    stageCfg, StringAttr());
  }
  if (failed(verify(*module)))
    return failure();
  return module;
}

/// Whether `state` is exactly the state of the model `eval` reads: every
/// parameter with its shape, and nothing else but their AdamW moments.
template <typename T>
bool holdsExactly(func::FuncOp eval, const TrainingState<T> &state) {
  llvm::StringSet<> params;
  eval.walk([&](ParamOp p) { params.insert(p.getName()); });
  for (const auto &entry : state.all()) {
    StringRef name = entry.first;
    if (!name.consume_front("optim.m."))
      (void)name.consume_front("optim.v.");
    if (!params.contains(name))
      return false;
  }
  return succeeded(checkStateMatches<T>(eval, state, "", /*quiet=*/true));
}

template <typename T>
LogicalResult growWith(ModuleOp plan, const GrowOptions &opts) {
  MLIRContext *ctx = plan.getContext();
  FloatType et = opts.fp64 ? FloatType(Float64Type::get(ctx))
                           : FloatType(Float32Type::get(ctx));
  // The checkpoint is read whole, then converted: twice its size.
  uint64_t fileSize = 0;
  if (!llvm::sys::fs::file_size(opts.checkpoint, fileSize) &&
      2.0 * double(fileSize) > double(::tele::rt::availableHostMemory()))
    return fail(ctx, opts.checkpoint + ": reading it needs " +
                         ::tele::rt::formatBytes(2.0 * double(fileSize)) +
                         " of host memory, but " +
                         ::tele::rt::formatBytes(double(
                             ::tele::rt::availableHostMemory())) +
                         " is available");
  TrainingState<T> state;
  Progress progress;
  if (auto err = readCheckpoint<T>(opts.checkpoint, state, progress, plan))
    return fail(ctx, llvm::toString(std::move(err)));

  // Which of the plan's models the checkpoint holds.
  ModelOp source;
  for (ModelOp m : plan.getOps<ModelOp>()) {
    auto probe = compileEvalOnly(m, 1, et);
    if (succeeded(probe) && holdsExactly<T>(probe->eval, state)) {
      source = m;
      break;
    }
  }
  if (!source)
    return fail(ctx, opts.checkpoint +
                         ": its tensors match no model of the plan exactly "
                         "(pass the plan it was trained with as --plan)");

  OwningOpRef<ModuleOp> growPlan;
  StringRef to = opts.to;
  if (to.ends_with(".yaml") || to.ends_with(".json") || to.ends_with(".mlir")) {
    growPlan = loadPlanFile(to, ctx);
    if (!growPlan)
      return failure();
  } else {
    auto built = planFromShape(source, to);
    if (failed(built))
      return failure();
    growPlan = std::move(*built);
  }

  // The growth ops (and the stage after each) whose chain starts at the
  // checkpoint's architecture.
  SmallVector<std::tuple<Operation *, int64_t, StageOp>> chain;
  ModelConfigAttr current = source.getConfig();
  int64_t index = -1;
  Operation *pending = nullptr;
  int64_t pendingIndex = -1;
  for (PlanOp p : growPlan->getOps<PlanOp>())
    for (Operation &op : p.getBody().front()) {
      if (auto stage = dyn_cast<StageOp>(op)) {
        if (pending)
          chain.push_back({pending, pendingIndex, stage});
        pending = nullptr;
        continue;
      }
      ++index;
      ModelOp from = cast<GrowthOpInterface>(op).getSourceModel();
      ModelOp into = cast<GrowthOpInterface>(op).getTargetModel();
      if (from.getConfig() == current) {
        pending = &op;
        pendingIndex = index;
        current = into.getConfig();
      }
    }
  if (chain.empty())
    return fail(ctx, "--to " + to +
                         ": no growth op starts from the checkpoint's model");

  // Before allocating the grown state: the checkpoint's state and the grown
  // one (parameters and moments) live together while the map runs.
  {
    ModelConfigAttr grown = cast<GrowthOpInterface>(std::get<0>(chain.back())).getTargetModel().getConfig();
    double need = 3.0 *
                  (double(source.getConfig().getNumParameters()) +
                   double(grown.getNumParameters())) *
                  double(sizeof(T));
    uint64_t available = ::tele::rt::availableHostMemory();
    if (need > double(available))
      return fail(ctx, "growing to " + Twine(grown.getNumParameters()) +
                           " parameters needs at least " +
                           ::tele::rt::formatBytes(need) +
                           " of host memory (both models with AdamW state), "
                           "but " + ::tele::rt::formatBytes(double(available)) +
                           " is available");
  }

  // Calibration batch for layer selection and --verify.
  std::string dir = opts.dataDir.empty() ? defaultDataDir() : opts.dataDir;
  SmallString<256> valPath(dir);
  llvm::sys::path::append(valPath, "val.tok");
  ::tele::data::TokenFile val;
  if (auto st = ::tele::data::TokenFile::open(std::string(valPath), val); !st)
    return fail(ctx, "calibration data: " + st.message());
  int64_t batch = 2, seqLen = source.getConfig().getSeqLen();
  ::tele::data::BatchSampler sampler(val, batch, seqLen, opts.seed);
  std::vector<int32_t> in(batch * seqLen), tg(batch * seqLen);
  if (auto st = sampler.sequentialBatch(0, in.data(), tg.data()); !st)
    return fail(ctx, "calibration data: " + st.message());
  auto lossOf = [&](func::FuncOp eval) -> FailureOr<double> {
    auto r = execute<T>(eval,
                        {HostValue<T>::fromTokens({batch, seqLen}, in),
                         HostValue<T>::fromTokens({batch, seqLen}, tg)},
                        state);
    if (!r)
      return fail(ctx, llvm::toString(r.takeError()));
    return double((*r)[0].scalar());
  };

  ModelOp previous = source;
  for (auto &[grow, growIndex, stage] : chain) {
    ModelOp into = cast<GrowthOpInterface>(grow).getTargetModel();
    auto before = compileEvalOnly(previous, batch, et);
    if (failed(before))
      return failure();
    auto lossBefore = lossOf(before->eval);
    if (failed(lossBefore))
      return failure();
    // Growth ops in a row apply together; depth growth's layers are ranked
    // on the model before them (width growth keeps the layer count).
    SmallVector<Operation *> ops = growthChainEndingAt(grow);
    if (failed(verifyGrowthChain(ops)))
      return failure();
    if (failed(chooseLayersToCopy<T>(ops, previous, in, batch, et, state)))
      return failure();
    StageCompileOptions options{batch, et, int64_t(opts.seed) + growIndex};
    auto compiled = compileStage(*growPlan, stage, StagePhase::Transition,
                                 options);
    if (failed(compiled))
      return failure();
    {
      // Zero moments for a checkpoint without optimizer state.
      before->eval.walk([&](ParamOp p) {
        for (std::string name : {"optim.m." + p.getName().str(),
                                 "optim.v." + p.getName().str()})
          if (!state.contains(name))
            state.set(name, p.getType().getShape(),
                      std::make_shared<const std::vector<T>>(
                          p.getType().getNumElements(), T(0)));
      });
    }
    for (func::FuncOp map : compiled->paramMaps)
      if (auto mapped = execute<T>(map, {}, state); !mapped)
        return fail(ctx, llvm::toString(mapped.takeError()));
    state.masks = growthMaskValues(grow, /*t=*/0);
    auto lossAfter = lossOf(compiled->eval);
    if (failed(lossAfter))
      return failure();
    double rel = std::abs(*lossAfter - *lossBefore) /
                 std::max(std::abs(*lossBefore), 1e-30);
    llvm::outs() << llvm::formatv(
        "{0} {1} -> {2}: calibration loss {3:f8} before, {4:f8} after at mask "
        "0 (relative difference {5:e2})\n",
        ops.size() > 1 ? "grow.width+depth"
        : isa<GrowWidthOp>(grow) ? "grow.width"
                                 : "grow.depth",
        previous.getSymName(), into.getSymName(), *lossBefore, *lossAfter, rel);
    double tolerance = opts.fp64 ? 1e-12 : 1e-6;
    if (opts.verify && !(rel <= tolerance))
      return fail(ctx, llvm::formatv("--verify failed: relative loss difference "
                                     "{0:e3} exceeds {1:e0}",
                                     rel, tolerance)
                           .str());
    previous = into;
  }
  if (auto err = writeCheckpoint<T>(opts.out, state, progress, *growPlan))
    return fail(ctx, llvm::toString(std::move(err)));
  llvm::outs() << "wrote " << opts.out << "\n";
  return success();
}
} // namespace

LogicalResult mlir::tele::growCheckpoint(ModuleOp plan,
                                         const GrowOptions &options) {
  MLIRContext *ctx = plan.getContext();
  if (options.checkpoint.empty() || options.to.empty() || options.out.empty())
    return fail(ctx, "usage: tele grow CKPT --to PLAN-or-SHAPE --out CKPT2 "
                     "[--verify]");
  // Never write over the input, nor over any file unless asked to.
  if (llvm::sys::fs::exists(options.out)) {
    if (llvm::sys::fs::equivalent(options.out, options.checkpoint))
      return fail(ctx, "--out " + options.out +
                           " is the input checkpoint; write the grown one "
                           "elsewhere");
    if (!options.overwrite)
      return fail(ctx, "--out " + options.out +
                           " exists; pass --overwrite to replace it");
  }
  SmallString<256> outDir(options.out);
  llvm::sys::path::remove_filename(outDir);
  ::tele::rt::removeStaleTempFiles(outDir.empty() ? "." : outDir.str().str());
  return options.fp64 ? growWith<double>(plan, options)
                      : growWith<float>(plan, options);
}

//===----------------------------------------------------------------------===//
// tele check
//===----------------------------------------------------------------------===//

LogicalResult mlir::tele::checkCheckpoint(MLIRContext *ctx, StringRef path) {
  ::tele::ckpt::SafeTensorsHeader header;
  if (auto st = ::tele::ckpt::verifySafeTensors(path.str(), header); !st)
    return fail(ctx, st.message());
  uint64_t bytes = 0;
  for (const auto &t : header.tensors)
    bytes += t.dataEnd - t.dataBegin;
  std::string line = llvm::formatv("{0}: {1} tensors ({2}), ", path,
                                   header.tensors.size(),
                                   ::tele::rt::formatBytes(double(bytes)));
  line += header.checksummed
              ? "crc32c checksums verified"
              : "checksums absent (written by an older tele or another "
                "writer): structure checked only";
  if (header.metadata.count("tele.format")) {
    Progress progress;
    if (auto st = ::tele::ckpt::readProgress(header.metadata, path.str(),
                                             progress);
        !st)
      return fail(ctx, st.message());
    line += llvm::formatv("; step {0} (stage {1}, stage step {2}), {3} tokens",
                          progress.step, progress.stageIndex,
                          progress.stageStep, progress.tokens);
  }
  llvm::outs() << line << "\n";
  return success();
}
