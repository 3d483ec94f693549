//===- TestUtil.h - helpers of the numerics unit tests ----------*- C++ -*-===//
//
// Shared helpers of the gtest suites in test/Unit: an MLIR context with the
// tele dialects, plan parsing, running pass pipelines, executing functions on
// the CPU executor, random batches, state tensors and error metrics.
//
// Every test draws fresh random weights and inputs. The seed comes from
// std::random_device (or TELE_TEST_SEED to reproduce a failure) and is
// attached to every failure message by TELE_SEED_TRACE.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_TEST_UNIT_TESTUTIL_H
#define TELE_TEST_UNIT_TESTUTIL_H

#include "tele/Dialect/Tele/Transforms/ModelBuilder.h"
#include "tele/Dialect/Tele/Transforms/Passes.h"
#include "tele/Execution/Interpreter.h"
#include "tele/InitAllDialects.h"
#include "tele/Train/StageCompiler.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Error.h"
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace teletest {
using namespace mlir;
using namespace mlir::tele;
using exec::HostValue;
using exec::TrainingState;

//===----------------------------------------------------------------------===//
// Seeds
//===----------------------------------------------------------------------===//

/// A fresh seed per call: TELE_TEST_SEED if set (to reproduce a failure),
/// otherwise from std::random_device.
inline uint64_t freshSeed() {
  if (const char *env = std::getenv("TELE_TEST_SEED"))
    return std::strtoull(env, nullptr, 10);
  std::random_device rd;
  return (uint64_t(rd()) << 32) ^ uint64_t(rd());
}

/// Attaches the seed to every failure reported in the enclosing scope.
#define TELE_SEED_TRACE(seed)                                                  \
  SCOPED_TRACE(::testing::Message()                                            \
               << "seed = " << (seed)                                          \
               << " (rerun with TELE_TEST_SEED=" << (seed)                     \
               << " to reproduce)")

/// Prints a measured quantity when TELE_TEST_VERBOSE is set (the tolerances'
/// margins show in the log without failing anything).
inline void note(const std::string &what, double value) {
  if (std::getenv("TELE_TEST_VERBOSE"))
    std::printf("  [measured] %s = %.3e\n", what.c_str(), value);
}

//===----------------------------------------------------------------------===//
// IR
//===----------------------------------------------------------------------===//

inline std::unique_ptr<MLIRContext> makeContext() {
  DialectRegistry registry;
  registerAllDialects(registry);
  auto ctx = std::make_unique<MLIRContext>(registry);
  ctx->disableMultithreading();
  ctx->loadAllAvailableDialects();
  return ctx;
}

inline OwningOpRef<ModuleOp> parseModule(MLIRContext *ctx, StringRef text) {
  return parseSourceString<ModuleOp>(text, ParserConfig(ctx));
}

/// Runs the passes `build` adds on `module`; false on failure.
inline bool runPasses(ModuleOp module,
                      const std::function<void(PassManager &)> &build) {
  PassManager pm(module.getContext());
  build(pm);
  return succeeded(pm.run(module));
}

inline FloatType floatType(MLIRContext *ctx, bool f64) {
  return f64 ? FloatType(Float64Type::get(ctx))
             : FloatType(Float32Type::get(ctx));
}
template <typename T> FloatType floatTypeOf(MLIRContext *ctx) {
  return floatType(ctx, std::is_same_v<T, double>);
}

inline StageOp findStage(ModuleOp plan, StringRef name) {
  StageOp found;
  plan.walk([&](StageOp s) {
    if (s.getSymName() == name)
      found = s;
  });
  return found;
}

/// The growth ops of the module in plan order.
inline SmallVector<Operation *> growthOps(ModuleOp plan) {
  SmallVector<Operation *> ops;
  plan.walk([&](Operation *op) {
    if (isa<GrowWidthOp, GrowDepthOp>(op))
      ops.push_back(op);
  });
  return ops;
}

inline ModelOp modelNamed(ModuleOp plan, StringRef name) {
  return plan.lookupSymbol<ModelOp>(name);
}

/// A copy of the function `fn` under `newName`, in the same module.
inline func::FuncOp cloneFunction(func::FuncOp fn, StringRef newName) {
  auto copy = cast<func::FuncOp>(fn->clone());
  copy.setSymName(newName);
  fn->getParentOfType<ModuleOp>().push_back(copy);
  return copy;
}

/// Drops the mask operand of every tele.rms_norm in `fn`: plain RMSNorm over
/// the full (grown) width.
inline int stripNormMasks(func::FuncOp fn) {
  int stripped = 0;
  fn.walk([&](RMSNormOp op) {
    if (op.getMask()) {
      op.getMaskMutable().clear();
      ++stripped;
    }
  });
  return stripped;
}

/// Merges the masks of a width growth and a following depth growth.
inline GrowthMasks combineMasks(const GrowthMasks &width,
                                const GrowthMasks &depth) {
  GrowthMasks m = width;
  m.newLayers = depth.newLayers;
  return m;
}

/// The names of the runtime mask scalars a graph with `masks` reads.
inline std::vector<std::string> maskNames(const GrowthMasks &masks) {
  std::vector<std::string> names;
  if (masks.hiddenKept >= 0)
    names.push_back(kHiddenMaskName);
  if (masks.attentionKept >= 0)
    names.push_back(kAttentionMaskName);
  if (masks.ffnKept >= 0)
    names.push_back(kFfnMaskName);
  for (auto [i, isNew] : llvm::enumerate(masks.newLayers))
    if (isNew)
      names.push_back(layerMaskName(i));
  return names;
}

template <typename T>
void setMasks(TrainingState<T> &st, const GrowthMasks &masks, double value) {
  st.masks.clear();
  for (const std::string &n : maskNames(masks))
    st.masks[n] = value;
}

/// Functions of a graph compiled by the tests themselves (rather than by
/// compileStage): `<model>_loss` with the given masks, its gradient
/// `<model>_loss_grad`, the step `<model>_step` of `stage`, and
/// `eval(tokens, targets) -> (loss, logits)` with the same masks.
struct OwnCompiled {
  OwningOpRef<ModuleOp> module;
  func::FuncOp loss, grad, step, eval;
};

/// Builds the graphs of `stage`'s model with `masks` in a fresh module that
/// holds copies of the plan's models and plans. `fold` runs tele-fold-masks
/// on the loss before autodiff (and on eval).
inline OwnCompiled compileWithMasks(ModuleOp plan, StringRef stageName,
                                    const GrowthMasks &masks, FloatType et,
                                    int64_t batch, bool fold = false,
                                    double lrMatrixScale = 1.0) {
  OwnCompiled out;
  out.module = ModuleOp::create(plan.getLoc());
  OpBuilder b(out.module->getBody(), out.module->getBody()->end());
  for (Operation &op : plan.getBody()->getOperations())
    if (isa<ModelOp, PlanOp>(op))
      b.clone(op);
  StageOp stage = findStage(*out.module, stageName);
  if (!stage) {
    ADD_FAILURE() << "no stage @" << stageName.str();
    return out;
  }
  std::string model = stage.getModel().str();
  ModelConfigAttr cfg = modelNamed(*out.module, model).getConfig();
  buildLossFunction(b, stage.getLoc(), model + "_loss", cfg, batch, et, masks);
  buildLossFunction(b, stage.getLoc(), "eval", cfg, batch, et, masks,
                    /*returnLogits=*/true);
  bool ok = runPasses(*out.module, [&](PassManager &pm) {
    if (fold)
      pm.addPass(createTeleFoldMasks());
    TeleAutodiffOptions ad;
    ad.funcName = model + "_loss";
    pm.addPass(createTeleAutodiff(ad));
    TeleOptimizerOptions opt;
    opt.stageName = stageName.str();
    opt.lrMatrixScale = lrMatrixScale;
    pm.addPass(createTeleOptimizer(opt));
    pm.addPass(createCSEPass());
  });
  if (!ok) {
    ADD_FAILURE() << "compiling the graphs of @" << stageName.str() << " failed";
    return out;
  }
  out.loss = out.module->lookupSymbol<func::FuncOp>(model + "_loss");
  out.grad = out.module->lookupSymbol<func::FuncOp>(model + "_loss_grad");
  out.step = out.module->lookupSymbol<func::FuncOp>(model + "_step");
  out.eval = out.module->lookupSymbol<func::FuncOp>("eval");
  return out;
}

/// A module holding a copy of `fn` on which tele-fold-masks ran; the folded
/// function keeps `fn`'s name.
inline OwningOpRef<ModuleOp> foldedCopy(func::FuncOp fn) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(fn.getLoc());
  module->push_back(cast<func::FuncOp>(fn->clone()));
  if (!runPasses(*module,
                 [](PassManager &pm) { pm.addPass(createTeleFoldMasks()); })) {
    ADD_FAILURE() << "tele-fold-masks failed";
    return nullptr;
  }
  return module;
}

//===----------------------------------------------------------------------===//
// Execution
//===----------------------------------------------------------------------===//

/// Runs `fn`; on error reports a failure and returns no results.
template <typename T>
std::vector<HostValue<T>> call(func::FuncOp fn,
                               const std::vector<HostValue<T>> &args,
                               TrainingState<T> &st) {
  if (!fn) {
    ADD_FAILURE() << "function not found";
    return {};
  }
  auto r = exec::execute<T>(fn, args, st);
  if (!r) {
    ADD_FAILURE() << "executing @" << fn.getSymName().str() << ": "
                  << llvm::toString(r.takeError());
    return {};
  }
  return std::move(*r);
}

/// Runs `fn` (typically without results, like a parameter map); false after
/// reporting a failure.
template <typename T>
bool callOk(func::FuncOp fn, const std::vector<HostValue<T>> &args,
            TrainingState<T> &st) {
  if (!fn) {
    ADD_FAILURE() << "function not found";
    return false;
  }
  auto r = exec::execute<T>(fn, args, st);
  if (!r) {
    ADD_FAILURE() << "executing @" << fn.getSymName().str() << ": "
                  << llvm::toString(r.takeError());
    return false;
  }
  return true;
}

/// A random [batch, seqLen] batch of inputs and targets.
struct Batch {
  int64_t batch = 0, seqLen = 0;
  std::vector<int32_t> inputs, targets;

  template <typename T> std::vector<HostValue<T>> args() const {
    return {HostValue<T>::fromTokens({batch, seqLen}, inputs),
            HostValue<T>::fromTokens({batch, seqLen}, targets)};
  }
  /// Arguments of a step function.
  template <typename T>
  std::vector<HostValue<T>> stepArgs(int64_t stageStep, int64_t adamStep) const {
    auto a = args<T>();
    a.push_back(HostValue<T>::fromStep(stageStep));
    a.push_back(HostValue<T>::fromStep(adamStep));
    return a;
  }
};

template <typename Rng>
Batch randomBatch(Rng &rng, int64_t batch, int64_t seqLen, int64_t vocab) {
  Batch b;
  b.batch = batch;
  b.seqLen = seqLen;
  std::uniform_int_distribution<int32_t> tok(0, int32_t(vocab - 1));
  for (int64_t i = 0; i < batch * seqLen; ++i) {
    b.inputs.push_back(tok(rng));
    b.targets.push_back(tok(rng));
  }
  return b;
}

//===----------------------------------------------------------------------===//
// State tensors
//===----------------------------------------------------------------------===//

template <typename T>
std::vector<T> tensor(const TrainingState<T> &st, StringRef name) {
  const auto *e = st.lookup(name);
  if (!e) {
    ADD_FAILURE() << "state has no tensor '" << name.str() << "'";
    return {};
  }
  return *e->data;
}

template <typename T>
SmallVector<int64_t> shapeOf(const TrainingState<T> &st, StringRef name) {
  const auto *e = st.lookup(name);
  return e ? e->shape : SmallVector<int64_t>{};
}

template <typename T>
void putTensor(TrainingState<T> &st, StringRef name, ArrayRef<int64_t> shape,
               std::vector<T> data) {
  st.set(name, shape, std::make_shared<const std::vector<T>>(std::move(data)));
}

inline bool isGainName(StringRef name) {
  return name.ends_with("layernorm.weight") || name == "model.norm.weight";
}

/// Sets every norm gain to 1 + N(0, std) so that gains matter.
template <typename T, typename Rng>
void randomizeGains(TrainingState<T> &st, Rng &rng, double std) {
  std::normal_distribution<double> n(0.0, std);
  for (auto &[name, e] : st.all()) {
    if (!isGainName(name) || StringRef(name).starts_with("optim."))
      continue;
    SmallVector<int64_t> shape = e.shape; // set() reassigns e.shape
    std::vector<T> g(e.data->size());
    for (T &x : g)
      x = T(1.0 + n(rng));
    putTensor(st, name, shape, std::move(g));
  }
}

/// Row-major index of `idx` in a tensor of `shape`.
inline int64_t flatIndex(ArrayRef<int64_t> idx, ArrayRef<int64_t> shape) {
  int64_t f = 0;
  for (size_t k = 0; k < shape.size(); ++k)
    f = f * shape[k] + idx[k];
  return f;
}

/// Calls fn(flatIndexInBig, flatIndexInSmall or -1) for every entry of a
/// tensor of shape `big`; entries inside the top-left `small` block get their
/// index in the small tensor, new entries -1.
inline void forEachEntry(ArrayRef<int64_t> big, ArrayRef<int64_t> small,
                         const std::function<void(int64_t, int64_t)> &fn) {
  int64_t n = 1;
  for (int64_t d : big)
    n *= d;
  SmallVector<int64_t> idx(big.size());
  for (int64_t f = 0; f < n; ++f) {
    int64_t rem = f;
    bool inside = true;
    for (int64_t k = (int64_t)big.size() - 1; k >= 0; --k) {
      idx[k] = rem % big[k];
      rem /= big[k];
      inside &= idx[k] < small[k];
    }
    fn(f, inside ? flatIndex(idx, small) : -1);
  }
}

/// The top-left `small` block of a tensor of shape `big`.
template <typename T>
std::vector<T> topLeft(const std::vector<T> &data, ArrayRef<int64_t> big,
                       ArrayRef<int64_t> small) {
  int64_t n = 1;
  for (int64_t d : small)
    n *= d;
  std::vector<T> out(n);
  forEachEntry(big, small, [&](int64_t f, int64_t s) {
    if (s >= 0)
      out[s] = data[f];
  });
  return out;
}

//===----------------------------------------------------------------------===//
// Error metrics
//===----------------------------------------------------------------------===//

template <typename A, typename B>
double diffNorm(const std::vector<A> &a, const std::vector<B> &b) {
  EXPECT_EQ(a.size(), b.size());
  double s = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    double d = double(a[i]) - double(b[i]);
    s += d * d;
  }
  return std::sqrt(s);
}

template <typename A> double norm2(const std::vector<A> &a) {
  double s = 0;
  for (A x : a)
    s += double(x) * double(x);
  return std::sqrt(s);
}

/// ||a - ref|| / ||ref|| (absolute if ||ref|| == 0).
template <typename A, typename B>
double relError(const std::vector<A> &a, const std::vector<B> &ref) {
  double d = diffNorm(a, ref), r = norm2(ref);
  return r > 0 ? d / r : d;
}

inline double relError(double a, double ref) {
  return ref != 0 ? std::abs(a - ref) / std::abs(ref) : std::abs(a - ref);
}

template <typename A, typename B>
double maxAbsDiff(const std::vector<A> &a, const std::vector<B> &b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

template <typename T> std::vector<T> values(const HostValue<T> &v) {
  return v.floats ? *v.floats : std::vector<T>{};
}

} // namespace teletest

#endif // TELE_TEST_UNIT_TESTUTIL_H
