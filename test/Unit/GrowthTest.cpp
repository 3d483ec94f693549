//===- GrowthTest.cpp - the MSG growth checks of docs/growth.md -----------===//
//
// For each growth operator alone (FFN width, heads + hidden, depth) and all
// combined (width, then depth, applied one after the other through the
// parameter maps), on a small model with fresh random weights that has
// trained a couple of steps:
//  1. at mask 0 the grown model's loss and logits equal the small model's
//     (fp64 <= 1e-12, fp32 <= 1e-6);
//  2. with plain RMSNorm (or with the masks removed) that fails;
//  3. at mask 1 the masked graph equals the graph tele-fold-masks folds;
//  4. the first optimizer step after growth changes every old-block parameter
//     exactly as the small model's step, new entries get zero gradient and
//     the global gradient norm is unchanged;
//  5. at mask 0.5 the function differs (the masks do something).
// Also the depth-growth layer selection rule.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <map>

using namespace teletest;

namespace {

constexpr int64_t kBatch = 2;
// Identical schedules in every stage, so that the small and the grown step
// use the same learning rates; clip small enough to be active.
#define STAGE_CFG                                                              \
  "<steps = 10, batch = 2, lr_matrix = 1.0e-2, lr_vector = 2.0e-2, "           \
  "min_lr_matrix = 1.0e-3, warmup = 0, weight_decay = 0.1, clip = 0.05>"
#define SMALL_MODEL                                                            \
  "tele.model @small <vocab = 13, hidden = 8, heads = 2, head_dim = 4, "       \
  "ffn = 12, layers = 2, seq_len = 6, alpha_out = 0.5, init_std = 0.2>\n"

struct Case {
  const char *name;
  const char *plan;
  bool hiddenGrows;
};
// gtest prints the parameter by its name.
void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

const Case kFfn{"ffn", SMALL_MODEL R"mlir(
tele.model @big <vocab = 13, hidden = 8, heads = 2, head_dim = 4, ffn = 20, layers = 2, seq_len = 6, alpha_out = 0.5, init_std = 0.2>
tele.plan @p {
  tele.stage @s0 on @small )mlir" STAGE_CFG R"mlir(
  tele.grow.width @small -> @big {transition_steps = 4, init_std = 0.2}
  tele.stage @s1 on @big )mlir" STAGE_CFG R"mlir(
}
)mlir",
                false};

const Case kHeads{"heads_hidden", SMALL_MODEL R"mlir(
tele.model @big <vocab = 13, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 2, seq_len = 6, alpha_out = 0.5, init_std = 0.2>
tele.plan @p {
  tele.stage @s0 on @small )mlir" STAGE_CFG R"mlir(
  tele.grow.width @small -> @big {transition_steps = 4, init_std = 0.2}
  tele.stage @s1 on @big )mlir" STAGE_CFG R"mlir(
}
)mlir",
                  true};

// 2 -> 5 layers: layer 0 copied once, layer 1 twice.
const Case kDepth{"depth", SMALL_MODEL R"mlir(
tele.model @big <vocab = 13, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 5, seq_len = 6, alpha_out = 0.5, init_std = 0.2>
tele.plan @p {
  tele.stage @s0 on @small )mlir" STAGE_CFG R"mlir(
  tele.grow.depth @small -> @big {transition_steps = 4, copy_layers = array<i64: 0, 1, 1>}
  tele.stage @s1 on @big )mlir" STAGE_CFG R"mlir(
}
)mlir",
                  false};

// Hidden, heads and FFN, then 2 -> 4 layers.
const Case kCombined{"combined", SMALL_MODEL R"mlir(
tele.model @wide <vocab = 13, hidden = 12, heads = 3, head_dim = 4, ffn = 20, layers = 2, seq_len = 6, alpha_out = 0.5, init_std = 0.2>
tele.model @big <vocab = 13, hidden = 12, heads = 3, head_dim = 4, ffn = 20, layers = 4, seq_len = 6, alpha_out = 0.5, init_std = 0.2>
tele.plan @p {
  tele.stage @s0 on @small )mlir" STAGE_CFG R"mlir(
  tele.grow.width @small -> @wide {transition_steps = 4, init_std = 0.2}
  tele.stage @s1 on @wide )mlir" STAGE_CFG R"mlir(
  tele.grow.depth @wide -> @big {transition_steps = 4, copy_layers = array<i64: 0, 1>}
  tele.stage @s2 on @big )mlir" STAGE_CFG R"mlir(
}
)mlir",
                     true};

/// A small model trained two steps, grown through the plan's growth ops.
template <typename T> struct Grown {
  std::unique_ptr<MLIRContext> ctx = makeContext();
  OwningOpRef<ModuleOp> plan;
  FloatType et;
  std::string bigModel = "big";
  StageOp bigStage;
  ModelConfigAttr smallCfg, bigCfg;
  CompiledStage small;
  /// Per growth op i: the stage after it compiled with masks (param map).
  std::vector<CompiledStage> grown;
  /// The combined graph (when there are two growth ops).
  OwnCompiled own;
  GrowthMasks masks;
  func::FuncOp bigLoss, bigGrad, bigStep, bigEval, smallGrad;
  /// Per grown layer: (source layer of the small model, is a new copy).
  std::vector<std::pair<int64_t, bool>> layerOrigin;
  TrainingState<T> smallState, bigState;
  int64_t adamSteps = 0;

  void setUp(const Case &c, uint64_t seed) {
    et = floatTypeOf<T>(ctx.get());
    plan = parseModule(ctx.get(), c.plan);
    ASSERT_TRUE(plan) << "cannot parse the plan of " << c.name;
    SmallVector<Operation *> grows = growthOps(*plan);
    ASSERT_FALSE(grows.empty());
    SmallVector<StageOp> stages;
    plan->walk([&](StageOp s) { stages.push_back(s); });
    ASSERT_EQ(stages.size(), grows.size() + 1);
    bigStage = stages.back();
    smallCfg = modelNamed(*plan, "small").getConfig();
    bigCfg = modelNamed(*plan, bigModel).getConfig();
    // LR scale 1: the grown step is compared with the small one's.
    StageCompileOptions options{kBatch, et, int64_t(seed & 0xffffff), 1.0};

    auto s = compileStage(*plan, stages[0], StagePhase::Steady, options);
    ASSERT_TRUE(succeeded(s)) << "compiling the small stage";
    small = std::move(*s);
    smallGrad = small.module->lookupSymbol<func::FuncOp>("small_loss_grad");
    ASSERT_TRUE(small.step && small.eval && smallGrad);
    for (auto [i, grow] : llvm::enumerate(grows)) {
      auto g = compileStage(*plan, stages[i + 1], StagePhase::Transition,
                            options);
      ASSERT_TRUE(succeeded(g)) << "compiling the stage after growth " << i;
      ASSERT_EQ(g->paramMaps.size(), 1u) << "no parameter map for growth " << i;
      grown.push_back(std::move(*g));
    }

    // Masks of the final graph and the grown layers' origin.
    layerOrigin.clear();
    for (int64_t l = 0; l < smallCfg.getLayers(); ++l) {
      layerOrigin.push_back({l, false});
      if (auto depth = dyn_cast<GrowDepthOp>(grows.back()))
        for (int64_t k = 0, n = llvm::count(*depth.getCopyLayers(), l); k < n; ++k)
          layerOrigin.push_back({l, true});
    }
    ASSERT_EQ((int64_t)layerOrigin.size(), bigCfg.getLayers());
    if (grows.size() == 1) {
      masks = growthMasksFor(grows[0]);
      ModuleOp m = *grown[0].module;
      bigLoss = m.lookupSymbol<func::FuncOp>(bigModel + "_loss");
      bigGrad = m.lookupSymbol<func::FuncOp>(bigModel + "_loss_grad");
      bigStep = grown[0].step;
      bigEval = grown[0].eval;
    } else {
      ASSERT_EQ(grows.size(), 2u);
      masks = combineMasks(growthMasksFor(grows[0]), growthMasksFor(grows[1]));
      own = compileWithMasks(*plan, bigStage.getSymName(), masks, et, kBatch);
      bigLoss = own.loss;
      bigGrad = own.grad;
      bigStep = own.step;
      bigEval = own.eval;
    }
    ASSERT_TRUE(bigLoss && bigGrad && bigStep && bigEval);
    ASSERT_FALSE(maskNames(masks).empty());

    // The small model: random weights and gains, two training steps (so that
    // the moments and the step count are those of a run in progress).
    smallState = TrainingState<T>();
    if (auto err = exec::initializeState<T>(small.step, smallState, seed,
                                            smallCfg.getInitStdValue()))
      FAIL() << llvm::toString(std::move(err));
    std::mt19937_64 rng(seed);
    randomizeGains(smallState, rng, 0.2);
    for (int64_t k = 0; k < 2; ++k) {
      Batch b = randomBatch(rng, kBatch, smallCfg.getSeqLen(), smallCfg.getVocab());
      ASSERT_FALSE(call(small.step, b.stepArgs<T>(k, k + 1), smallState).empty());
      ++adamSteps;
    }
    // Grow through the parameter maps, one after the other.
    bigState = smallState;
    for (CompiledStage &g : grown)
      ASSERT_TRUE(callOk<T>(g.paramMaps.front(), {}, bigState));
  }

  /// The small model's name of a grown parameter, and whether it belongs to
  /// a layer added by depth growth.
  std::pair<std::string, bool> origin(StringRef name) const {
    StringRef rest = name;
    if (!rest.consume_front("model.layers."))
      return {name.str(), false};
    auto [index, suffix] = rest.split('.');
    int64_t layer = std::stoll(index.str());
    auto [src, isCopy] = layerOrigin[layer];
    return {layerParamName(src, suffix), isCopy};
  }

  Batch batch(std::mt19937_64 &rng) const {
    return randomBatch(rng, kBatch, smallCfg.getSeqLen(), smallCfg.getVocab());
  }
};

struct EvalResult {
  double loss = NAN;
  std::vector<double> logits;
};

template <typename T>
EvalResult evaluate(func::FuncOp fn, const Batch &b, TrainingState<T> &st) {
  auto out = call(fn, b.args<T>(), st);
  EvalResult r;
  if (out.size() != 2) {
    ADD_FAILURE() << "@" << fn.getSymName().str() << " returned " << out.size()
                  << " results, expected (loss, logits)";
    return r;
  }
  r.loss = out[0].scalar();
  for (T x : values(out[1]))
    r.logits.push_back(double(x));
  return r;
}

class GrowthTest : public ::testing::TestWithParam<Case> {};
/// The cases where the hidden size grows (and every norm is masked).
class HiddenGrowthTest : public ::testing::TestWithParam<Case> {};

//===----------------------------------------------------------------------===//
// 1. Function preservation at mask 0
//===----------------------------------------------------------------------===//

template <typename T> void checkPreservation(const Case &c, double tol) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  Grown<T> g;
  g.setUp(c, seed);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  setMasks(g.bigState, g.masks, 0.0);
  std::mt19937_64 rng(seed + 1);
  for (int trial = 0; trial < 3; ++trial) {
    Batch b = g.batch(rng);
    EvalResult before = evaluate(g.small.eval, b, g.smallState);
    EvalResult after = evaluate(g.bigEval, b, g.bigState);
    note(std::string(c.name) + " mask 0 loss rel error", relError(after.loss, before.loss));
    note(std::string(c.name) + " mask 0 logits rel error", relError(after.logits, before.logits));
    EXPECT_LE(relError(after.loss, before.loss), tol)
        << "loss " << before.loss << " before growth, " << after.loss
        << " after";
    EXPECT_LE(relError(after.logits, before.logits), tol) << "logits";
    // The graph the step differentiates (tele-lower-growth's masked loss).
    auto lowered = call(g.bigLoss, b.args<T>(), g.bigState);
    ASSERT_FALSE(lowered.empty());
    EXPECT_LE(relError(double(lowered[0].scalar()), before.loss), tol)
        << "@" << g.bigLoss.getSymName().str();
  }
}

TEST_P(GrowthTest, PreservesFunctionAtMaskZeroF64) {
  checkPreservation<double>(GetParam(), 1e-12);
}

TEST_P(GrowthTest, PreservesFunctionAtMaskZeroF32) {
  checkPreservation<float>(GetParam(), 1e-6);
}

//===----------------------------------------------------------------------===//
// 2. Preservation needs the masks
//===----------------------------------------------------------------------===//

// Plain RMSNorm over the grown width divides by the wrong count.
TEST_P(HiddenGrowthTest, PlainRMSNormBreaksPreservation) {
  const Case &c = GetParam();
  ASSERT_TRUE(c.hiddenGrows);
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  Grown<double> g;
  g.setUp(c, seed);
  ASSERT_FALSE(HasFatalFailure());
  func::FuncOp plainNorm = cloneFunction(g.bigEval, "eval_plain_norm");
  EXPECT_EQ(stripNormMasks(plainNorm), 2 * g.bigCfg.getLayers() + 1)
      << "every norm of the grown model must be masked";
  setMasks(g.bigState, g.masks, 0.0);
  std::mt19937_64 rng(seed + 2);
  Batch b = g.batch(rng);
  EvalResult before = evaluate(g.small.eval, b, g.smallState);
  EvalResult masked = evaluate(g.bigEval, b, g.bigState);
  EvalResult plain = evaluate(plainNorm, b, g.bigState);
  EXPECT_LE(relError(masked.logits, before.logits), 1e-12);
  double err = relError(plain.logits, before.logits);
  EXPECT_GT(err, 1e-3) << "plain RMSNorm should break preservation";
  EXPECT_GT(relError(plain.loss, before.loss), 1e-6);
  note(std::string(c.name) + " plain RMSNorm logits rel error", err);
  note(std::string(c.name) + " plain RMSNorm max |dlogit|",
       maxAbsDiff(plain.logits, before.logits));
}

// Every mask matters: the same graph without its masks (tele-fold-masks) at
// the growth step is a different function.
TEST_P(GrowthTest, UnmaskedGraphBreaksPreservation) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  Grown<double> g;
  g.setUp(GetParam(), seed);
  ASSERT_FALSE(HasFatalFailure());
  auto folded = foldedCopy(g.bigEval);
  ASSERT_TRUE(folded);
  auto fn = folded->lookupSymbol<func::FuncOp>("eval");
  g.bigState.masks.clear(); // the folded graph reads no mask
  std::mt19937_64 rng(seed + 3);
  Batch b = g.batch(rng);
  EvalResult before = evaluate(g.small.eval, b, g.smallState);
  EvalResult unmasked = evaluate(fn, b, g.bigState);
  note(std::string(GetParam().name) + " unmasked logits rel error",
       relError(unmasked.logits, before.logits));
  EXPECT_GT(relError(unmasked.logits, before.logits), 1e-3);
  EXPECT_GT(relError(unmasked.loss, before.loss), 1e-6);
}

//===----------------------------------------------------------------------===//
// 3. Mask 1 equals the folded graph
//===----------------------------------------------------------------------===//

TEST_P(GrowthTest, FoldedGraphEqualsMaskedGraphAtMaskOne) {
  const Case &c = GetParam();
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  Grown<double> g;
  g.setUp(c, seed);
  ASSERT_FALSE(HasFatalFailure());

  // Forward: masked eval at 1, the folded eval and the plain grown model.
  auto folded = foldedCopy(g.bigEval);
  ASSERT_TRUE(folded);
  func::FuncOp foldedEval = folded->lookupSymbol<func::FuncOp>("eval");
  int remaining = 0;
  foldedEval.walk([&](Operation *op) {
    if (isa<MaskValueOp, MaskVectorOp, MaskMulOp, LerpOp>(op))
      ++remaining;
    if (auto n = dyn_cast<RMSNormOp>(op); n && n.getMask())
      ++remaining;
  });
  EXPECT_EQ(remaining, 0) << "tele-fold-masks left masked ops";
  auto plain = compileEvalOnly(modelNamed(*g.plan, g.bigModel), kBatch, g.et);
  ASSERT_TRUE(succeeded(plain));

  setMasks(g.bigState, g.masks, 1.0);
  std::mt19937_64 rng(seed + 4);
  Batch b = g.batch(rng);
  EvalResult masked = evaluate(g.bigEval, b, g.bigState);
  EvalResult fold = evaluate(foldedEval, b, g.bigState);
  EvalResult ref = evaluate(plain->eval, b, g.bigState);
  note(std::string(c.name) + " mask 1 vs folded logits rel error",
       relError(masked.logits, fold.logits));
  EXPECT_LE(relError(masked.loss, fold.loss), 1e-12);
  EXPECT_LE(relError(masked.logits, fold.logits), 1e-12);
  EXPECT_LE(relError(fold.loss, ref.loss), 1e-12);
  EXPECT_LE(relError(fold.logits, ref.logits), 1e-12);
  // Negative control: below 1 the masked graph is not the folded one.
  setMasks(g.bigState, g.masks, 0.5);
  EvalResult half = evaluate(g.bigEval, b, g.bigState);
  EXPECT_GT(relError(half.logits, fold.logits), 1e-3);
  setMasks(g.bigState, g.masks, 1.0);

  // Training: the masked step at mask 1 and the folded stage's step (what
  // tele train switches to after the transition) do the same update.
  func::FuncOp foldedStep;
  std::optional<CompiledStage> foldedStage;
  OwnCompiled foldedOwn;
  SmallVector<Operation *> grows = growthOps(*g.plan);
  if (grows.size() == 1) {
    auto f = compileStage(*g.plan, g.bigStage, StagePhase::Steady,
                          StageCompileOptions{kBatch, g.et, 0, 1.0});
    ASSERT_TRUE(succeeded(f));
    foldedStage = std::move(*f);
    foldedStep = foldedStage->step;
  } else {
    foldedOwn = compileWithMasks(*g.plan, g.bigStage.getSymName(), g.masks,
                                 g.et, kBatch, /*fold=*/true);
    foldedStep = foldedOwn.step;
  }
  ASSERT_TRUE(foldedStep);
  TrainingState<double> a = g.bigState, f = g.bigState;
  f.masks.clear();
  auto ra = call(g.bigStep, b.stepArgs<double>(0, g.adamSteps + 1), a);
  auto rf = call(foldedStep, b.stepArgs<double>(0, g.adamSteps + 1), f);
  ASSERT_EQ(ra.size(), 4u);
  ASSERT_EQ(rf.size(), 4u);
  EXPECT_LE(relError(double(ra[0].scalar()), rf[0].scalar()), 1e-12) << "loss";
  EXPECT_LE(relError(double(ra[1].scalar()), rf[1].scalar()), 1e-12)
      << "gradient norm";
  for (auto &[name, e] : a.all()) {
    const auto *other = f.lookup(name);
    ASSERT_TRUE(other) << name;
    EXPECT_LE(maxAbsDiff(*e.data, *other->data), 1e-12) << name;
  }
}

//===----------------------------------------------------------------------===//
// 4. The first optimizer step after growth
//===----------------------------------------------------------------------===//

struct StepOutcome {
  std::vector<HostValue<double>> results;
  TrainingState<double> state;
};

void checkFirstStep(Grown<double> &g, const Batch &b, double maskValue,
                    bool expectMatch) {
  const int64_t stageStep = 0, adamStep = g.adamSteps + 1;
  TrainingState<double> small = g.smallState, big = g.bigState;
  setMasks(big, g.masks, maskValue);

  // Gradients before the step.
  auto gs = call(g.smallGrad, b.args<double>(), small);
  auto gb = call(g.bigGrad, b.args<double>(), big);
  ASSERT_FALSE(gs.empty() || gb.empty());
  std::map<std::string, std::vector<double>> smallGrads, bigGrads;
  auto collect = [](func::FuncOp fn, std::vector<HostValue<double>> &out,
                    std::map<std::string, std::vector<double>> &into) {
    auto names = fn->getAttrOfType<ArrayAttr>("tele.params");
    for (auto [i, n] : llvm::enumerate(names))
      into[cast<StringAttr>(n).getValue().str()] = values(out[i + 1]);
  };
  collect(g.smallGrad, gs, smallGrads);
  collect(g.bigGrad, gb, bigGrads);

  TrainingState<double> smallBefore = small;
  auto rs = call(g.small.step, b.stepArgs<double>(stageStep, adamStep), small);
  // The step does move the small model (comparing two unchanged states would
  // prove nothing).
  double moved = 0;
  for (auto &[name, e] : smallBefore.all())
    if (!StringRef(name).starts_with("optim."))
      moved = std::max(moved, maxAbsDiff(*e.data, tensor(small, name)));
  EXPECT_GT(moved, 1e-4) << "the small model's step changed nothing";
  TrainingState<double> before = big;
  auto rb = call(g.bigStep, b.stepArgs<double>(stageStep, adamStep), big);
  ASSERT_EQ(rs.size(), 4u);
  ASSERT_EQ(rb.size(), 4u);
  double lrMatrix = rb[2].scalar(), lrVector = rb[3].scalar();
  double wd = g.bigStage.getConfig().getWeightDecay().convertToDouble();
  double clip = g.bigStage.getConfig().getClip().convertToDouble();

  double worstOld = 0; // max |old-block parameter difference|
  int64_t checkedOld = 0, checkedNew = 0;
  EXPECT_EQ(bigGrads.size(), g.bigState.all().size() / 3)
      << "one gradient per parameter";
  for (auto &[name, grad] : bigGrads) {
    auto [smallName, isCopy] = g.origin(name);
    SCOPED_TRACE(name + " (from " + smallName + (isCopy ? ", a new layer)" : ")"));
    SmallVector<int64_t> bigShape = shapeOf(big, name);
    SmallVector<int64_t> smallShape = shapeOf(small, smallName);
    ASSERT_EQ(bigShape.size(), smallShape.size());
    bool matrix = before.lookup(name) && name != "model.embed_tokens.weight" &&
                  !isGainName(name);
    std::vector<double> p0 = tensor(before, name), p1 = tensor(big, name);
    std::vector<double> m1 = tensor(big, "optim.m." + name),
                        v1 = tensor(big, "optim.v." + name);
    if (!isCopy) {
      std::vector<double> sp = tensor(small, smallName);
      worstOld = std::max(worstOld, maxAbsDiff(topLeft(p1, bigShape, smallShape), sp));
      if (!expectMatch)
        continue;
      ++checkedOld;
      note(name + " old-block |dp|", maxAbsDiff(topLeft(p1, bigShape, smallShape), sp));
      EXPECT_LE(relError(topLeft(grad, bigShape, smallShape), smallGrads[smallName]),
                1e-10)
          << "old-block gradient";
      EXPECT_LE(maxAbsDiff(topLeft(p1, bigShape, smallShape), sp), 1e-10)
          << "old-block parameter after the step";
      EXPECT_LE(relError(topLeft(m1, bigShape, smallShape),
                         tensor(small, "optim.m." + smallName)),
                1e-10)
          << "old-block first moment";
      EXPECT_LE(relError(topLeft(v1, bigShape, smallShape),
                         tensor(small, "optim.v." + smallName)),
                1e-10)
          << "old-block second moment";
    }
    if (!expectMatch)
      continue;
    // New entries (all of a new layer): zero gradient, zero moments, and
    // only weight decay moves them.
    double decay = matrix ? 1.0 - lrMatrix * wd : 1.0;
    int64_t newEntries = 0, badGrad = 0, badParam = 0, badMoment = 0;
    forEachEntry(bigShape, isCopy ? SmallVector<int64_t>(bigShape.size(), 0)
                                  : smallShape,
                 [&](int64_t f, int64_t s) {
                   if (s >= 0)
                     return;
                   ++newEntries;
                   badGrad += grad[f] != 0.0;
                   badParam += std::abs(p1[f] - p0[f] * decay) >
                               1e-15 * std::abs(p0[f]);
                   badMoment += m1[f] != 0.0 || v1[f] != 0.0;
                 });
    checkedNew += newEntries;
    EXPECT_EQ(badGrad, 0) << "of " << newEntries
                          << " new entries have a non-zero gradient";
    EXPECT_EQ(badParam, 0) << "of " << newEntries
                           << " new entries moved other than by weight decay";
    EXPECT_EQ(badMoment, 0) << "of " << newEntries
                            << " new entries have non-zero moments";
  }
  note("max |old-block difference| at mask " + std::to_string(maskValue), worstOld);
  if (!expectMatch) {
    EXPECT_GT(worstOld, 1e-6) << "at mask " << maskValue
                              << " the old block should train differently";
    return;
  }
  // Every original tensor was compared; the growth added new entries.
  EXPECT_EQ(checkedOld, int64_t(g.smallGrad->getAttrOfType<ArrayAttr>("tele.params").size()));
  EXPECT_GT(checkedNew, 0);
  note("new entries checked", double(checkedNew));
  // Loss continuity, the global gradient norm (clipping) and learning rates.
  EXPECT_LE(relError(double(rb[0].scalar()), rs[0].scalar()), 1e-12) << "loss";
  EXPECT_LE(relError(double(rb[1].scalar()), rs[1].scalar()), 1e-12)
      << "global gradient norm";
  EXPECT_GT(double(rb[1].scalar()), clip) << "the case is meant to clip";
  EXPECT_EQ(rb[2].scalar(), rs[2].scalar());
  EXPECT_EQ(rb[3].scalar(), rs[3].scalar());
  EXPECT_EQ(lrVector, rs[3].scalar());
}

TEST_P(GrowthTest, FirstStepAfterGrowthMatchesSmallModelStep) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  Grown<double> g;
  g.setUp(GetParam(), seed);
  ASSERT_FALSE(HasFatalFailure());
  std::mt19937_64 rng(seed + 5);
  Batch b = g.batch(rng);
  {
    SCOPED_TRACE("masks at 0");
    checkFirstStep(g, b, 0.0, /*expectMatch=*/true);
  }
  {
    // Negative control: the comparison notices a step that is not the small
    // model's.
    SCOPED_TRACE("masks at 0.5 (negative control)");
    checkFirstStep(g, b, 0.5, /*expectMatch=*/false);
  }
}

//===----------------------------------------------------------------------===//
// 5. The masks do something
//===----------------------------------------------------------------------===//

TEST_P(GrowthTest, MaskHalfChangesFunction) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  Grown<double> g;
  g.setUp(GetParam(), seed);
  ASSERT_FALSE(HasFatalFailure());
  std::mt19937_64 rng(seed + 6);
  Batch b = g.batch(rng);
  EvalResult before = evaluate(g.small.eval, b, g.smallState);
  setMasks(g.bigState, g.masks, 0.0);
  EvalResult zero = evaluate(g.bigEval, b, g.bigState);
  setMasks(g.bigState, g.masks, 0.5);
  EvalResult half = evaluate(g.bigEval, b, g.bigState);
  EXPECT_LE(relError(zero.loss, before.loss), 1e-12);
  note(std::string(GetParam().name) + " mask 0.5 logits rel error",
       relError(half.logits, before.logits));
  note(std::string(GetParam().name) + " mask 0.5 loss rel error",
       relError(half.loss, before.loss));
  EXPECT_GT(relError(half.logits, before.logits), 1e-3);
  EXPECT_GT(relError(half.loss, before.loss), 1e-6)
      << "loss " << before.loss << " before growth, " << half.loss
      << " at mask 0.5";
  // Each mask alone matters too.
  for (const std::string &name : maskNames(g.masks)) {
    setMasks(g.bigState, g.masks, 0.0);
    g.bigState.masks[name] = 0.5;
    EvalResult one = evaluate(g.bigEval, b, g.bigState);
    note(name + " = 0.5 alone: logits rel error", relError(one.logits, before.logits));
    EXPECT_GT(relError(one.logits, before.logits), 1e-4) << name << " = 0.5";
  }
}

std::string caseName(const ::testing::TestParamInfo<Case> &info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Operators, GrowthTest,
                         ::testing::Values(kFfn, kHeads, kDepth, kCombined),
                         caseName);
INSTANTIATE_TEST_SUITE_P(Operators, HiddenGrowthTest,
                         ::testing::Values(kHeads, kCombined), caseName);

//===----------------------------------------------------------------------===//
// Depth growth: which layers are copied
//===----------------------------------------------------------------------===//

TEST(LayerSelection, SmallestAndLargestByRank) {
  std::vector<double> d{3, 1, 2};
  EXPECT_EQ(selectLayersToCopy(d, 2, LayerSelection::smallest),
            (SmallVector<int64_t>{1, 2}));
  EXPECT_EQ(selectLayersToCopy(d, 2, LayerSelection::largest),
            (SmallVector<int64_t>{0, 2}));
  EXPECT_EQ(selectLayersToCopy(d, 1, LayerSelection::smallest),
            (SmallVector<int64_t>{1}));
  EXPECT_EQ(selectLayersToCopy(d, 0, LayerSelection::smallest),
            (SmallVector<int64_t>{}));
}

TEST(LayerSelection, MoreNewLayersThanLayers) {
  // 7 new layers on 3: every layer twice, the 7th by rank.
  std::vector<double> d{3, 1, 2};
  EXPECT_EQ(selectLayersToCopy(d, 7, LayerSelection::smallest),
            (SmallVector<int64_t>{0, 0, 1, 1, 1, 2, 2}));
  EXPECT_EQ(selectLayersToCopy(d, 7, LayerSelection::largest),
            (SmallVector<int64_t>{0, 0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(selectLayersToCopy(d, 3, LayerSelection::largest),
            (SmallVector<int64_t>{0, 1, 2}));
  EXPECT_EQ(selectLayersToCopy(d, 8, LayerSelection::smallest),
            (SmallVector<int64_t>{0, 0, 1, 1, 1, 2, 2, 2}));
}

TEST(LayerSelection, TiesGoToTheLowerIndex) {
  std::vector<double> d{2, 1, 1, 2};
  EXPECT_EQ(selectLayersToCopy(d, 1, LayerSelection::smallest),
            (SmallVector<int64_t>{1}));
  EXPECT_EQ(selectLayersToCopy(d, 1, LayerSelection::largest),
            (SmallVector<int64_t>{0}));
}

// New layers follow their source: copy_layers [0, 1, 1] on 2 layers gives
// [L0, L0', L1, L1', L1''].
TEST(LayerSelection, NewLayersFollowTheirSource) {
  auto ctx = makeContext();
  auto plan = parseModule(ctx.get(), kDepth.plan);
  ASSERT_TRUE(plan);
  GrowthMasks m = growthMasksFor(growthOps(*plan)[0]);
  EXPECT_EQ(m.newLayers, (SmallVector<bool>{false, true, false, true, true}));
  EXPECT_LT(m.hiddenKept, 0);
  EXPECT_LT(m.attentionKept, 0);
  EXPECT_LT(m.ffnKept, 0);
}

} // namespace
