//===- runtime/tests/KernelsTestUtil.h - kernel test helpers ----*- C++ -*-===//
//
// This file holds what the CPU kernel tests share: a seeded random source whose
// seed is reported on failure (and can be pinned with TELE_TEST_SEED to replay
// a failure), random tensors, norms and relative errors, RoPE from its
// definition (the reference of the forward and gradient checks), and a central
// finite-difference gradient of a scalar objective.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_RUNTIME_TESTS_KERNELSTESTUTIL_H
#define TELE_RUNTIME_TESTS_KERNELSTESTUTIL_H

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace tele::cpu::test {

/// Random source for one test. Fresh inputs every run catch more than a fixed
/// seed would; the seed goes into every failure message through SCOPED_TRACE
/// so that a failure can be replayed with TELE_TEST_SEED=<seed>.
class Rng {
public:
  Rng() : seed_(pickSeed()), gen_(seed_) {}

  uint64_t seed() const { return seed_; }
  std::string trace() const {
    return "seed " + std::to_string(seed_) +
           " (replay with TELE_TEST_SEED=" + std::to_string(seed_) + ")";
  }

  /// n values ~ N(mean, stddev).
  std::vector<double> normal(int64_t n, double mean = 0.0,
                             double stddev = 1.0) {
    std::normal_distribution<double> d(mean, stddev);
    std::vector<double> out(n);
    for (double &x : out)
      x = d(gen_);
    return out;
  }
  std::vector<double> uniform(int64_t n, double lo, double hi) {
    std::uniform_real_distribution<double> d(lo, hi);
    std::vector<double> out(n);
    for (double &x : out)
      x = d(gen_);
    return out;
  }
  std::vector<int32_t> tokens(int64_t n, int32_t V) {
    std::uniform_int_distribution<int32_t> d(0, V - 1);
    std::vector<int32_t> out(n);
    for (int32_t &t : out)
      t = d(gen_);
    return out;
  }
  double scalar() { return normal(1)[0]; }

private:
  static uint64_t pickSeed() {
    if (const char *env = std::getenv("TELE_TEST_SEED"))
      return std::strtoull(env, nullptr, 10);
    std::random_device rd;
    return (uint64_t(rd()) << 32) ^ uint64_t(rd());
  }

  uint64_t seed_;
  std::mt19937_64 gen_;
};

inline double dot(const std::vector<double> &a, const std::vector<double> &b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i)
    s += a[i] * b[i];
  return s;
}

template <typename A, typename B>
double diffNorm(const std::vector<A> &a, const std::vector<B> &b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = double(a[i]) - double(b[i]);
    s += d * d;
  }
  return std::sqrt(s);
}

template <typename A> double norm(const std::vector<A> &a) {
  double s = 0.0;
  for (const A &x : a)
    s += double(x) * double(x);
  return std::sqrt(s);
}

/// ||got - want|| / max(||want||, 1e-12): the error measure of every check.
template <typename A, typename B>
double relErr(const std::vector<A> &got, const std::vector<B> &want) {
  EXPECT_EQ(got.size(), want.size());
  return diffNorm(got, want) / std::max(norm(want), 1e-12);
}

template <typename T> std::vector<T> cast(const std::vector<double> &x) {
  return std::vector<T>(x.begin(), x.end());
}

/// RoPE from its definition (HF's rotate_half form), independent of the
/// kernel: the forward's reference and the gradient check's objective.
inline std::vector<double> naiveRope(const std::vector<double> &x, int64_t B,
                                     int64_t Tlen, int64_t H, int64_t Dh,
                                     double theta) {
  std::vector<double> y(x.size());
  const int64_t half = Dh / 2;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < Tlen; ++t)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < Dh; ++i) {
          int64_t base = (b * Tlen + t) * H * Dh + h * Dh;
          int64_t f = i % half;
          double angle = t * std::pow(theta, -2.0 * f / Dh);
          // rotate_half(v)[i] = -v[i+half] for i < half, v[i-half] otherwise.
          double rot = i < half ? -x[base + i + half] : x[base + i - half];
          y[base + i] = x[base + i] * std::cos(angle) + rot * std::sin(angle);
        }
  return y;
}

/// Central finite-difference gradient of objective() with respect to x, which
/// the objective reads; x is restored afterwards.
inline std::vector<double> fdGrad(std::vector<double> &x,
                                  const std::function<double()> &objective,
                                  double h = 1e-5) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double fp = objective();
    x[i] = saved - h;
    const double fm = objective();
    x[i] = saved;
    g[i] = (fp - fm) / (2.0 * h);
  }
  return g;
}

} // namespace tele::cpu::test

#endif // TELE_RUNTIME_TESTS_KERNELSTESTUTIL_H
