//===- runtime/tests/KernelsTest.cpp - CPU kernel forward tests -----------===//
//
// This file tests the CPU reference kernels' values: each against a naive
// double implementation written straight from its definition, the float
// instantiation against the double one, edge cases of the contracts (bad
// tokens and targets, zero masks, extreme inputs), hand-computed AdamW steps,
// and the bit-for-bit determinism that training resume depends on.
//
//===----------------------------------------------------------------------===//

#include "cpu/Kernels.h"
#include "KernelsTestUtil.h"

#include <limits>

namespace tele::cpu::test {
namespace {

//===----------------------------------------------------------------------===//
// Naive references (double, straight from the definitions)
//===----------------------------------------------------------------------===//

std::vector<double> naiveLinear(const std::vector<double> &x,
                                const std::vector<double> &w, int64_t M,
                                int64_t K, int64_t N) {
  std::vector<double> y(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k)
        y[i * N + j] += x[i * K + k] * w[j * K + k];
  return y;
}

std::vector<double> naiveRmsNorm(const std::vector<double> &x,
                                 const std::vector<double> &g,
                                 const std::vector<double> *mask, int64_t rows,
                                 int64_t D, double eps) {
  std::vector<double> y(rows * D);
  for (int64_t r = 0; r < rows; ++r) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < D; ++i) {
      double m = mask ? (*mask)[i] : 1.0;
      num += m * x[r * D + i] * x[r * D + i];
      den += m;
    }
    double rms = std::sqrt(num / den + eps);
    for (int64_t i = 0; i < D; ++i)
      y[r * D + i] = g[i] * x[r * D + i] / rms;
  }
  return y;
}

struct AttentionShape {
  int64_t B, T, H, Dh;
  int64_t size() const { return B * T * H * Dh; }
  int64_t at(int64_t b, int64_t t, int64_t h, int64_t d) const {
    return ((b * T + t) * H + h) * Dh + d;
  }
};

/// Causal softmax weights p[i][j] of one (batch, head).
std::vector<std::vector<double>> naiveProbs(const std::vector<double> &q,
                                            const std::vector<double> &k,
                                            const AttentionShape &s, int64_t b,
                                            int64_t h) {
  std::vector<std::vector<double>> p(s.T, std::vector<double>(s.T, 0.0));
  for (int64_t i = 0; i < s.T; ++i) {
    std::vector<double> sc(i + 1);
    double mx = -1e300;
    for (int64_t j = 0; j <= i; ++j) {
      double d = 0;
      for (int64_t e = 0; e < s.Dh; ++e)
        d += q[s.at(b, i, h, e)] * k[s.at(b, j, h, e)];
      sc[j] = d / std::sqrt(double(s.Dh));
      mx = std::max(mx, sc[j]);
    }
    double z = 0;
    for (int64_t j = 0; j <= i; ++j)
      z += std::exp(sc[j] - mx);
    for (int64_t j = 0; j <= i; ++j)
      p[i][j] = std::exp(sc[j] - mx) / z;
  }
  return p;
}

std::vector<double> naiveAttention(const std::vector<double> &q,
                                   const std::vector<double> &k,
                                   const std::vector<double> &v,
                                   const AttentionShape &s) {
  std::vector<double> out(s.size(), 0.0);
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h) {
      auto p = naiveProbs(q, k, s, b, h);
      for (int64_t i = 0; i < s.T; ++i)
        for (int64_t j = 0; j <= i; ++j)
          for (int64_t e = 0; e < s.Dh; ++e)
            out[s.at(b, i, h, e)] += p[i][j] * v[s.at(b, j, h, e)];
    }
  return out;
}

void naiveAttentionGrad(const std::vector<double> &q,
                        const std::vector<double> &k,
                        const std::vector<double> &v,
                        const std::vector<double> &dout,
                        const AttentionShape &s, std::vector<double> &dq,
                        std::vector<double> &dk, std::vector<double> &dv) {
  dq.assign(s.size(), 0.0);
  dk.assign(s.size(), 0.0);
  dv.assign(s.size(), 0.0);
  const double scale = 1.0 / std::sqrt(double(s.Dh));
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h) {
      auto p = naiveProbs(q, k, s, b, h);
      for (int64_t i = 0; i < s.T; ++i) {
        std::vector<double> dp(i + 1);
        double rowDot = 0;
        for (int64_t j = 0; j <= i; ++j) {
          for (int64_t e = 0; e < s.Dh; ++e) {
            dv[s.at(b, j, h, e)] += p[i][j] * dout[s.at(b, i, h, e)];
            dp[j] += dout[s.at(b, i, h, e)] * v[s.at(b, j, h, e)];
          }
          rowDot += p[i][j] * dp[j];
        }
        for (int64_t j = 0; j <= i; ++j) {
          double ds = scale * p[i][j] * (dp[j] - rowDot);
          for (int64_t e = 0; e < s.Dh; ++e) {
            dq[s.at(b, i, h, e)] += ds * k[s.at(b, j, h, e)];
            dk[s.at(b, j, h, e)] += ds * q[s.at(b, i, h, e)];
          }
        }
      }
    }
}

double naiveCrossEntropy(const std::vector<double> &logits,
                         const std::vector<int32_t> &targets,
                         const std::vector<double> *mask, int64_t rows,
                         int64_t V) {
  double total = 0, wsum = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double w = mask ? (*mask)[r] : 1.0;
    double z = 0;
    for (int64_t j = 0; j < V; ++j)
      z += std::exp(logits[r * V + j]);
    total += w * (std::log(z) - logits[r * V + targets[r]]);
    wsum += w;
  }
  return total / wsum;
}

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

TEST(Linear, MatchesNaive) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t M = 7, K = 9, N = 5;
  auto x = rng.normal(M * K), w = rng.normal(N * K), dy = rng.normal(M * N);
  std::vector<double> y(M * N), dx(M * K), dw(N * K);
  linear(x.data(), w.data(), y.data(), M, K, N);
  EXPECT_LE(relErr(y, naiveLinear(x, w, M, K, N)), 1e-14);
  // dx = dy · w and dw = dy^T · x are themselves linear maps of the naive kind.
  std::vector<double> wT(K * N), dyT(N * M);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      wT[k * N + n] = w[n * K + k];
  std::vector<double> xT(K * M);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n)
      dyT[n * M + m] = dy[m * N + n];
    for (int64_t k = 0; k < K; ++k)
      xT[k * M + m] = x[m * K + k];
  }
  linearGradInput(dy.data(), w.data(), dx.data(), M, K, N);
  EXPECT_LE(relErr(dx, naiveLinear(dy, wT, M, N, K)), 1e-14);
  linearGradWeight(dy.data(), x.data(), dw.data(), M, K, N);
  EXPECT_LE(relErr(dw, naiveLinear(dyT, xT, N, M, K)), 1e-14);
}

TEST(Linear, EmptyInnerDimensionGivesZeros) {
  std::vector<double> y(6, 7.0);
  linear<double>(nullptr, nullptr, y.data(), 2, 0, 3);
  for (double v : y)
    EXPECT_EQ(v, 0.0);
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

TEST(Embed, CopiesRows) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t V = 6, D = 4;
  auto table = rng.normal(V * D);
  std::vector<int32_t> tokens = {5, 0, 5, 2};
  std::vector<double> out(tokens.size() * D);
  ASSERT_TRUE(embed(table.data(), tokens.data(), out.data(), 4, V, D));
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < D; ++j)
      EXPECT_EQ(out[i * D + j], table[tokens[i] * D + j]);
}

TEST(Embed, RejectsOutOfRangeWithoutWriting) {
  const int64_t V = 4, D = 2;
  std::vector<float> table(V * D, 1.0f);
  for (int32_t bad : {-1, 4, 1000}) {
    std::vector<int32_t> tokens = {0, 1, bad};
    std::vector<float> out(3 * D, -5.0f);
    EXPECT_FALSE(embed(table.data(), tokens.data(), out.data(), 3, V, D))
        << "token " << bad;
    for (float v : out)
      EXPECT_EQ(v, -5.0f) << "output written for bad token " << bad;
  }
}

TEST(Embed, GradAccumulatesRepeatedTokens) {
  const int64_t V = 3, D = 2;
  std::vector<int32_t> tokens = {2, 0, 2, 2};
  std::vector<double> dout = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<double> dtable(V * D, 99.0);
  embedGrad(dout.data(), tokens.data(), dtable.data(), 4, V, D);
  std::vector<double> want = {3, 4, 0, 0, 1 + 5 + 7, 2 + 6 + 8};
  EXPECT_EQ(dtable, want);
}

//===----------------------------------------------------------------------===//
// RMSNorm
//===----------------------------------------------------------------------===//

TEST(RmsNorm, PlainMatchesFormula) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 5, D = 8;
  auto x = rng.normal(rows * D), g = rng.normal(D, 1.0, 0.3);
  std::vector<double> y(rows * D);
  rmsNorm(x.data(), g.data(), (const double *)nullptr, y.data(), rows, D, 1e-5);
  EXPECT_LE(relErr(y, naiveRmsNorm(x, g, nullptr, rows, D, 1e-5)), 1e-14);
}

TEST(RmsNorm, MaskedMatchesFormula) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 4, D = 5;
  const std::vector<double> mask = {1, 1, 1, 0.3, 0};
  auto x = rng.normal(rows * D), g = rng.normal(D, 1.0, 0.3);
  std::vector<double> y(rows * D);
  rmsNorm(x.data(), g.data(), mask.data(), y.data(), rows, D, 1e-5);
  EXPECT_LE(relErr(y, naiveRmsNorm(x, g, &mask, rows, D, 1e-5)), 1e-14);
}

TEST(RmsNorm, AllOnesMaskEqualsPlain) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 3, D = 6;
  auto x = rng.normal(rows * D), g = rng.normal(D);
  std::vector<double> ones(D, 1.0), a(rows * D), b(rows * D);
  rmsNorm(x.data(), g.data(), ones.data(), a.data(), rows, D, 1e-5);
  rmsNorm(x.data(), g.data(), (const double *)nullptr, b.data(), rows, D, 1e-5);
  EXPECT_EQ(a, b);
}

// The growth property: with new columns masked to 0, the old columns are
// normalized exactly as in the small model, whatever the new columns hold.
TEST(RmsNorm, MaskedStatisticPreservesSmallModel) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 4, d = 6, dNew = 9;
  auto xs = rng.normal(rows * d), gs = rng.normal(d);
  auto extra = rng.normal(rows * (dNew - d), 0.0, 10.0);
  std::vector<double> xl(rows * dNew), gl(dNew, 1.0), mask(dNew, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < dNew; ++i)
      xl[r * dNew + i] =
          i < d ? xs[r * d + i] : extra[r * (dNew - d) + (i - d)];
  for (int64_t i = 0; i < d; ++i) {
    gl[i] = gs[i];
    mask[i] = 1.0;
  }
  std::vector<double> ys(rows * d), yl(rows * dNew), yPlain(rows * dNew);
  rmsNorm(xs.data(), gs.data(), (const double *)nullptr, ys.data(), rows, d,
          1e-5);
  rmsNorm(xl.data(), gl.data(), mask.data(), yl.data(), rows, dNew, 1e-5);
  rmsNorm(xl.data(), gl.data(), (const double *)nullptr, yPlain.data(), rows,
          dNew, 1e-5);
  double maxErr = 0, maxErrPlain = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < d; ++i) {
      maxErr = std::max(maxErr, std::abs(yl[r * dNew + i] - ys[r * d + i]));
      maxErrPlain =
          std::max(maxErrPlain, std::abs(yPlain[r * dNew + i] - ys[r * d + i]));
    }
  EXPECT_LE(maxErr, 1e-14);
  EXPECT_GT(maxErrPlain, 1e-3) << "plain RMSNorm should break preservation";
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

TEST(Rope, MatchesNaive) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t B = 2, T = 7, H = 3, Dh = 8;
  auto x = rng.normal(B * T * H * Dh);
  std::vector<double> y(x.size());
  for (double theta : {10000.0, 5.0}) {
    rope(x.data(), y.data(), B, T, H, Dh, theta, false);
    EXPECT_LE(relErr(y, naiveRope(x, B, T, H, Dh, theta)), 1e-14)
        << "theta " << theta;
  }
}

TEST(Rope, InverseUndoesAndPositionZeroIsIdentity) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t B = 2, T = 9, H = 2, Dh = 6;
  auto x = rng.normal(B * T * H * Dh);
  std::vector<double> y(x.size()), back(x.size());
  rope(x.data(), y.data(), B, T, H, Dh, 10000.0, false);
  rope(y.data(), back.data(), B, T, H, Dh, 10000.0, true);
  EXPECT_LE(relErr(back, x), 1e-14);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < H * Dh; ++i)
      EXPECT_EQ(y[b * T * H * Dh + i], x[b * T * H * Dh + i]);
}

TEST(Rope, InPlace) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t B = 1, T = 5, H = 2, Dh = 4;
  auto x = rng.normal(B * T * H * Dh);
  std::vector<double> y(x.size()), inPlace = x;
  rope(x.data(), y.data(), B, T, H, Dh, 100.0, false);
  rope(inPlace.data(), inPlace.data(), B, T, H, Dh, 100.0, false);
  EXPECT_EQ(inPlace, y);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

TEST(Attention, MatchesNaive) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  AttentionShape s{2, 6, 3, 4};
  auto q = rng.normal(s.size()), k = rng.normal(s.size()),
       v = rng.normal(s.size());
  std::vector<double> out(s.size());
  attention(q.data(), k.data(), v.data(), out.data(), s.B, s.T, s.H, s.Dh);
  EXPECT_LE(relErr(out, naiveAttention(q, k, v, s)), 1e-13);
}

// The log-sum-exp of each row of scaled causal scores, [B, H, T], checked
// against a direct sum.
TEST(Attention, LogSumExpMatchesDirectSum) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  AttentionShape s{2, 6, 3, 4};
  auto q = rng.normal(s.size()), k = rng.normal(s.size()),
       v = rng.normal(s.size());
  std::vector<double> out(s.size()), lse(s.B * s.H * s.T);
  attention(q.data(), k.data(), v.data(), out.data(), s.B, s.T, s.H, s.Dh, lse.data());
  EXPECT_LE(relErr(out, naiveAttention(q, k, v, s)), 1e-13);
  std::vector<double> want(lse.size());
  int64_t HD = s.H * s.Dh;
  for (int64_t b = 0; b < s.B; ++b)
    for (int64_t h = 0; h < s.H; ++h)
      for (int64_t i = 0; i < s.T; ++i) {
        double sum = 0;
        for (int64_t j = 0; j <= i; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < s.Dh; ++d)
            dot += q[(b * s.T + i) * HD + h * s.Dh + d] * k[(b * s.T + j) * HD + h * s.Dh + d];
          sum += std::exp(dot / std::sqrt(double(s.Dh)));
        }
        want[(b * s.H + h) * s.T + i] = std::log(sum);
      }
  EXPECT_LE(relErr(lse, want), 1e-13);
}

TEST(Attention, GradMatchesNaive) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  AttentionShape s{2, 6, 3, 4};
  auto q = rng.normal(s.size()), k = rng.normal(s.size()),
       v = rng.normal(s.size()), dout = rng.normal(s.size());
  std::vector<double> dq(s.size()), dk(s.size()), dv(s.size());
  attentionGrad(q.data(), k.data(), v.data(), dout.data(), dq.data(), dk.data(),
                dv.data(), s.B, s.T, s.H, s.Dh);
  std::vector<double> rq, rk, rv;
  naiveAttentionGrad(q, k, v, dout, s, rq, rk, rv);
  EXPECT_LE(relErr(dq, rq), 1e-13);
  EXPECT_LE(relErr(dk, rk), 1e-13);
  EXPECT_LE(relErr(dv, rv), 1e-13);
}

// A long sequence (T x T scratch of 1.2M scores per worker).
TEST(Attention, LongSequence) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  AttentionShape s{1, 1100, 4, 8};
  auto q = rng.normal(s.size()), k = rng.normal(s.size()),
       v = rng.normal(s.size()), dout = rng.normal(s.size());
  std::vector<double> out(s.size()), dq(s.size()), dk(s.size()), dv(s.size());
  attention(q.data(), k.data(), v.data(), out.data(), s.B, s.T, s.H, s.Dh);
  EXPECT_LE(relErr(out, naiveAttention(q, k, v, s)), 1e-12);
  attentionGrad(q.data(), k.data(), v.data(), dout.data(), dq.data(), dk.data(),
                dv.data(), s.B, s.T, s.H, s.Dh);
  std::vector<double> rq, rk, rv;
  naiveAttentionGrad(q, k, v, dout, s, rq, rk, rv);
  EXPECT_LE(relErr(dq, rq), 1e-12);
  EXPECT_LE(relErr(dk, rk), 1e-12);
  EXPECT_LE(relErr(dv, rv), 1e-12);
}

TEST(Attention, IsCausal) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  AttentionShape s{1, 8, 2, 4};
  auto q = rng.normal(s.size()), k = rng.normal(s.size()),
       v = rng.normal(s.size());
  std::vector<double> a(s.size()), b(s.size());
  attention(q.data(), k.data(), v.data(), a.data(), s.B, s.T, s.H, s.Dh);
  // Change everything at positions >= 5: outputs at 0..4 must not move.
  for (int64_t t = 5; t < s.T; ++t)
    for (int64_t i = 0; i < s.H * s.Dh; ++i) {
      q[t * s.H * s.Dh + i] += 3.0;
      k[t * s.H * s.Dh + i] -= 2.0;
      v[t * s.H * s.Dh + i] *= -4.0;
    }
  attention(q.data(), k.data(), v.data(), b.data(), s.B, s.T, s.H, s.Dh);
  for (int64_t i = 0; i < 5 * s.H * s.Dh; ++i)
    EXPECT_EQ(a[i], b[i]) << "element " << i;
  // First position attends only to itself: output equals v.
  for (int64_t i = 0; i < s.H * s.Dh; ++i)
    EXPECT_NEAR(a[i], v[i], 1e-15);
}

//===----------------------------------------------------------------------===//
// SwiGLU
//===----------------------------------------------------------------------===//

TEST(Swiglu, MatchesFormulaAndStaysFinite) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto g = rng.normal(50, 0.0, 3.0), u = rng.normal(50);
  g[0] = -1000.0;
  g[1] = 1000.0;
  g[2] = 0.0;
  std::vector<double> y(50), dg(50), du(50), dy(50, 1.0);
  swiglu(g.data(), u.data(), y.data(), 50);
  swigluGrad(g.data(), u.data(), dy.data(), dg.data(), du.data(), 50);
  for (int i = 0; i < 50; ++i) {
    double want = g[i] / (1.0 + std::exp(-g[i])) * u[i];
    EXPECT_NEAR(y[i], want, 1e-14 * (1 + std::abs(want)));
    EXPECT_TRUE(std::isfinite(dg[i]) && std::isfinite(du[i]));
  }
  EXPECT_EQ(y[0], 0.0);
  EXPECT_EQ(y[1], 1000.0 * u[1]);
  EXPECT_EQ(y[2], 0.0);
}

//===----------------------------------------------------------------------===//
// Cross-entropy
//===----------------------------------------------------------------------===//

TEST(CrossEntropy, MatchesNaive) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 9, V = 11;
  auto logits = rng.normal(rows * V, 0.0, 2.0);
  auto targets = rng.tokens(rows, V);
  std::vector<double> mask = rng.uniform(rows, 0.0, 1.0);
  mask[3] = 0.0;
  double got = crossEntropy(logits.data(), targets.data(),
                            (const double *)nullptr, rows, V);
  EXPECT_NEAR(got, naiveCrossEntropy(logits, targets, nullptr, rows, V), 1e-13);
  double gotMasked =
      crossEntropy(logits.data(), targets.data(), mask.data(), rows, V);
  EXPECT_NEAR(gotMasked, naiveCrossEntropy(logits, targets, &mask, rows, V),
              1e-13);
}

TEST(CrossEntropy, UniformLogitsGiveLogV) {
  const int64_t rows = 3, V = 260;
  std::vector<float> logits(rows * V, 0.25f);
  std::vector<int32_t> targets = {0, 259, 17};
  EXPECT_NEAR(crossEntropy(logits.data(), targets.data(),
                           (const float *)nullptr, rows, V),
              std::log(260.0), 1e-6);
}

TEST(CrossEntropy, LargeLogitsStable) {
  const int64_t rows = 2, V = 3;
  std::vector<float> logits = {1e4f, -1e4f, 0.f, 3e4f, 3e4f, 3e4f};
  std::vector<int32_t> targets = {0, 2};
  float loss = crossEntropy(logits.data(), targets.data(),
                            (const float *)nullptr, rows, V);
  EXPECT_NEAR(loss, std::log(3.0) / 2, 1e-6);
  std::vector<float> d(rows * V);
  crossEntropyGrad(logits.data(), targets.data(), (const float *)nullptr, 1.0f,
                   d.data(), rows, V);
  for (float x : d)
    EXPECT_TRUE(std::isfinite(x));
}

TEST(CrossEntropy, ZeroWeightGivesZero) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 4, V = 5;
  auto logits = rng.normal(rows * V);
  auto targets = rng.tokens(rows, V);
  std::vector<double> mask(rows, 0.0), d(rows * V, 7.0);
  EXPECT_EQ(crossEntropy(logits.data(), targets.data(), mask.data(), rows, V),
            0.0);
  crossEntropyGrad(logits.data(), targets.data(), mask.data(), 1.0, d.data(),
                   rows, V);
  for (double x : d)
    EXPECT_EQ(x, 0.0);
}

// A masked-out row contributes nothing even if its logits are -inf (padding).
TEST(CrossEntropy, MaskedRowIgnoredEvenIfInfinite) {
  const int64_t rows = 2, V = 3;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> logits = {1, 2, 3, -inf, -inf, -inf};
  std::vector<int32_t> targets = {2, 1};
  std::vector<double> mask = {1, 0};
  double loss =
      crossEntropy(logits.data(), targets.data(), mask.data(), rows, V);
  double want = std::log(std::exp(1) + std::exp(2) + std::exp(3)) - 3;
  EXPECT_NEAR(loss, want, 1e-14);
}

TEST(CrossEntropy, OutOfRangeTargetIsNaN) {
  const int64_t rows = 2, V = 3;
  std::vector<float> logits(rows * V, 0.f), d(rows * V, 0.f);
  for (int32_t bad : {-1, 3}) {
    std::vector<int32_t> targets = {0, bad};
    EXPECT_TRUE(std::isnan(crossEntropy(logits.data(), targets.data(),
                                        (const float *)nullptr, rows, V)));
    crossEntropyGrad(logits.data(), targets.data(), (const float *)nullptr,
                     1.0f, d.data(), rows, V);
    EXPECT_TRUE(std::isnan(d[0]));
  }
}

//===----------------------------------------------------------------------===//
// Reductions and AdamW
//===----------------------------------------------------------------------===//

TEST(SumSquares, MatchesNaive) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto x = rng.normal(1000);
  double want = 0;
  for (double v : x)
    want += v * v;
  EXPECT_NEAR(sumSquares(x.data(), 1000), want, 1e-13 * want);
  auto xf = cast<float>(x);
  EXPECT_NEAR(sumSquares(xf.data(), 1000), want, 1e-5 * want);
}

// Two steps worked by hand (python, float64) from p = 1, g = 0.5 then
// g = -0.2 with gradScale 0.5; lr 0.1, wd 0.1, betas (0.9, 0.999), eps 1e-8.
//   step 1: p = 0.99 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.890000002
//   step 2: m = 0.035, v = 0.00025975, p = 0.8299973956793237
TEST(AdamW, HandComputedSteps) {
  double p = 1.0, g = 0.5, m = 0.0, v = 0.0;
  adamw(&p, &g, &m, &v, 1, 0.1, 0.9, 0.999, 1e-8, 0.1, 1, 1.0);
  EXPECT_NEAR(p, 0.890000002, 1e-15);
  EXPECT_NEAR(m, 0.05, 1e-15);
  EXPECT_NEAR(v, 0.00025, 1e-17);
  g = -0.2;
  adamw(&p, &g, &m, &v, 1, 0.1, 0.9, 0.999, 1e-8, 0.1, 2, 0.5);
  EXPECT_NEAR(p, 0.8299973956793237, 1e-15);
  EXPECT_NEAR(m, 0.035, 1e-15);
  EXPECT_NEAR(v, 0.00025975, 1e-17);

  float pf = 1.0f, gf = 0.5f, mf = 0.0f, vf = 0.0f;
  adamw(&pf, &gf, &mf, &vf, 1, 0.1, 0.9, 0.999, 1e-8, 0.1, 1, 1.0);
  EXPECT_NEAR(pf, 0.890000002, 1e-7);
}

// PyTorch's formulation (step_size = lr/bc1, denom = sqrt(v)/sqrt(bc2) + eps)
// agrees with ours to rounding over many elements and steps.
TEST(AdamW, MatchesTorchFormulation) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t n = 100;
  const double lr = 3e-3, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
  auto p = rng.normal(n);
  std::vector<double> m(n, 0.0), v(n, 0.0), rp = p, rm = m, rv = v;
  for (int64_t step = 1; step <= 5; ++step) {
    auto g = rng.normal(n);
    const double gs = 0.7;
    adamw(p.data(), g.data(), m.data(), v.data(), n, lr, b1, b2, eps, wd, step,
          gs);
    const double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
    for (int64_t i = 0; i < n; ++i) {
      rp[i] *= 1 - lr * wd;
      double gi = g[i] * gs;
      rm[i] = b1 * rm[i] + (1 - b1) * gi;
      rv[i] = b2 * rv[i] + (1 - b2) * gi * gi;
      rp[i] -= (lr / bc1) * rm[i] / (std::sqrt(rv[i]) / std::sqrt(bc2) + eps);
    }
  }
  EXPECT_LE(relErr(p, rp), 1e-14);
  EXPECT_LE(relErr(m, rm), 1e-14);
  EXPECT_LE(relErr(v, rv), 1e-14);
}

TEST(AdamW, ZeroGradientOnlyDecays) {
  std::vector<double> p = {2.0, -3.0}, g = {0.0, 0.0}, m = {0.0, 0.0},
                      v = {0.0, 0.0};
  adamw(p.data(), g.data(), m.data(), v.data(), 2, 0.5, 0.9, 0.999, 1e-8, 0.1,
        1, 1.0);
  EXPECT_EQ(p[0], 2.0 * 0.95);
  EXPECT_EQ(p[1], -3.0 * 0.95);
}

//===----------------------------------------------------------------------===//
// Elementwise helpers
//===----------------------------------------------------------------------===//

TEST(Elementwise, Values) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 3, D = 5, n = rows * D;
  auto a = rng.normal(n), b = rng.normal(n);
  const std::vector<double> mask = {1, 1, 1, 0.3, 0};
  std::vector<double> y(n), y2(n);
  add(a.data(), b.data(), y.data(), n);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(y[i], a[i] + b[i]);
  scale(a.data(), -2.5, y.data(), n);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(y[i], -2.5 * a[i]);
  maskMul(a.data(), mask.data(), y.data(), rows, D);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(y[i], a[i] * mask[i % D]);
  lerp(a.data(), b.data(), 0.25, y.data(), n);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(y[i], 0.75 * a[i] + 0.25 * b[i], 1e-15);
  lerpGrad(a.data(), 0.25, y.data(), y2.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(y[i], 0.75 * a[i]);
    EXPECT_EQ(y2[i], 0.25 * a[i]);
  }
}

// A grown layer at c = 0 is exactly the identity, and at c = 1 exactly the
// block's output (docs/growth.md section 7, check 1, relies on it).
TEST(Elementwise, LerpEndpointsExact) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t n = 64;
  auto x = cast<float>(rng.normal(n)), y = cast<float>(rng.normal(n, 0, 1e3));
  std::vector<float> out(n);
  lerp(x.data(), y.data(), 0.0, out.data(), n);
  EXPECT_EQ(out, x);
  lerp(x.data(), y.data(), 1.0, out.data(), n);
  EXPECT_EQ(out, y);
}

//===----------------------------------------------------------------------===//
// float agrees with double
//===----------------------------------------------------------------------===//

// Runs fn<float> and fn<double> on the same double inputs and compares every
// output relative to its norm.
constexpr double kFloatTol = 1e-5;

TEST(FloatVsDouble, LinearRmsNormRopeSwiglu) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t M = 12, K = 16, N = 10;
  auto x = rng.normal(M * K), w = rng.normal(N * K), dy = rng.normal(M * N);
  auto xf = cast<float>(x), wf = cast<float>(w), dyf = cast<float>(dy);
  std::vector<double> yd(M * N), dxd(M * K), dwd(N * K);
  std::vector<float> yf(M * N), dxf(M * K), dwf(N * K);
  linear(x.data(), w.data(), yd.data(), M, K, N);
  linear(xf.data(), wf.data(), yf.data(), M, K, N);
  EXPECT_LE(relErr(yf, yd), kFloatTol);
  linearGradInput(dy.data(), w.data(), dxd.data(), M, K, N);
  linearGradInput(dyf.data(), wf.data(), dxf.data(), M, K, N);
  EXPECT_LE(relErr(dxf, dxd), kFloatTol);
  linearGradWeight(dy.data(), x.data(), dwd.data(), M, K, N);
  linearGradWeight(dyf.data(), xf.data(), dwf.data(), M, K, N);
  EXPECT_LE(relErr(dwf, dwd), kFloatTol);

  // RMSNorm (masked) forward and backward.
  const int64_t D = K;
  std::vector<double> mask(D, 1.0);
  mask[D - 1] = 0.0;
  mask[D - 2] = 0.5;
  auto g = rng.normal(D, 1.0, 0.2), dyn = rng.normal(M * D);
  auto maskf = cast<float>(mask), gf = cast<float>(g), dynf = cast<float>(dyn);
  std::vector<double> nd(M * D), ndx(M * D), ndg(D);
  std::vector<float> nf(M * D), nfx(M * D), nfg(D);
  rmsNorm(x.data(), g.data(), mask.data(), nd.data(), M, D, 1e-5);
  rmsNorm(xf.data(), gf.data(), maskf.data(), nf.data(), M, D, 1e-5);
  EXPECT_LE(relErr(nf, nd), kFloatTol);
  rmsNormGrad(x.data(), g.data(), mask.data(), dyn.data(), ndx.data(),
              ndg.data(), M, D, 1e-5);
  rmsNormGrad(xf.data(), gf.data(), maskf.data(), dynf.data(), nfx.data(),
              nfg.data(), M, D, 1e-5);
  EXPECT_LE(relErr(nfx, ndx), kFloatTol);
  EXPECT_LE(relErr(nfg, ndg), kFloatTol);

  // RoPE on x viewed as [B=3, T=4, H=2, Dh=8].
  std::vector<double> rd(M * K);
  std::vector<float> rf(M * K);
  rope(x.data(), rd.data(), 3, 4, 2, 8, 10000.0, false);
  rope(xf.data(), rf.data(), 3, 4, 2, 8, 10000.0, false);
  EXPECT_LE(relErr(rf, rd), kFloatTol);

  // SwiGLU forward and backward on (x, dyn-sized) vectors.
  const int64_t n = M * K;
  auto u = rng.normal(n), ds = rng.normal(n);
  auto uf = cast<float>(u), dsf = cast<float>(ds);
  std::vector<double> sd(n), sgd(n), sud(n);
  std::vector<float> sf(n), sgf(n), suf(n);
  swiglu(x.data(), u.data(), sd.data(), n);
  swiglu(xf.data(), uf.data(), sf.data(), n);
  EXPECT_LE(relErr(sf, sd), kFloatTol);
  swigluGrad(x.data(), u.data(), ds.data(), sgd.data(), sud.data(), n);
  swigluGrad(xf.data(), uf.data(), dsf.data(), sgf.data(), suf.data(), n);
  EXPECT_LE(relErr(sgf, sgd), kFloatTol);
  EXPECT_LE(relErr(suf, sud), kFloatTol);
}

TEST(FloatVsDouble, AttentionAndCrossEntropy) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  AttentionShape s{2, 16, 2, 8};
  auto q = rng.normal(s.size()), k = rng.normal(s.size()),
       v = rng.normal(s.size()), dout = rng.normal(s.size());
  auto qf = cast<float>(q), kf = cast<float>(k), vf = cast<float>(v),
       doutf = cast<float>(dout);
  std::vector<double> od(s.size()), dqd(s.size()), dkd(s.size()), dvd(s.size());
  std::vector<float> of(s.size()), dqf(s.size()), dkf(s.size()), dvf(s.size());
  attention(q.data(), k.data(), v.data(), od.data(), s.B, s.T, s.H, s.Dh);
  attention(qf.data(), kf.data(), vf.data(), of.data(), s.B, s.T, s.H, s.Dh);
  EXPECT_LE(relErr(of, od), kFloatTol);
  attentionGrad(q.data(), k.data(), v.data(), dout.data(), dqd.data(),
                dkd.data(), dvd.data(), s.B, s.T, s.H, s.Dh);
  attentionGrad(qf.data(), kf.data(), vf.data(), doutf.data(), dqf.data(),
                dkf.data(), dvf.data(), s.B, s.T, s.H, s.Dh);
  EXPECT_LE(relErr(dqf, dqd), kFloatTol);
  EXPECT_LE(relErr(dkf, dkd), kFloatTol);
  EXPECT_LE(relErr(dvf, dvd), kFloatTol);

  const int64_t rows = 8, V = 260;
  auto logits = rng.normal(rows * V, 0.0, 2.0);
  auto targets = rng.tokens(rows, V);
  auto mask = rng.uniform(rows, 0.0, 1.0);
  auto logitsf = cast<float>(logits), maskf = cast<float>(mask);
  double ld = crossEntropy(logits.data(), targets.data(), mask.data(), rows, V);
  float lf =
      crossEntropy(logitsf.data(), targets.data(), maskf.data(), rows, V);
  EXPECT_NEAR(lf, ld, kFloatTol * std::abs(ld));
  std::vector<double> gd(rows * V);
  std::vector<float> gfl(rows * V);
  crossEntropyGrad(logits.data(), targets.data(), mask.data(), 0.5, gd.data(),
                   rows, V);
  crossEntropyGrad(logitsf.data(), targets.data(), maskf.data(), 0.5f,
                   gfl.data(), rows, V);
  EXPECT_LE(relErr(gfl, gd), kFloatTol);
}

//===----------------------------------------------------------------------===//
// Determinism
//===----------------------------------------------------------------------===//

// Demo-sized float inputs (attention and cross-entropy take the threaded
// paths): repeated calls are bit-identical, and splitting the batch into
// separate calls gives the same bits as one call (no result depends on how
// work is partitioned).
TEST(Determinism, DemoShapesBitIdentical) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t B = 16, T = 128, H = 4, Dh = 32, HD = H * Dh, rows = B * T,
                V = 260;
  const int64_t n = rows * HD;
  auto q = cast<float>(rng.normal(n)), k = cast<float>(rng.normal(n)),
       v = cast<float>(rng.normal(n)), dout = cast<float>(rng.normal(n));
  auto g = cast<float>(rng.normal(HD, 1.0, 0.1));
  auto mask = cast<float>(rng.uniform(HD, 0.0, 1.0));

  auto runAll = [&](std::vector<float> &o, std::vector<float> &dq,
                    std::vector<float> &dk, std::vector<float> &dv,
                    std::vector<float> &nx, std::vector<float> &ng) {
    o.resize(n), dq.resize(n), dk.resize(n), dv.resize(n), nx.resize(n),
        ng.resize(HD);
    attention(q.data(), k.data(), v.data(), o.data(), B, T, H, Dh);
    attentionGrad(q.data(), k.data(), v.data(), dout.data(), dq.data(),
                  dk.data(), dv.data(), B, T, H, Dh);
    rmsNormGrad(q.data(), g.data(), mask.data(), dout.data(), nx.data(),
                ng.data(), rows, HD, 1e-5);
  };
  std::vector<float> o1, dq1, dk1, dv1, nx1, ng1, o2, dq2, dk2, dv2, nx2, ng2;
  runAll(o1, dq1, dk1, dv1, nx1, ng1);
  runAll(o2, dq2, dk2, dv2, nx2, ng2);
  EXPECT_EQ(o1, o2);
  EXPECT_EQ(dq1, dq2);
  EXPECT_EQ(dk1, dk2);
  EXPECT_EQ(dv1, dv2);
  EXPECT_EQ(nx1, nx2);
  EXPECT_EQ(ng1, ng2);

  // One batch element at a time.
  std::vector<float> oSplit(n), nxSplit(n), dgSplit(HD);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t off = b * T * HD;
    attention(q.data() + off, k.data() + off, v.data() + off,
              oSplit.data() + off, 1, T, H, Dh);
    rmsNormGrad(q.data() + off, g.data(), mask.data(), dout.data() + off,
                nxSplit.data() + off, dgSplit.data(), T, HD, 1e-5);
  }
  EXPECT_EQ(oSplit, o1);
  EXPECT_EQ(nxSplit, nx1);

  // Cross-entropy on demo-sized logits.
  auto logits = cast<float>(rng.normal(rows * V));
  auto targets = rng.tokens(rows, V);
  std::vector<float> d1(rows * V), d2(rows * V), dRow(rows * V);
  float l1 = crossEntropy(logits.data(), targets.data(), (const float *)nullptr,
                          rows, V);
  float l2 = crossEntropy(logits.data(), targets.data(), (const float *)nullptr,
                          rows, V);
  EXPECT_EQ(l1, l2);
  crossEntropyGrad(logits.data(), targets.data(), (const float *)nullptr, 1.0f,
                   d1.data(), rows, V);
  crossEntropyGrad(logits.data(), targets.data(), (const float *)nullptr, 1.0f,
                   d2.data(), rows, V);
  EXPECT_EQ(d1, d2);
}

} // namespace
} // namespace tele::cpu::test
