//===- ModelGradcheckTest.cpp - gradients and AdamW of whole models -------===//
//
// Finite-difference checks of the gradient functions tele-autodiff builds
// for whole models (plain, and MSG-masked after width, depth and combined
// growth at mask 0.3), and of the AdamW step tele-optimizer appends, against
// a hand-computed AdamW with PyTorch semantics. Everything runs in fp64 on the
// CPU executor with fresh random weights and batches (the seed is printed on
// failure).
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <algorithm>
#include <map>
#include <numeric>

using namespace teletest;

namespace {

// vocab 11, hidden 8, heads 2, head_dim 4, ffn 12, layers 2, seq_len 5,
// alpha_out 0.5; grown in width (hidden 12, heads 3, ffn 16), in depth (3
// layers, a copy of layer 1) and in both (for the combined masked graph).
constexpr const char *kPlan = R"mlir(
tele.model @tiny <vocab = 11, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 2, seq_len = 5, alpha_out = 0.5>
tele.model @wide <vocab = 11, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 2, seq_len = 5, alpha_out = 0.5>
tele.model @deep <vocab = 11, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 3, seq_len = 5, alpha_out = 0.5>
tele.model @widedeep <vocab = 11, hidden = 12, heads = 3, head_dim = 4, ffn = 16, layers = 3, seq_len = 5, alpha_out = 0.5>
tele.plan @width {
  tele.stage @w0 on @tiny <steps = 20, batch = 2, lr_matrix = 1.0e-2, lr_vector = 1.0e-2>
  tele.grow.width @tiny -> @wide {transition_steps = 4}
  tele.stage @w1 on @wide <steps = 20, batch = 2, lr_matrix = 1.0e-2, lr_vector = 1.0e-2>
}
tele.plan @depth {
  tele.stage @d0 on @tiny <steps = 20, batch = 2, lr_matrix = 1.0e-2, lr_vector = 1.0e-2>
  tele.grow.depth @tiny -> @deep {transition_steps = 4, copy_layers = array<i64: 1>}
  tele.stage @d1 on @deep <steps = 20, batch = 2, lr_matrix = 1.0e-2, lr_vector = 1.0e-2>
}
tele.plan @adam {
  tele.stage @clipped on @tiny <steps = 20, batch = 2, lr_matrix = 3.0e-2, lr_vector = 2.0e-2, min_lr_matrix = 1.0e-3, min_lr_vector = 2.0e-3, warmup = 4, weight_decay = 0.1, clip = 0.05, beta1 = 0.8, beta2 = 0.9, adam_eps = 1.0e-6>
  tele.stage @unclipped on @tiny <steps = 30, batch = 2, lr_matrix = 1.0e-3, lr_vector = 4.0e-3, min_lr_matrix = 1.0e-4, warmup = 0, decay = linear, weight_decay = 0.3, clip = 1.0e3>
}
)mlir";

constexpr int64_t kBatch = 2, kSeqLen = 5, kVocab = 11;
constexpr double kInitStd = 0.3;
constexpr double kTolerance = 1e-6;

/// The plan with the plain tiny loss, the lowered width and depth growths and
/// a combined (width + depth masks) graph, all differentiated, in f64.
struct GradModule {
  std::unique_ptr<MLIRContext> ctx = makeContext();
  OwningOpRef<ModuleOp> module;

  GradModule() {
    module = parseModule(ctx.get(), kPlan);
    if (!module) {
      ADD_FAILURE() << "cannot parse the plan";
      return;
    }
    auto f64 = Float64Type::get(ctx.get());
    // The combined graph: width masks of @width plus the new layer 2 of a
    // depth growth copying layer 1.
    GrowthMasks combined;
    combined.hiddenKept = combined.attentionKept = 8;
    combined.ffnKept = 12;
    combined.newLayers = {false, false, true};
    OpBuilder b(module->getBody(), module->getBody()->end());
    buildLossFunction(b, module->getLoc(), "widedeep_loss",
                      modelNamed(*module, "widedeep").getConfig(), kBatch, f64,
                      combined);
    bool ok = runPasses(*module, [](PassManager &pm) {
      TeleExpandModelOptions expand;
      expand.modelName = "tiny";
      expand.batch = kBatch;
      expand.dtype = "f64";
      pm.addPass(createTeleExpandModel(expand));
      TeleLowerGrowthOptions lower;
      lower.batch = kBatch;
      lower.dtype = "f64";
      pm.addPass(createTeleLowerGrowth(lower));
      pm.addPass(createTeleAutodiff());
    });
    if (!ok) {
      ADD_FAILURE() << "expand/lower/autodiff failed";
      module = nullptr;
    }
  }
  func::FuncOp fn(StringRef name) {
    return module->lookupSymbol<func::FuncOp>(name);
  }
};

/// The names of the parameters `fn` reads, in order of first read.
std::vector<std::string> paramsRead(func::FuncOp fn) {
  std::vector<std::string> names;
  fn.walk([&](ParamOp p) {
    if (!llvm::is_contained(names, p.getName().str()))
      names.push_back(p.getName().str());
  });
  return names;
}

/// Per parameter: relative error ||g - g_fd|| / ||g_fd|| of the gradients
/// `gradFn` returns against 4-point central differences of `lossFn`
/// (O(h^4) truncation), over every entry or a random subset of `maxEntries`.
std::map<std::string, double> gradcheckErrors(func::FuncOp lossFn,
                                              func::FuncOp gradFn,
                                              TrainingState<double> &st,
                                              const Batch &batch,
                                              std::mt19937_64 &rng,
                                              int64_t maxEntries = -1) {
  std::map<std::string, double> errors;
  auto out = call(gradFn, batch.args<double>(), st);
  if (out.empty())
    return errors;
  auto names = gradFn->getAttrOfType<ArrayAttr>("tele.params");
  EXPECT_TRUE(names) << "no tele.params on @" << gradFn.getSymName().str();
  if (!names)
    return errors;
  EXPECT_EQ(out.size(), names.size() + 1);

  // The gradient function's loss is the loss function's loss.
  auto lossOut = call(lossFn, batch.args<double>(), st);
  if (lossOut.empty())
    return errors;
  double loss0 = lossOut[0].scalar();
  EXPECT_NEAR(out[0].scalar(), loss0, 1e-14 * std::abs(loss0));
  EXPECT_TRUE(std::isfinite(loss0));

  // Every parameter the loss reads has a gradient.
  std::vector<std::string> gradNames;
  for (Attribute a : names)
    gradNames.push_back(cast<StringAttr>(a).getValue().str());
  EXPECT_EQ(gradNames, paramsRead(lossFn))
      << "gradients do not cover exactly the parameters of @"
      << lossFn.getSymName().str();

  const double h = 1e-4;
  for (size_t i = 0; i < gradNames.size() && i + 1 < out.size(); ++i) {
    const std::string &name = gradNames[i];
    std::vector<double> g = values(out[i + 1]);
    std::vector<double> base = tensor(st, name);
    SmallVector<int64_t> shape = shapeOf(st, name);
    EXPECT_EQ(g.size(), base.size()) << name;
    std::vector<int64_t> entries(base.size());
    std::iota(entries.begin(), entries.end(), 0);
    if (maxEntries > 0 && (int64_t)entries.size() > maxEntries) {
      std::shuffle(entries.begin(), entries.end(), rng);
      entries.resize(maxEntries);
    }
    auto f = [&](int64_t j, double delta) {
      std::vector<double> p = base;
      p[j] += delta;
      putTensor(st, name, shape, std::move(p));
      auto r = call(lossFn, batch.args<double>(), st);
      return r.empty() ? NAN : double(r[0].scalar());
    };
    std::vector<double> analytic, numeric;
    for (int64_t j : entries) {
      double d1 = f(j, h) - f(j, -h), d2 = f(j, 2 * h) - f(j, -2 * h);
      numeric.push_back((8 * d1 - d2) / (12 * h));
      analytic.push_back(g[j]);
    }
    putTensor(st, name, shape, base);
    errors[name] = relError(analytic, numeric);
    // A gradcheck of an all-zero gradient proves nothing: every tensor must
    // take part in the loss on this batch.
    EXPECT_GT(norm2(numeric), 1e-8) << name << " has a vanishing gradient";
  }
  return errors;
}

/// Random weights (std kInitStd) and gains 1 + N(0, kInitStd) for every
/// parameter `fn` reads.
void randomState(func::FuncOp fn, TrainingState<double> &st, uint64_t seed) {
  if (auto err = exec::initializeState<double>(fn, st, seed, kInitStd))
    ADD_FAILURE() << llvm::toString(std::move(err));
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  randomizeGains(st, rng, kInitStd);
}

void expectGradcheck(GradModule &m, StringRef loss, const GrowthMasks *masks,
                     double maskValue, uint64_t seed) {
  func::FuncOp lossFn = m.fn(loss), gradFn = m.fn((loss + "_grad").str());
  ASSERT_TRUE(lossFn && gradFn) << loss.str();
  TrainingState<double> st;
  randomState(gradFn, st, seed);
  if (masks)
    setMasks(st, *masks, maskValue);
  std::mt19937_64 rng(seed);
  Batch batch = randomBatch(rng, kBatch, kSeqLen, kVocab);
  auto errors = gradcheckErrors(lossFn, gradFn, st, batch, rng);
  ASSERT_FALSE(errors.empty());
  double worst = 0;
  for (auto &[name, err] : errors) {
    EXPECT_LE(err, kTolerance) << "@" << loss.str() << " parameter " << name;
    worst = std::max(worst, err);
  }
  note("@" + loss.str() + " worst relative gradient error", worst);
}

TEST(ModelGradcheck, PlainModel) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  GradModule m;
  ASSERT_TRUE(m.module);
  expectGradcheck(m, "tiny_loss", nullptr, 0, seed);
}

// tele-fuse keeps the gradients: the fused ops (the loss with its
// gradient, flash attention, adds run in the GEMMs' epilogues and the norm
// backward) run on the
// CPU executor and pass the same finite-difference check against the
// unfused loss.
TEST(ModelGradcheck, FusedGradientFunction) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  GradModule m;
  ASSERT_TRUE(m.module);
  OwningOpRef<ModuleOp> fused = ModuleOp::create(m.module->getLoc());
  fused->push_back(cast<func::FuncOp>(m.fn("tiny_loss_grad")->clone()));
  ASSERT_TRUE(runPasses(*fused, [](PassManager &pm) {
    pm.addNestedPass<func::FuncOp>(createTeleFuse());
  }));
  auto gradFn = fused->lookupSymbol<func::FuncOp>("tiny_loss_grad");
  int withAddend = 0, normWithAddend = 0, flash = 0, fusedLoss = 0;
  gradFn.walk([&](Operation *op) {
    if (auto l = dyn_cast<LinearOp>(op))
      withAddend += bool(l.getAddend());
    if (auto l = dyn_cast<LinearGradInputOp>(op))
      withAddend += bool(l.getAddend());
    if (auto n = dyn_cast<RMSNormGradOp>(op))
      normWithAddend += bool(n.getAddend());
    flash += isa<FlashAttentionGradOp>(op);
    fusedLoss += isa<CrossEntropyFusedOp>(op);
  });
  EXPECT_GT(withAddend, 0);
  EXPECT_GT(normWithAddend, 0);
  EXPECT_GT(flash, 0);
  EXPECT_EQ(fusedLoss, 1);

  TrainingState<double> st;
  randomState(gradFn, st, seed);
  std::mt19937_64 rng(seed);
  Batch batch = randomBatch(rng, kBatch, kSeqLen, kVocab);
  auto errors = gradcheckErrors(m.fn("tiny_loss"), gradFn, st, batch, rng);
  ASSERT_FALSE(errors.empty());
  double worst = 0;
  for (auto &[name, err] : errors) {
    EXPECT_LE(err, kTolerance) << "fused gradient of " << name;
    worst = std::max(worst, err);
  }
  note("fused @tiny_loss_grad worst relative gradient error", worst);
}

GrowthMasks masksOf(GradModule &m, int64_t index) {
  return growthMasksFor(growthOps(*m.module)[index]);
}

TEST(ModelGradcheck, MaskedWidthGrowth) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  GradModule m;
  ASSERT_TRUE(m.module);
  GrowthMasks masks = masksOf(m, 0);
  ASSERT_EQ(masks.hiddenKept, 8);
  ASSERT_EQ(masks.attentionKept, 8);
  ASSERT_EQ(masks.ffnKept, 12);
  expectGradcheck(m, "wide_loss", &masks, 0.3, seed);
}

TEST(ModelGradcheck, MaskedDepthGrowth) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  GradModule m;
  ASSERT_TRUE(m.module);
  GrowthMasks masks = masksOf(m, 1);
  ASSERT_EQ(masks.newLayers, (SmallVector<bool>{false, false, true}));
  expectGradcheck(m, "deep_loss", &masks, 0.3, seed);
}

TEST(ModelGradcheck, MaskedWidthAndDepthGrowth) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  GradModule m;
  ASSERT_TRUE(m.module);
  GrowthMasks masks;
  masks.hiddenKept = masks.attentionKept = 8;
  masks.ffnKept = 12;
  masks.newLayers = {false, false, true};
  expectGradcheck(m, "widedeep_loss", &masks, 0.3, seed);
}

// The negative control: a gradient function whose RMSNorm backward ignores
// the width mask (a plausible autodiff bug) fails the same gradcheck by
// orders of magnitude, so the check above can fail.
TEST(ModelGradcheck, DetectsNormBackwardIgnoringMask) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  GradModule m;
  ASSERT_TRUE(m.module);
  func::FuncOp lossFn = m.fn("wide_loss");
  func::FuncOp broken = cloneFunction(m.fn("wide_loss_grad"), "broken_grad");
  int stripped = 0;
  broken.walk([&](RMSNormGradOp op) {
    if (op.getMask()) {
      op.getMaskMutable().clear();
      ++stripped;
    }
  });
  ASSERT_EQ(stripped, 2 * 2 + 1) << "one masked norm backward per norm";
  TrainingState<double> st;
  randomState(broken, st, seed);
  setMasks(st, masksOf(m, 0), 0.3);
  std::mt19937_64 rng(seed);
  Batch batch = randomBatch(rng, kBatch, kSeqLen, kVocab);
  auto errors = gradcheckErrors(lossFn, broken, st, batch, rng, 40);
  ASSERT_FALSE(errors.empty());
  double worst = 0;
  for (auto &[name, err] : errors)
    worst = std::max(worst, err);
  note("norm backward without mask: worst relative gradient error", worst);
  EXPECT_GT(worst, 1e-3) << "the gradcheck did not notice a wrong gradient";
  EXPECT_GT(errors["model.embed_tokens.weight"], 1e-3);
}

//===----------------------------------------------------------------------===//
// AdamW step
//===----------------------------------------------------------------------===//

struct StageNumbers {
  int64_t steps, warmup;
  double lrMatrix, lrVector, minLrMatrix, minLrVector, weightDecay, clip,
      beta1, beta2, eps;
  DecayKind decay;
};

StageNumbers numbersOf(StageConfigAttr c) {
  auto d = [](const llvm::APFloat &v) { return v.convertToDouble(); };
  return {c.getSteps(),     c.getWarmup(),      d(c.getLrMatrix()),
          d(c.getLrVector()), d(c.getMinLrMatrix()), d(c.getMinLrVector()),
          d(c.getWeightDecay()), d(c.getClip()), d(c.getBeta1()),
          d(c.getBeta2()),  d(c.getAdamEps()),  c.getDecay()};
}

/// The stage's learning-rate schedule written out independently.
double scheduledLr(double peak, double min, int64_t step, int64_t warmup,
                   int64_t total, DecayKind decay) {
  if (step < warmup)
    return peak * double(step + 1) / double(warmup);
  // The stage's last step (total - 1) runs at the minimum.
  double p = total - 1 > warmup
                 ? std::clamp(double(step - warmup) / double(total - 1 - warmup), 0.0, 1.0)
                 : 1.0;
  switch (decay) {
  case DecayKind::cosine:
    return min + (peak - min) * 0.5 * (1 + std::cos(M_PI * p));
  case DecayKind::linear:
    return peak + (min - peak) * p;
  case DecayKind::constant:
    return peak;
  }
  return NAN;
}

/// Matrix-like: 2-D weights inside the blocks and the LM head; vector-like:
/// norm gains and the embedding (docs/growth.md section 5.2,
/// tele.stage_config).
bool isMatrixParam(StringRef name) {
  return !isGainName(name) && name != "model.embed_tokens.weight";
}

struct AdamResult {
  std::map<std::string, std::vector<double>> p, m, v;
  double norm = 0, lrMatrix = 0, lrVector = 0;
};

/// One AdamW step with PyTorch semantics from the gradients: clip by the
/// global norm (torch.nn.utils.clip_grad_norm_: scale max/(norm+1e-6) when
/// below 1), then torch.optim.AdamW (decoupled decay p *= 1 - lr*wd, bias
/// corrections with the 1-based step). `decayAll` applies weight decay to
/// every parameter (a wrong reference, for the negative control).
AdamResult referenceAdamW(const TrainingState<double> &st,
                          const std::vector<std::string> &names,
                          const std::vector<std::vector<double>> &grads,
                          const StageNumbers &s, int64_t stageStep,
                          int64_t adamStep, bool decayAll = false) {
  AdamResult r;
  double sq = 0;
  for (auto &g : grads)
    for (double x : g)
      sq += x * x;
  r.norm = std::sqrt(sq);
  double clipCoef = s.clip / (r.norm + 1e-6);
  double scale = clipCoef < 1 ? clipCoef : 1.0;
  r.lrMatrix = scheduledLr(s.lrMatrix, s.minLrMatrix, stageStep, s.warmup,
                           s.steps, s.decay);
  r.lrVector = scheduledLr(s.lrVector, s.minLrVector, stageStep, s.warmup,
                           s.steps, s.decay);
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string &name = names[i];
    bool matrix = isMatrixParam(name);
    double lr = matrix ? r.lrMatrix : r.lrVector;
    double wd = matrix || decayAll ? s.weightDecay : 0.0;
    std::vector<double> p = tensor(st, name), m = tensor(st, "optim.m." + name),
                        v = tensor(st, "optim.v." + name);
    for (size_t j = 0; j < p.size(); ++j) {
      double g = grads[i][j] * scale;
      p[j] *= 1 - lr * wd;
      m[j] = s.beta1 * m[j] + (1 - s.beta1) * g;
      v[j] = s.beta2 * v[j] + (1 - s.beta2) * g * g;
      double mhat = m[j] / (1 - std::pow(s.beta1, double(adamStep)));
      double vhat = v[j] / (1 - std::pow(s.beta2, double(adamStep)));
      p[j] -= lr * mhat / (std::sqrt(vhat) + s.eps);
    }
    r.p[name] = p;
    r.m[name] = m;
    r.v[name] = v;
  }
  return r;
}

struct StepCase {
  const char *stage;
  int64_t stageStep, adamStep;
  bool expectClipping;
};

void checkAdamStep(const StepCase &c, uint64_t seed) {
  auto ctx = makeContext();
  auto plan = parseModule(ctx.get(), kPlan);
  ASSERT_TRUE(plan);
  StageOp stage = findStage(*plan, c.stage);
  ASSERT_TRUE(stage);
  StageNumbers s = numbersOf(stage.getConfig());
  OwnCompiled compiled = compileWithMasks(*plan, c.stage, GrowthMasks{},
                                          Float64Type::get(ctx.get()), kBatch);
  ASSERT_TRUE(compiled.step && compiled.grad);

  // Random parameters and moments (as after some training).
  TrainingState<double> st;
  randomState(compiled.step, st, seed);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto entries = st.all(); // a copy: the loop replaces tensors
  for (auto &[name, e] : entries) {
    if (!StringRef(name).starts_with("optim."))
      continue;
    bool second = StringRef(name).starts_with("optim.v.");
    std::vector<double> x(e.data->size());
    for (double &y : x)
      y = second ? 1e-4 * std::abs(normal(rng)) : 1e-2 * normal(rng);
    putTensor(st, name, e.shape, std::move(x));
  }
  Batch batch = randomBatch(rng, kBatch, kSeqLen, kVocab);

  auto gradOut = call(compiled.grad, batch.args<double>(), st);
  ASSERT_FALSE(gradOut.empty());
  std::vector<std::string> names;
  for (Attribute a : compiled.grad->getAttrOfType<ArrayAttr>("tele.params"))
    names.push_back(cast<StringAttr>(a).getValue().str());
  std::vector<std::vector<double>> grads;
  for (size_t i = 0; i < names.size(); ++i)
    grads.push_back(values(gradOut[i + 1]));
  AdamResult ref =
      referenceAdamW(st, names, grads, s, c.stageStep, c.adamStep);
  if (c.expectClipping)
    ASSERT_GT(ref.norm, s.clip) << "the case is meant to clip";
  else
    ASSERT_LT(ref.norm, s.clip) << "the case is meant not to clip";

  TrainingState<double> after = st;
  auto stepOut =
      call(compiled.step, batch.stepArgs<double>(c.stageStep, c.adamStep), after);
  ASSERT_EQ(stepOut.size(), 4u);
  EXPECT_NEAR(stepOut[0].scalar(), gradOut[0].scalar(), 1e-14) << "loss";
  EXPECT_NEAR(stepOut[1].scalar(), ref.norm, 1e-12 * ref.norm) << "grad norm";
  EXPECT_NEAR(stepOut[2].scalar(), ref.lrMatrix, 1e-15) << "matrix LR";
  EXPECT_NEAR(stepOut[3].scalar(), ref.lrVector, 1e-15) << "vector LR";
  double worstRef = 0;
  for (const std::string &name : names)
    worstRef = std::max(worstRef, maxAbsDiff(tensor(after, name), ref.p[name]));
  note(std::string(c.stage) + " step vs reference AdamW: max |dp|", worstRef);
  note(std::string(c.stage) + " global gradient norm", ref.norm);
  for (const std::string &name : names) {
    EXPECT_LE(maxAbsDiff(tensor(after, name), ref.p[name]), 1e-12) << name;
    EXPECT_LE(maxAbsDiff(tensor(after, "optim.m." + name), ref.m[name]), 1e-12)
        << "optim.m." << name;
    EXPECT_LE(maxAbsDiff(tensor(after, "optim.v." + name), ref.v[name]), 1e-12)
        << "optim.v." << name;
  }

  // Negative control: the same comparison against a reference that decays
  // vector-like parameters too fails on those parameters.
  AdamResult wrong =
      referenceAdamW(st, names, grads, s, c.stageStep, c.adamStep, true);
  double worst = 0;
  for (const std::string &name : names)
    if (!isMatrixParam(name))
      worst = std::max(worst, maxAbsDiff(tensor(after, name), wrong.p[name]));
  note("decaying vector-like parameters too: max |dp|", worst);
  EXPECT_GT(worst, 1e-6) << "the check cannot tell decayed from undecayed";
}

TEST(ModelGradcheck, AdamWStepClippedDuringWarmup) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  checkAdamStep({"clipped", /*stageStep=*/1, /*adamStep=*/2, true}, seed);
}

TEST(ModelGradcheck, AdamWStepClippedCosineDecay) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  checkAdamStep({"clipped", /*stageStep=*/11, /*adamStep=*/12, true}, seed);
}

TEST(ModelGradcheck, AdamWStepUnclippedLinearDecay) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  checkAdamStep({"unclipped", /*stageStep=*/9, /*adamStep=*/40, false}, seed);
}

} // namespace
