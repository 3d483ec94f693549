//===- runtime/tests/StepBenchTest.cpp - step-time summary tests ----------===//
//
// The summary `tele bench` and `tele-run bench` print: the median and the
// fastest step, tokens/s and MFU by the formula torch_ref.py uses, rounded
// as reported.
//
//===----------------------------------------------------------------------===//

#include "bench/StepBench.h"

#include <gtest/gtest.h>

#include <cmath>

using tele::bench::summarize;

TEST(StepBench, MedianMinimumTokensAndMfu) {
  // Median 0.2 s (odd count), fastest 0.1 s; 2 x 8 tokens a step.
  auto s = summarize({0.3, 0.1, 0.2}, /*params=*/1000, /*layers=*/2, /*hidden=*/4,
                     /*seqLen=*/8, /*batch=*/2);
  EXPECT_DOUBLE_EQ(s.ms, 200.0);
  EXPECT_DOUBLE_EQ(s.msMin, 100.0);
  EXPECT_DOUBLE_EQ(s.tokensPerSec, 80.0); // 16 tokens / 0.2 s
  // (6 * 1000 * 16 + 6 * 2 * 4 * 8 * 16) flops / 0.2 s / 989 TFLOP/s, to 1e-4.
  EXPECT_DOUBLE_EQ(s.mfu, 0.0);
}

TEST(StepBench, RoundsAsReported) {
  // 1.5B params, L24 d2048, B8 T2048: about 51% MFU at 0.31 s a step.
  auto s = summarize({0.312345678}, 1500000000, 24, 2048, 2048, 8);
  EXPECT_DOUBLE_EQ(s.ms, 312.3457);             // 0.1 us
  EXPECT_DOUBLE_EQ(s.tokensPerSec, 52455.0);    // whole tokens: 16384 / 0.312345678
  double flops = 6.0 * 1.5e9 * 16384 + 6.0 * 24 * 2048 * 2048 * 16384;
  EXPECT_DOUBLE_EQ(s.mfu, std::round(flops / 0.312345678 / 989e12 * 1e4) / 1e4);
  EXPECT_GT(s.mfu, 0.50);
  EXPECT_LT(s.mfu, 0.52);
}

TEST(StepBench, NoStepsGiveZeros) {
  auto s = summarize({}, 1, 1, 1, 1, 1);
  EXPECT_EQ(s.ms, 0.0);
  EXPECT_EQ(s.tokensPerSec, 0.0);
}
