//===- WorkedExampleTest.cpp - docs/growth.md section 8, in float64 -------===//
//
// The worked example of docs/growth.md: d=64, H=4 (dh 16), f=172, L=2 grown
// to d'=96, H'=6, f'=256 (tele.grow.width) and then to L'=4 (tele.grow.depth
// copying layers 0 and 1); V=32. The parameter maps tele-lower-growth emits
// run one after the other on the CPU executor. Checked: every grown tensor's
// shape, the copied top-left blocks (bit for bit), new gains 1, the layer
// order [L0, L0', L1, L1'], zero moments in the copied layers (of a small
// model stepped twice, so that its moments are not zero to begin with), and
// the logits of the masked grown model against the small model's:
// max |dlogit| <= 1e-12 of the logits' scale at masks 0 (rounding: BLAS may
// sum in another order on another CPU), clearly non-zero at masks 0.5 and
// with plain RMSNorm at masks 0. (The non-zero values depend on the random
// initialisation; only small vs clearly non-zero is asserted.)
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

using namespace teletest;

namespace {

constexpr const char *kPlan = R"mlir(
tele.model @small <vocab = 32, hidden = 64, heads = 4, head_dim = 16, ffn = 172, layers = 2, seq_len = 16>
tele.model @wide <vocab = 32, hidden = 96, heads = 6, head_dim = 16, ffn = 256, layers = 2, seq_len = 16>
tele.model @large <vocab = 32, hidden = 96, heads = 6, head_dim = 16, ffn = 256, layers = 4, seq_len = 16>
tele.plan @example {
  tele.stage @s0 on @small <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.width @small -> @wide {transition_steps = 10}
  tele.stage @s1 on @wide <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
  tele.grow.depth @wide -> @large {transition_steps = 10, copy_layers = array<i64: 0, 1>}
  tele.stage @s2 on @large <steps = 10, batch = 2, lr_matrix = 1.0e-3, lr_vector = 1.0e-3>
}
)mlir";

constexpr int64_t kBatch = 2, V = 32, d = 64, f = 172, D = 96, F = 256;
/// A trained-looking small model: weights N(0, 1/sqrt(d)), gains 1 + N(0, 0.1).
constexpr double kSmallStd = 0.125;

struct Example {
  std::unique_ptr<MLIRContext> ctx = makeContext();
  OwningOpRef<ModuleOp> plan;
  CompiledStage small, width, depth;
  OwnCompiled large; // the masked large model (width and depth masks)
  GrowthMasks masks;
  TrainingState<double> smallState, wideState, largeState;

  void setUp(uint64_t seed) {
    plan = parseModule(ctx.get(), kPlan);
    ASSERT_TRUE(plan);
    auto f64 = Float64Type::get(ctx.get());
    SmallVector<Operation *> grows = growthOps(*plan);
    ASSERT_EQ(grows.size(), 2u);
    StageCompileOptions options{kBatch, f64, int64_t(seed & 0xffffff), 1.0};
    auto s = compileStage(*plan, findStage(*plan, "s0"), StagePhase::Steady,
                          options);
    auto w = compileStage(*plan, findStage(*plan, "s1"),
                          StagePhase::Transition, options);
    auto dp = compileStage(*plan, findStage(*plan, "s2"),
                           StagePhase::Transition, options);
    ASSERT_TRUE(succeeded(s) && succeeded(w) && succeeded(dp));
    small = std::move(*s);
    width = std::move(*w);
    depth = std::move(*dp);
    ASSERT_EQ(width.paramMaps.size(), 1u);
    ASSERT_EQ(depth.paramMaps.size(), 1u);
    masks = combineMasks(growthMasksFor(grows[0]), growthMasksFor(grows[1]));
    large = compileWithMasks(*plan, "s2", masks, f64, kBatch);
    ASSERT_TRUE(large.eval);

    if (auto err = exec::initializeState<double>(small.step, smallState, seed,
                                                 kSmallStd))
      FAIL() << llvm::toString(std::move(err));
    std::mt19937_64 rng(seed);
    randomizeGains(smallState, rng, 0.1);
    // Two optimizer steps: the moments the growth copies or resets are those
    // of a run in progress, not the zeros of a fresh state.
    for (int64_t k = 0; k < 2; ++k) {
      Batch b = randomBatch(rng, kBatch, 16, V);
      ASSERT_FALSE(call(small.step, b.stepArgs<double>(k, k + 1), smallState).empty());
    }
    wideState = smallState;
    ASSERT_TRUE(callOk<double>(width.paramMaps.front(), {}, wideState));
    largeState = wideState;
    ASSERT_TRUE(callOk<double>(depth.paramMaps.front(), {}, largeState));
  }
};

std::string L(int64_t layer, StringRef suffix) {
  return layerParamName(layer, suffix);
}

const char *kSuffixes[] = {
    "input_layernorm.weight",  "self_attn.q_proj.weight",
    "self_attn.k_proj.weight", "self_attn.v_proj.weight",
    "self_attn.o_proj.weight", "post_attention_layernorm.weight",
    "mlp.gate_proj.weight",    "mlp.up_proj.weight",
    "mlp.down_proj.weight"};

/// [rows, cols] (or [n]) of each layer tensor in a model of width h, ffn ff.
SmallVector<int64_t> layerShape(StringRef suffix, int64_t h, int64_t ff) {
  if (suffix.ends_with("layernorm.weight"))
    return {h};
  if (suffix.starts_with("mlp.gate") || suffix.starts_with("mlp.up"))
    return {ff, h};
  if (suffix.starts_with("mlp.down"))
    return {h, ff};
  return {h, h};
}

TEST(WorkedExample, GrownTensorShapes) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  Example ex;
  ex.setUp(seed);
  ASSERT_FALSE(HasFatalFailure());
  auto &st = ex.largeState;
  EXPECT_EQ(shapeOf(st, "model.embed_tokens.weight"), (SmallVector<int64_t>{V, D}));
  EXPECT_EQ(shapeOf(st, "lm_head.weight"), (SmallVector<int64_t>{V, D}));
  EXPECT_EQ(shapeOf(st, "model.norm.weight"), (SmallVector<int64_t>{D}));
  for (int64_t l = 0; l < 4; ++l)
    for (const char *s : kSuffixes) {
      EXPECT_EQ(shapeOf(st, L(l, s)), layerShape(s, D, F)) << L(l, s);
      EXPECT_EQ(shapeOf(st, "optim.m." + L(l, s)), layerShape(s, D, F));
      EXPECT_EQ(shapeOf(st, "optim.v." + L(l, s)), layerShape(s, D, F));
    }
  EXPECT_FALSE(st.contains(L(4, "input_layernorm.weight")));
  // Exactly the large model's parameters and their two moments.
  EXPECT_EQ(st.all().size(), 3u * (3 + 4 * 9));
  EXPECT_EQ(ex.large.grad->getAttrOfType<ArrayAttr>("tele.params").size(),
            size_t(3 + 4 * 9));
}

/// Expects the top-left `small` block of `big` to be `old` bit for bit and
/// returns the new entries.
std::vector<double> expectCopiedBlock(const std::vector<double> &big,
                                      ArrayRef<int64_t> bigShape,
                                      const std::vector<double> &old,
                                      ArrayRef<int64_t> smallShape,
                                      const std::string &what) {
  std::vector<double> fresh;
  int64_t mismatches = 0;
  forEachEntry(bigShape, smallShape, [&](int64_t i, int64_t s) {
    if (s < 0)
      fresh.push_back(big[i]);
    else
      mismatches += big[i] != old[s];
  });
  EXPECT_EQ(mismatches, 0) << what << ": copied block differs from the old tensor";
  return fresh;
}

void expectNewGainsOne(const std::vector<double> &fresh, const std::string &what) {
  EXPECT_EQ(fresh.size(), size_t(D - d)) << what;
  EXPECT_TRUE(llvm::all_of(fresh, [](double x) { return x == 1.0; }))
      << what << ": new gains must be 1";
}

/// New matrix entries are N(0, init_std = 0.02): not zero, not copies.
void expectNewRandom(const std::vector<double> &fresh, const std::string &what) {
  ASSERT_FALSE(fresh.empty()) << what;
  double s = norm2(fresh) / std::sqrt(double(fresh.size()));
  EXPECT_GT(s, 0.01) << what << ": new entries' RMS";
  EXPECT_LT(s, 0.04) << what << ": new entries' RMS";
}

TEST(WorkedExample, CopiedBlocksAndLayerOrder) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  Example ex;
  ex.setUp(seed);
  ASSERT_FALSE(HasFatalFailure());
  auto &sm = ex.smallState;
  auto &lg = ex.largeState;
  auto big = [&](StringRef n) { return tensor(lg, n); };
  auto old = [&](StringRef n) { return tensor(sm, n); };

  // E[:, :64], W_lm[:, :64], final gain[:64] (new gains 1).
  expectNewRandom(expectCopiedBlock(big("model.embed_tokens.weight"), {V, D},
                                    old("model.embed_tokens.weight"), {V, d},
                                    "embedding"),
                  "embedding");
  expectNewRandom(expectCopiedBlock(big("lm_head.weight"), {V, D},
                                    old("lm_head.weight"), {V, d}, "lm_head"),
                  "lm_head");
  expectNewGainsOne(expectCopiedBlock(big("model.norm.weight"), {D},
                                      old("model.norm.weight"), {d},
                                      "final norm"),
                    "final norm");

  // Layer order [L0, L0', L1, L1']: large layer j comes from small layer j/2.
  for (int64_t j = 0; j < 4; ++j) {
    int64_t src = j / 2;
    for (const char *s : kSuffixes) {
      std::string what = L(j, s) + " from " + L(src, s);
      auto fresh = expectCopiedBlock(big(L(j, s)), layerShape(s, D, F),
                                     old(L(src, s)), layerShape(s, d, f), what);
      if (StringRef(s).ends_with("layernorm.weight"))
        expectNewGainsOne(fresh, what);
      else
        expectNewRandom(fresh, what);
    }
  }
  // The copies are copies of the widened layer, new entries included, and
  // start with zero moments, while the layer they copy keeps its own
  // (non-zero: the small model has stepped).
  for (int64_t j : {1, 3})
    for (const char *s : kSuffixes) {
      EXPECT_EQ(big(L(j, s)), big(L(j - 1, s))) << L(j, s);
      EXPECT_GT(norm2(old("optim.m." + L(j / 2, s))), 0.0) << L(j / 2, s);
      EXPECT_GT(norm2(old("optim.v." + L(j / 2, s))), 0.0) << L(j / 2, s);
      expectCopiedBlock(big("optim.m." + L(j - 1, s)), layerShape(s, D, F),
                        old("optim.m." + L(j / 2, s)), layerShape(s, d, f),
                        "first moment of " + L(j - 1, s));
      EXPECT_EQ(norm2(big("optim.m." + L(j, s))), 0.0) << L(j, s);
      EXPECT_EQ(norm2(big("optim.v." + L(j, s))), 0.0) << L(j, s);
    }
  // Negative control: the order is not [L0, L1, L0', L1'] (layer 1 of the
  // large model is not small layer 1).
  EXPECT_NE(topLeft(big(L(1, "self_attn.q_proj.weight")), {D, D}, {d, d}),
            old(L(1, "self_attn.q_proj.weight")));
  // Distinct random draws per tensor: the new entries of W_q and W_k differ.
  EXPECT_NE(big(L(0, "self_attn.q_proj.weight")).back(),
            big(L(0, "self_attn.k_proj.weight")).back());
  EXPECT_EQ(ex.masks.newLayers, (SmallVector<bool>{false, true, false, true}));
  EXPECT_EQ(maskNames(ex.masks),
            (std::vector<std::string>{kHiddenMaskName, kAttentionMaskName,
                                      kFfnMaskName, layerMaskName(1),
                                      layerMaskName(3)}));
}

/// The scale fp64 logit differences are measured against: the largest
/// |logit| of the small model (at least 1). At masks 0 the grown model adds
/// only exact zeros, but its GEMMs have longer inner dimensions, which
/// OpenBLAS may sum in another order on another CPU: agreement is to
/// rounding, not to the bit.
double logitScale(const std::vector<double> &logits) {
  double m = 1.0;
  for (double x : logits)
    m = std::max(m, std::abs(x));
  return m;
}

/// fp64: max |dlogit| at masks 0, relative to the logits' scale.
constexpr double kPreservedTolerance = 1e-12;

/// max |logit(large, masks = c) - logit(small)| / logitScale on a batch.
double maxLogitDiff(Example &ex, func::FuncOp largeEval, double c,
                    const Batch &b) {
  auto s = call(ex.small.eval, b.args<double>(), ex.smallState);
  setMasks(ex.largeState, ex.masks, c);
  auto l = call(largeEval, b.args<double>(), ex.largeState);
  if (s.size() != 2 || l.size() != 2)
    return NAN;
  return maxAbsDiff(values(l[1]), values(s[1])) / logitScale(values(s[1]));
}

TEST(WorkedExample, LogitsAtMasksZeroAndHalf) {
  uint64_t seed = freshSeed();
  TELE_SEED_TRACE(seed);
  Example ex;
  ex.setUp(seed);
  ASSERT_FALSE(HasFatalFailure());
  std::mt19937_64 rng(seed + 1);
  Batch b = randomBatch(rng, kBatch, 16, V);

  double atZero = maxLogitDiff(ex, ex.large.eval, 0.0, b);
  double atHalf = maxLogitDiff(ex, ex.large.eval, 0.5, b);
  func::FuncOp plainNorm = cloneFunction(ex.large.eval, "eval_plain_norm");
  EXPECT_EQ(stripNormMasks(plainNorm), 2 * 4 + 1);
  double plainAtZero = maxLogitDiff(ex, plainNorm, 0.0, b);
  note("worked example max |dlogit| / max |logit| at masks 0", atZero);
  note("worked example max |dlogit| / max |logit| at masks 0.5", atHalf);
  note("worked example max |dlogit| / max |logit| at masks 0, plain RMSNorm", plainAtZero);

  EXPECT_LE(atZero, kPreservedTolerance) << "max |dlogit| at masks 0";
  EXPECT_GT(atHalf, 1e-2) << "max |dlogit| at masks 0.5";
  EXPECT_GT(plainAtZero, 1e-2) << "max |dlogit| with plain RMSNorm at masks 0";

  // The same with the functions tele train evaluates: the width stage's eval
  // (width masks) on the widened model, then the depth stage's eval (depth
  // masks) on the large one.
  TrainingState<double> wide = ex.wideState;
  setMasks(wide, growthMasksFor(growthOps(*ex.plan)[0]), 0.0);
  auto s = call(ex.small.eval, b.args<double>(), ex.smallState);
  auto w = call(ex.width.eval, b.args<double>(), wide);
  ASSERT_EQ(s.size(), 2u);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_LE(maxAbsDiff(values(w[1]), values(s[1])) / logitScale(values(s[1])),
            kPreservedTolerance)
      << "width stage eval";
}

} // namespace
