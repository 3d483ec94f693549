//===- GrowthOptionsTest.cpp - every growth option, executed --------------===//
//
// This file runs each option of tele.grow.width and tele.grow.depth on the CPU
// executor and compares the result with a value computed by hand in the test:
//  - moment_init (zero | mean), width and depth: the parameter map run on a
//    state whose second moments are 1, 2, ..., n per tensor, so the mean a new
//    entry must get is (n + 1) / 2 (a sum of small integers: exact);
//  - init_std: new matrix entries have RMS init_std;
//  - schedule (joint | sequential) and transition_steps: the mask values at
//    chosen steps, c(t) = clamp((t - start) / T, 0, 1);
//  - metric (euclidean | cosine): tele.stream_distance on two vectors whose
//    distances are known; select (smallest | largest) is in GrowthTest.
// The emitted IR of these options is FileChecked elsewhere; these tests make
// sure the executed values are right too.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"
#include "tele/Train/Growth.h"

#include <cmath>
#include <map>

using namespace teletest;

namespace {

constexpr int64_t kBatch = 2;

#define STAGE_CFG "<steps = 4, batch = 2, lr_matrix = 1.0e-2, lr_vector = 1.0e-2>"

/// small -> wide (hidden, heads and FFN) -> deep (layer 1 copied), with the
/// options given by WIDTH_OPTS / DEPTH_OPTS.
std::string planWith(const std::string &widthOpts, const std::string &depthOpts) {
  return std::string(R"mlir(
tele.model @small <vocab = 7, hidden = 4, heads = 1, head_dim = 4, ffn = 6, layers = 2, seq_len = 3>
tele.model @wide <vocab = 7, hidden = 8, heads = 2, head_dim = 4, ffn = 10, layers = 2, seq_len = 3>
tele.model @deep <vocab = 7, hidden = 8, heads = 2, head_dim = 4, ffn = 10, layers = 3, seq_len = 3>
tele.plan @p {
  tele.stage @s0 on @small )mlir") +
         STAGE_CFG + "\n  tele.grow.width @small -> @wide {" + widthOpts +
         "}\n  tele.stage @s1 on @wide " STAGE_CFG
         "\n  tele.grow.depth @wide -> @deep {" +
         depthOpts + ", copy_layers = array<i64: 1>}\n  tele.stage @s2 on @deep " +
         STAGE_CFG + "\n}\n";
}

/// The small model's state with moments m = -(1..n) and v = 1..n per tensor,
/// grown through both parameter maps; the intermediate (wide) state is kept.
struct GrownStates {
  std::unique_ptr<MLIRContext> ctx = makeContext();
  OwningOpRef<ModuleOp> plan;
  SmallVector<Operation *> grows;
  TrainingState<double> small, wide, deep;

  void setUp(const std::string &text) {
    plan = parseModule(ctx.get(), text);
    ASSERT_TRUE(plan) << text;
    grows = growthOps(*plan);
    ASSERT_EQ(grows.size(), 2u);
    auto f64 = Float64Type::get(ctx.get());
    StageCompileOptions options{kBatch, f64, 7, 1.0};
    auto s = compileStage(*plan, findStage(*plan, "s0"), StagePhase::Steady,
                          options);
    auto w = compileStage(*plan, findStage(*plan, "s1"),
                          StagePhase::Transition, options);
    auto d = compileStage(*plan, findStage(*plan, "s2"),
                          StagePhase::Transition, options);
    ASSERT_TRUE(succeeded(s) && succeeded(w) && succeeded(d));
    ASSERT_EQ(w->paramMaps.size(), 1u);
    ASSERT_EQ(d->paramMaps.size(), 1u);
    if (auto err = exec::initializeState<double>(s->step, small, 7, 0.2))
      FAIL() << llvm::toString(std::move(err));
    std::vector<std::string> names;
    for (auto &[name, e] : small.all())
      if (StringRef(name).starts_with("optim.v."))
        names.push_back(StringRef(name).drop_front(strlen("optim.v.")).str());
    ASSERT_FALSE(names.empty());
    for (const std::string &name : names) {
      SmallVector<int64_t> shape = shapeOf(small, name);
      size_t n = tensor(small, name).size();
      std::vector<double> m(n), v(n);
      for (size_t i = 0; i < n; ++i) {
        m[i] = -double(i + 1);
        v[i] = double(i + 1);
      }
      putTensor(small, "optim.m." + name, shape, m);
      putTensor(small, "optim.v." + name, shape, v);
    }
    wide = small;
    ASSERT_TRUE(callOk<double>(w->paramMaps.front(), {}, wide));
    deep = wide;
    ASSERT_TRUE(callOk<double>(d->paramMaps.front(), {}, deep));
  }
};

/// Per small-model parameter: its moments' new entries after width growth
/// must be m = 0 and v = `newV(n)`, the old block copied.
void expectWidthMoments(const GrownStates &g,
                        const std::function<double(size_t)> &newV) {
  int64_t checkedNew = 0;
  for (auto &[name, e] : g.small.all()) {
    if (!g.small.contains("optim.v." + name))
      continue; // not a parameter
    SmallVector<int64_t> smallShape = e.shape, bigShape = shapeOf(g.wide, name);
    ASSERT_EQ(smallShape.size(), bigShape.size()) << name;
    std::vector<double> m = tensor(g.wide, "optim.m." + name),
                        v = tensor(g.wide, "optim.v." + name);
    size_t n = e.data->size();
    forEachEntry(bigShape, smallShape, [&](int64_t f, int64_t s) {
      if (s >= 0) {
        EXPECT_EQ(m[f], -double(s + 1)) << name << " old first moment";
        EXPECT_EQ(v[f], double(s + 1)) << name << " old second moment";
      } else {
        ++checkedNew;
        EXPECT_EQ(m[f], 0.0) << name << " new first moment";
        EXPECT_DOUBLE_EQ(v[f], newV(n)) << name << " new second moment (n = "
                                        << n << ")";
      }
    });
  }
  EXPECT_GT(checkedNew, 100) << "too few new entries to check";
}

/// The depth copy of layer 1 (grown layer 2): m = 0, v = `copyV(n)` where n
/// is the small model's size of the tensor; the original layers keep theirs.
void expectDepthMoments(const GrownStates &g,
                        const std::function<double(size_t)> &copyV) {
  int64_t checked = 0;
  for (auto &[name, e] : g.small.all()) {
    StringRef rest = name;
    if (!rest.consume_front("model.layers.1."))
      continue;
    std::string copy = layerParamName(2, rest), orig = layerParamName(1, rest);
    size_t n = e.data->size();
    EXPECT_EQ(tensor(g.deep, copy), tensor(g.deep, orig)) << copy << " weights";
    EXPECT_EQ(tensor(g.deep, "optim.v." + orig), tensor(g.wide, "optim.v." + orig))
        << orig << " keeps its second moment";
    for (double x : tensor(g.deep, "optim.m." + copy))
      EXPECT_EQ(x, 0.0) << copy << " first moment";
    for (double x : tensor(g.deep, "optim.v." + copy)) {
      EXPECT_DOUBLE_EQ(x, copyV(n)) << copy << " second moment (n = " << n << ")";
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

TEST(GrowthOptions, MomentInitMeanWidthAndDepth) {
  GrownStates g;
  g.setUp(planWith("transition_steps = 4, moment_init = #tele.moment_init<mean>",
                   "transition_steps = 2, moment_init = #tele.moment_init<mean>"));
  ASSERT_FALSE(HasFatalFailure());
  // The mean of 1..n is (n + 1) / 2. Width growth fills new entries with it,
  // which keeps the widened tensor's mean at (n + 1) / 2, so the depth copy
  // of a widened layer gets the same value.
  auto mean = [](size_t n) { return (double(n) + 1.0) / 2.0; };
  expectWidthMoments(g, mean);
  expectDepthMoments(g, mean);
}

TEST(GrowthOptions, MomentInitZeroWidthAndDepth) {
  GrownStates g;
  g.setUp(planWith("transition_steps = 4, moment_init = #tele.moment_init<zero>",
                   "transition_steps = 2"));
  ASSERT_FALSE(HasFatalFailure());
  auto zero = [](size_t) { return 0.0; };
  expectWidthMoments(g, zero);
  expectDepthMoments(g, zero);
}

/// RMS of the new entries of every weight matrix after width growth.
double newMatrixEntriesRms(const GrownStates &g, int64_t *count) {
  double sum = 0;
  *count = 0;
  for (auto &[name, e] : g.small.all()) {
    if (!g.small.contains("optim.v." + name) || e.shape.size() != 2)
      continue;
    std::vector<double> big = tensor(g.wide, name);
    forEachEntry(shapeOf(g.wide, name), e.shape, [&](int64_t f, int64_t s) {
      if (s < 0) {
        sum += big[f] * big[f];
        ++*count;
      }
    });
  }
  return std::sqrt(sum / double(std::max<int64_t>(*count, 1)));
}

TEST(GrowthOptions, InitStdIsTheRmsOfNewEntries) {
  for (double std : {0.5, 0.02}) {
    GrownStates g;
    g.setUp(planWith("transition_steps = 4, init_std = " + std::to_string(std),
                     "transition_steps = 2"));
    ASSERT_FALSE(HasFatalFailure());
    int64_t count = 0;
    double rms = newMatrixEntriesRms(g, &count);
    // ~700 draws: the sample RMS is within 10% of std with overwhelming
    // probability (its relative standard error is 1/sqrt(2 * 700) ~ 2.7%).
    ASSERT_GT(count, 500);
    EXPECT_NEAR(rms, std, 0.1 * std) << "init_std " << std << ", " << count
                                     << " new entries";
  }
}

TEST(GrowthOptions, ScheduleAndTransitionSteps) {
  auto ctx = makeContext();
  auto masksAt = [&](const std::string &widthOpts, int64_t grow, int64_t t) {
    auto plan = parseModule(ctx.get(), planWith(widthOpts, "transition_steps = 2"));
    EXPECT_TRUE(plan);
    return growthMaskValues(growthOps(*plan)[grow], t);
  };
  using M = std::map<std::string, double>;
  // Joint: FFN, hidden and attention ramp together over 4 steps.
  for (auto [t, c] : {std::pair<int64_t, double>{0, 0}, {1, 0.25}, {2, 0.5},
                      {4, 1}, {9, 1}})
    EXPECT_EQ(masksAt("transition_steps = 4", 0, t),
              (M{{kFfnMaskName, c}, {kHiddenMaskName, c}, {kAttentionMaskName, c}}))
        << "joint, t = " << t;
  // Sequential: FFN over steps 0..4, then hidden and attention over 4..8.
  std::string seq = "transition_steps = 4, schedule = #tele.schedule<sequential>";
  EXPECT_EQ(masksAt(seq, 0, 2), (M{{kFfnMaskName, 0.5}, {kHiddenMaskName, 0},
                                   {kAttentionMaskName, 0}}));
  EXPECT_EQ(masksAt(seq, 0, 4), (M{{kFfnMaskName, 1}, {kHiddenMaskName, 0},
                                   {kAttentionMaskName, 0}}));
  EXPECT_EQ(masksAt(seq, 0, 7), (M{{kFfnMaskName, 1}, {kHiddenMaskName, 0.75},
                                   {kAttentionMaskName, 0.75}}));
  EXPECT_EQ(masksAt(seq, 0, 8), (M{{kFfnMaskName, 1}, {kHiddenMaskName, 1},
                                   {kAttentionMaskName, 1}}));
  // Depth, transition_steps = 2: the new layer 2 ramps 0, 0.5, 1.
  for (auto [t, c] : {std::pair<int64_t, double>{0, 0}, {1, 0.5}, {2, 1}})
    EXPECT_EQ(masksAt("transition_steps = 4", 1, t), (M{{layerMaskName(2), c}}))
        << "depth, t = " << t;
}

/// tele.stream_distance of two [2, 2] streams, executed.
double streamDistance(const char *metric, std::vector<double> in,
                      std::vector<double> out) {
  auto ctx = makeContext();
  std::string text = std::string(R"mlir(
func.func @d(%x: tensor<2x2xf64>, %y: tensor<2x2xf64>) -> tensor<f64> {
  %0 = tele.stream_distance %x, %y {metric = #tele.metric<)mlir") +
                     metric + R"mlir(>} : tensor<2x2xf64> -> tensor<f64>
  return %0 : tensor<f64>
})mlir";
  auto module = parseModule(ctx.get(), text);
  EXPECT_TRUE(module);
  if (!module)
    return NAN;
  TrainingState<double> st;
  auto r = call(module->lookupSymbol<func::FuncOp>("d"),
                {HostValue<double>::fromFloats({2, 2}, std::move(in)),
                 HostValue<double>::fromFloats({2, 2}, std::move(out))},
                st);
  return r.size() == 1 ? double(r[0].scalar()) : NAN;
}

TEST(GrowthOptions, DistanceMetrics) {
  // Positions (1, 0) -> (0, 2) and (3, 4) -> (3, 4): euclidean distances
  // sqrt(5) and 0, mean sqrt(5)/2; cosines 0 and 1, so 1 - mean = 0.5.
  std::vector<double> in{1, 0, 3, 4}, out{0, 2, 3, 4};
  EXPECT_NEAR(streamDistance("euclidean", in, out), std::sqrt(5.0) / 2, 1e-15);
  EXPECT_NEAR(streamDistance("cosine", in, out), 0.5, 1e-15);
}

} // namespace
