//===- runtime/bench/StepBench.h - synthetic training-step benchmarks -*- C++ -*-===//
//
// What `tele bench` (compiler side) and `tele-run bench` (runtime only)
// share: a fast generator for random weights and tokens, and the summary of
// step times as the PyTorch reference benchmark gives it (median ms, tokens/s,
// MFU with flops = 6 N tokens + 6 L d T tokens over 989 TFLOP/s).
//
//===----------------------------------------------------------------------===//

#ifndef TELE_RUNTIME_BENCH_STEPBENCH_H
#define TELE_RUNTIME_BENCH_STEPBENCH_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace tele::bench {

/// splitmix64: a fast, well-mixed 64-bit generator.
inline uint64_t nextRandom(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Fills `data` uniformly on [-a, a] with a = std * sqrt(3) (standard
/// deviation `std`): timings do not depend on the values, and drawing
/// billions of normals would take longer than the benchmark.
inline void fillUniform(std::vector<float> &data, double std, uint64_t &state) {
  float a = float(std * std::sqrt(3.0));
  for (float &x : data)
    x = a * (float(nextRandom(state) >> 40) * (2.0f / float(1 << 24)) - 1.0f);
}

/// `n` tokens uniform in [0, vocab).
inline std::vector<int32_t> randomTokens(size_t n, uint64_t vocab, uint64_t &state) {
  std::vector<int32_t> t(n);
  for (int32_t &x : t)
    x = int32_t(nextRandom(state) % std::max<uint64_t>(vocab, 1));
  return t;
}

/// Step times summarized like torch_ref.py, rounded as the result line
/// reports them (ms to 0.1 us, tokens/s to whole tokens, MFU to 0.01%).
struct StepSummary {
  double ms = 0, msMin = 0, tokensPerSec = 0, mfu = 0;
};

/// Rounds `x` to `digits` decimals.
inline double roundTo(double x, int digits) {
  double scale = std::pow(10.0, digits);
  return std::round(x * scale) / scale;
}

inline StepSummary summarize(std::vector<double> seconds, int64_t params, int64_t layers,
                             int64_t hidden, int64_t seqLen, int64_t batch) {
  StepSummary s;
  if (seconds.empty())
    return s;
  std::sort(seconds.begin(), seconds.end());
  s.ms = 1e3 * seconds[seconds.size() / 2];
  s.msMin = 1e3 * seconds.front();
  double tokens = double(batch * seqLen);
  double flops = 6.0 * double(params) * tokens +
                 6.0 * double(layers) * double(hidden) * double(seqLen) * tokens;
  s.tokensPerSec = std::round(tokens / (s.ms / 1e3));
  s.mfu = roundTo(flops / (s.ms / 1e3) / 989e12, 4);
  s.ms = roundTo(s.ms, 4);
  s.msMin = roundTo(s.msMin, 4);
  return s;
}

} // namespace tele::bench

#endif // TELE_RUNTIME_BENCH_STEPBENCH_H
