//===- tele.cpp - the tele command-line tool ------------------------------===//
//
// This file is the user-facing CLI: thin subcommands over the tele
// libraries.
//   tele train [PLAN]    train a plan (default: the embedded growth demo)
//   tele compile [PLAN]  write the compiled training-step IR of every stage
//   tele plan [PLAN]     print a plan file as tele IR
//   tele data FILES      turn UTF-8 text files into token files
//   tele grow CKPT       grow a checkpoint by itself
//   tele plot METRICS    draw the loss curve with growth marks
//   tele bench PLAN      time a plan's training step on the GPU
//   tele check CKPT      verify a checkpoint's checksums and counters
// Errors print one line, `file:line:col: error: message`, and exit 1.
//
//===----------------------------------------------------------------------===//

#include "tele/Config/PlanFile.h"
#include "tele/InitAllDialects.h"
#include "tele/InitAllPasses.h"
#include "tele/Tools/Commands.h"
#include "tele/Train/Trainer.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tele;
namespace cl = llvm::cl;

static cl::SubCommand trainCmd("train", "Train a plan (default: the embedded plan)");
static cl::SubCommand compileCmd("compile", "Write the compiled training step of every stage");
static cl::SubCommand planCmd("plan", "Print a plan file as tele IR");
static cl::SubCommand dataCmd("data", "Prepare token files from UTF-8 text: tele data FILES... -o DIR");
static cl::SubCommand plotCmd("plot", "Plot the loss of a run: tele plot METRICS.jsonl [-o loss.svg]");
static cl::SubCommand benchCmd("bench", "Time a plan's training step on the GPU: tele bench PLAN [--steps N]");
static cl::SubCommand growCmd("grow", "Grow a checkpoint: tele grow CKPT --to PLAN-or-SHAPE --out CKPT2");
static cl::SubCommand checkCmd("check", "Verify a checkpoint (checksums, counters) without loading a model: tele check CKPT");

// train
static cl::opt<std::string> trainPlanPath(cl::Positional, cl::desc("[PLAN]"), cl::init(""), cl::sub(trainCmd));
static cl::opt<std::string> device("device", cl::desc("cpu or cuda"), cl::init("cpu"), cl::sub(trainCmd));
static cl::opt<int64_t> maxSteps("steps", cl::desc("Cap on the total optimizer steps of the plan"), cl::init(-1), cl::sub(trainCmd));
static cl::opt<std::string> outDir("out", cl::desc("Output directory (metrics.jsonl, checkpoints)"), cl::init("tele-out"), cl::sub(trainCmd));
static cl::opt<bool> resume("resume", cl::desc("Continue from the newest checkpoint in --out"), cl::sub(trainCmd));
static cl::opt<bool> overwrite("overwrite", cl::desc("train: start again in an --out that holds an earlier run (deletes its metrics and checkpoints); grow: replace an existing --out"), cl::sub(trainCmd), cl::sub(growCmd));
static cl::opt<int64_t> saveEvery("save-every", cl::desc("Checkpoint every K steps (and at the end)"), cl::init(0), cl::sub(trainCmd));
static cl::opt<int64_t> evalEvery("eval-every", cl::desc("Validation loss every K steps"), cl::init(50), cl::sub(trainCmd));
static cl::opt<uint64_t> seed("seed", cl::desc("Seed of initialisation, growth and data order"), cl::init(1234), cl::sub(trainCmd), cl::sub(growCmd));
static cl::opt<std::string> dataDir("data", cl::desc("Directory with train.tok and val.tok (default: the default corpus)"), cl::init(""), cl::sub(trainCmd), cl::sub(growCmd));
static cl::opt<bool> fp64("fp64", cl::desc("Compute in fp64 instead of fp32"), cl::sub(trainCmd), cl::sub(growCmd));
static cl::opt<bool> quiet("quiet", cl::desc("Print only errors"), cl::sub(trainCmd));

// compile / plan
static cl::opt<std::string> compilePlanPath(cl::Positional, cl::desc("[PLAN]"), cl::init(""), cl::sub(compileCmd), cl::sub(planCmd));
static cl::opt<std::string> target("target", cl::desc("cpu or cuda"), cl::init("cpu"), cl::sub(compileCmd));
static cl::opt<std::string> compileOut("o", cl::desc("Output directory"), cl::init("tele-compiled"), cl::sub(compileCmd));

// data
static cl::list<std::string> dataInputs(cl::Positional, cl::desc("FILES..."), cl::sub(dataCmd));
static cl::opt<std::string> dataOut("o", cl::desc("Output directory for train.tok and val.tok"), cl::Required, cl::sub(dataCmd));
static cl::opt<std::string> dataFormat("format", cl::desc("plain (one document per file) or fortune (%-separated)"), cl::init("plain"), cl::sub(dataCmd));
static cl::opt<double> valFraction("val-fraction", cl::desc("Fraction of documents for validation"), cl::init(0.05), cl::sub(dataCmd));

// plot
static cl::opt<std::string> plotInput(cl::Positional, cl::desc("METRICS.jsonl"), cl::Required, cl::sub(plotCmd));
static cl::opt<std::string> plotOut("o", cl::desc("SVG output (default: none, text chart only)"), cl::init(""), cl::sub(plotCmd));

// bench
static cl::opt<std::string> benchPlanPath(cl::Positional, cl::desc("PLAN"), cl::init(""), cl::sub(benchCmd));
static cl::opt<int64_t> benchSteps("steps", cl::desc("Timed steps"), cl::init(20), cl::sub(benchCmd));
static cl::opt<int64_t> benchWarmup("warmup", cl::desc("Untimed steps first (compile, graph capture)"), cl::init(3), cl::sub(benchCmd));

// grow
static cl::opt<std::string> growCkpt(cl::Positional, cl::desc("CKPT"), cl::sub(growCmd));
static cl::opt<std::string> growTo("to", cl::desc("Target: a plan file (its growth ops starting from the checkpoint's model apply, in order), or a shape hidden=..,heads=..,ffn=..,layers=.."), cl::sub(growCmd));
static cl::opt<std::string> growFrom("plan", cl::desc("Plan file describing the checkpoint's model (default: the embedded plan)"), cl::init(""), cl::sub(growCmd));
static cl::opt<std::string> growOut("out", cl::desc("Output checkpoint"), cl::sub(growCmd));
// check
static cl::opt<std::string> checkCkpt(cl::Positional, cl::desc("CKPT"), cl::Required, cl::sub(checkCmd));

static cl::opt<bool> growVerify("verify", cl::desc("Check that the grown model at mask 0 computes the same loss (relative difference <= 1e-6 in fp32, 1e-12 in fp64)"), cl::sub(growCmd));

namespace {
/// Prints each diagnostic as one line: `loc: error: message`.
void installDiagnosticPrinter(MLIRContext &ctx) {
  ctx.getDiagEngine().registerHandler([](Diagnostic &diag) {
    llvm::raw_ostream &os = llvm::errs();
    // `file:line:col: ` like a compiler, so that editors can jump to it.
    if (auto file = diag.getLocation()->findInstanceOf<FileLineColLoc>())
      os << file.getFilename().getValue() << ":" << file.getLine() << ":"
         << file.getColumn() << ": ";
    else
      os << "tele: ";
    switch (diag.getSeverity()) {
    case DiagnosticSeverity::Error: os << "error: "; break;
    case DiagnosticSeverity::Warning: os << "warning: "; break;
    case DiagnosticSeverity::Note: os << "note: "; break;
    case DiagnosticSeverity::Remark: os << "remark: "; break;
    }
    os << diag.str() << "\n";
    return success();
  });
}

OwningOpRef<ModuleOp> loadPlan(StringRef path, MLIRContext &ctx) {
  return path.empty() ? loadDefaultPlan(&ctx) : loadPlanFile(path, &ctx);
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tele: compile and train decoder-only language models that grow\n\n"
      "  tele train [PLAN]      train (default: the embedded growth demo)\n"
      "  tele compile [PLAN]    write each stage's compiled training step\n"
      "  tele plan [PLAN]       print a plan as tele IR\n"
      "  tele data FILES -o DIR make train.tok/val.tok from UTF-8 text\n"
      "  tele grow CKPT --to T  grow a checkpoint\n"
      "  tele plot METRICS      draw the loss curve (text and SVG)\n"
      "  tele bench PLAN        time a stage's training step on the GPU\n"
      "  tele check CKPT        verify a checkpoint's checksums and counters\n");

  DialectRegistry registry;
  mlir::tele::registerAllDialects(registry);
  // The GPU lowering of `tele compile --target cuda` needs the upstream
  // dialects, the NVVM target and the LLVM IR translations.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  MLIRContext ctx(registry);

  installDiagnosticPrinter(ctx);

  if (trainCmd) {
    auto plan = loadPlan(trainPlanPath, ctx);
    if (!plan)
      return 1;
    TrainOptions opts;
    opts.device = device;
    if (maxSteps.getNumOccurrences())
      opts.maxSteps = maxSteps;
    opts.outDir = outDir;
    opts.resume = resume;
    opts.overwrite = overwrite;
    opts.saveEvery = saveEvery;
    opts.evalEvery = evalEvery;
    opts.seed = seed;
    opts.dataDir = dataDir;
    opts.fp64 = fp64;
    opts.quiet = quiet;
    return failed(trainPlan(*plan, opts)) ? 1 : 0;
  }
  if (planCmd) {
    auto plan = loadPlan(compilePlanPath, ctx);
    if (!plan)
      return 1;
    plan->print(llvm::outs());
    llvm::outs() << "\n";
    return 0;
  }
  if (compileCmd) {
    auto plan = loadPlan(compilePlanPath, ctx);
    if (!plan)
      return 1;
    return failed(compilePlan(*plan, target, compileOut)) ? 1 : 0;
  }
  if (dataCmd)
    return failed(prepareData(&ctx, dataInputs, dataFormat, valFraction,
                              dataOut))
               ? 1
               : 0;
  if (checkCmd)
    return failed(checkCheckpoint(&ctx, checkCkpt)) ? 1 : 0;
  if (plotCmd)
    return failed(plotMetrics(&ctx, plotInput, plotOut)) ? 1 : 0;
  if (benchCmd) {
    auto plan = loadPlan(benchPlanPath, ctx);
    if (!plan)
      return 1;
    BenchOptions opts;
    opts.steps = benchSteps;
    opts.warmup = benchWarmup;
    return failed(benchPlan(*plan, opts)) ? 1 : 0;
  }
  if (growCmd) {
    auto plan = loadPlan(growFrom, ctx);
    if (!plan)
      return 1;
    GrowOptions opts{growCkpt, growTo, growOut, growVerify, seed, dataDir, fp64,
                     overwrite};
    return failed(growCheckpoint(*plan, opts)) ? 1 : 0;
  }
  cl::PrintHelpMessage();
  return 1;
}
