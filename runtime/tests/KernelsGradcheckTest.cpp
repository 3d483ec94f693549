//===- runtime/tests/KernelsGradcheckTest.cpp - kernel gradient checks ----===//
//
// This file checks the analytic backward of every differentiable CPU kernel
// against central finite differences in double. Each check draws fresh N(0,1)
// inputs and a random upstream gradient dy, forms the scalar objective
// sum(dy * f(x)) and compares the kernel's gradient with the numerical one:
// relative error <= 1e-6 at step 1e-5 (in practice ~1e-9). The last tests show
// that the check has teeth: wrong gradients are rejected by a wide margin.
//
//===----------------------------------------------------------------------===//

#include "KernelsTestUtil.h"
#include "cpu/Kernels.h"

namespace tele::cpu::test {
namespace {

constexpr double kTol = 1e-6;
constexpr double kStep = 1e-5;

// Small shapes keep the O(n) objective evaluations of finite differences fast.
constexpr int64_t kB = 2, kT = 5, kH = 2, kDh = 4;
constexpr int64_t kHD = kH * kDh, kRows = kB * kT;

/// A growth mask (docs/growth.md section 2): old width on, a ramping and a
/// masked new column.
const std::vector<double> kMask5 = {1, 1, 1, 0.3, 0};

/// Checks `analytic` against the FD gradient of objective() wrt x.
void expectGradMatches(const char *what, std::vector<double> &x,
                       const std::function<double()> &objective,
                       const std::vector<double> &analytic) {
  std::vector<double> numeric = fdGrad(x, objective, kStep);
  double err = relErr(analytic, numeric);
  EXPECT_LE(err, kTol) << what << ": analytic vs finite-difference gradient, "
                       << "||fd|| = " << norm(numeric);
}

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

TEST(Linear, GradInputAndWeight) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t M = 6, K = 4, N = 5;
  auto x = rng.normal(M * K), w = rng.normal(N * K), dy = rng.normal(M * N);
  auto objective = [&] {
    std::vector<double> y(M * N);
    linear(x.data(), w.data(), y.data(), M, K, N);
    return dot(dy, y);
  };
  std::vector<double> dx(M * K), dw(N * K);
  linearGradInput(dy.data(), w.data(), dx.data(), M, K, N);
  linearGradWeight(dy.data(), x.data(), dw.data(), M, K, N);
  expectGradMatches("linear dx", x, objective, dx);
  expectGradMatches("linear dw", w, objective, dw);
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

TEST(Embed, GradTable) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t V = 7, D = 3;
  // Repeated tokens exercise the scatter-add; token 2 never occurs.
  const std::vector<int32_t> tokens = {1, 3, 1, 6, 0, 1, 5, 4, 3};
  const int64_t n = int64_t(tokens.size());
  auto table = rng.normal(V * D), dy = rng.normal(n * D);
  auto objective = [&] {
    std::vector<double> out(n * D);
    EXPECT_TRUE(embed(table.data(), tokens.data(), out.data(), n, V, D));
    return dot(dy, out);
  };
  std::vector<double> dtable(V * D, 123.0); // must be overwritten
  embedGrad(dy.data(), tokens.data(), dtable.data(), n, V, D);
  expectGradMatches("embed dtable", table, objective, dtable);
}

//===----------------------------------------------------------------------===//
// RMSNorm
//===----------------------------------------------------------------------===//

void checkRmsNorm(bool masked, bool wrtGain) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 4, D = 5;
  const double eps = 1e-5;
  const double *mask = masked ? kMask5.data() : nullptr;
  auto x = rng.normal(rows * D), gain = rng.normal(D, 1.0, 0.5),
       dy = rng.normal(rows * D);
  auto objective = [&] {
    std::vector<double> y(rows * D);
    rmsNorm(x.data(), gain.data(), mask, y.data(), rows, D, eps);
    return dot(dy, y);
  };
  std::vector<double> dx(rows * D), dgain(D, 123.0);
  rmsNormGrad(x.data(), gain.data(), mask, dy.data(), dx.data(), dgain.data(),
              rows, D, eps);
  if (wrtGain)
    expectGradMatches("rmsNorm dgain", gain, objective, dgain);
  else
    expectGradMatches("rmsNorm dx", x, objective, dx);
}

TEST(RmsNorm, GradX) { checkRmsNorm(/*masked=*/false, /*wrtGain=*/false); }
TEST(RmsNorm, GradGain) { checkRmsNorm(/*masked=*/false, /*wrtGain=*/true); }
TEST(RmsNorm, MaskedGradX) { checkRmsNorm(/*masked=*/true, /*wrtGain=*/false); }
TEST(RmsNorm, MaskedGradGain) {
  checkRmsNorm(/*masked=*/true, /*wrtGain=*/true);
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

void checkRope(double theta) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto x = rng.normal(kRows * kHD), dy = rng.normal(kRows * kHD);
  // Finite differences of RoPE as defined (naiveRope), not of the kernel: a
  // wrong angle shared by the kernel's forward and inverse rotation would
  // still make the inverse the exact gradient of the kernel's own forward.
  auto objective = [&] { return dot(dy, naiveRope(x, kB, kT, kH, kDh, theta)); };
  // The backward the compiled model runs: the inverse rotation of dy.
  std::vector<double> dx(kRows * kHD);
  rope(dy.data(), dx.data(), kB, kT, kH, kDh, theta, /*inverse=*/true);
  expectGradMatches("rope dx", x, objective, dx);
}

TEST(Rope, Grad) { checkRope(10000.0); }
// A small theta makes every frequency rotate by large angles.
TEST(Rope, GradSmallTheta) { checkRope(3.0); }

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

TEST(Attention, GradQKV) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t n = kRows * kHD;
  auto q = rng.normal(n), k = rng.normal(n), v = rng.normal(n),
       dy = rng.normal(n);
  auto objective = [&] {
    std::vector<double> out(n);
    attention(q.data(), k.data(), v.data(), out.data(), kB, kT, kH, kDh);
    return dot(dy, out);
  };
  std::vector<double> dq(n), dk(n), dv(n);
  attentionGrad(q.data(), k.data(), v.data(), dy.data(), dq.data(), dk.data(),
                dv.data(), kB, kT, kH, kDh);
  expectGradMatches("attention dq", q, objective, dq);
  expectGradMatches("attention dk", k, objective, dk);
  expectGradMatches("attention dv", v, objective, dv);
}

// Larger scores (peaked softmax) stress the row statistic of the backward.
TEST(Attention, GradQKVPeaked) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t n = kRows * kHD;
  auto q = rng.normal(n, 0.0, 3.0), k = rng.normal(n, 0.0, 3.0),
       v = rng.normal(n), dy = rng.normal(n);
  auto objective = [&] {
    std::vector<double> out(n);
    attention(q.data(), k.data(), v.data(), out.data(), kB, kT, kH, kDh);
    return dot(dy, out);
  };
  std::vector<double> dq(n), dk(n), dv(n);
  attentionGrad(q.data(), k.data(), v.data(), dy.data(), dq.data(), dk.data(),
                dv.data(), kB, kT, kH, kDh);
  expectGradMatches("attention dq", q, objective, dq);
  expectGradMatches("attention dk", k, objective, dk);
  expectGradMatches("attention dv", v, objective, dv);
}

//===----------------------------------------------------------------------===//
// SwiGLU
//===----------------------------------------------------------------------===//

TEST(Swiglu, GradGateAndUp) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t n = 24;
  auto g = rng.normal(n, 0.0, 2.0), u = rng.normal(n), dy = rng.normal(n);
  auto objective = [&] {
    std::vector<double> y(n);
    swiglu(g.data(), u.data(), y.data(), n);
    return dot(dy, y);
  };
  std::vector<double> dg(n), du(n);
  swigluGrad(g.data(), u.data(), dy.data(), dg.data(), du.data(), n);
  expectGradMatches("swiglu dg", g, objective, dg);
  expectGradMatches("swiglu du", u, objective, du);
}

//===----------------------------------------------------------------------===//
// Cross-entropy
//===----------------------------------------------------------------------===//

void checkCrossEntropy(const std::vector<double> *lossMask) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 6, V = 7;
  auto logits = rng.normal(rows * V, 0.0, 2.0);
  auto targets = rng.tokens(rows, int32_t(V));
  const double dloss = rng.scalar();
  const double *mask = lossMask ? lossMask->data() : nullptr;
  auto objective = [&] {
    return dloss * crossEntropy(logits.data(), targets.data(), mask, rows, V);
  };
  std::vector<double> dlogits(rows * V);
  crossEntropyGrad(logits.data(), targets.data(), mask, dloss, dlogits.data(),
                   rows, V);
  expectGradMatches("crossEntropy dlogits", logits, objective, dlogits);
}

TEST(CrossEntropy, Grad) { checkCrossEntropy(nullptr); }
TEST(CrossEntropy, MaskedGrad) {
  const std::vector<double> lossMask = {1, 0, 0.5, 1, 0.25, 2};
  checkCrossEntropy(&lossMask);
}

//===----------------------------------------------------------------------===//
// Elementwise helpers
//===----------------------------------------------------------------------===//

TEST(MaskMul, Grad) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 3, D = 5;
  auto x = rng.normal(rows * D), dy = rng.normal(rows * D);
  auto objective = [&] {
    std::vector<double> y(rows * D);
    maskMul(x.data(), kMask5.data(), y.data(), rows, D);
    return dot(dy, y);
  };
  // The mask is a constant; the op is linear and self-adjoint in x.
  std::vector<double> dx(rows * D);
  maskMul(dy.data(), kMask5.data(), dx.data(), rows, D);
  expectGradMatches("maskMul dx", x, objective, dx);
}

TEST(Lerp, Grad) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t n = 17;
  const double c = 0.3;
  auto x = rng.normal(n), y = rng.normal(n), dout = rng.normal(n);
  auto objective = [&] {
    std::vector<double> out(n);
    lerp(x.data(), y.data(), c, out.data(), n);
    return dot(dout, out);
  };
  std::vector<double> dx(n), dy(n);
  lerpGrad(dout.data(), c, dx.data(), dy.data(), n);
  expectGradMatches("lerp dx", x, objective, dx);
  expectGradMatches("lerp dy", y, objective, dy);
}

TEST(Scale, Grad) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t n = 13;
  const double s = -1.7;
  auto x = rng.normal(n), dy = rng.normal(n);
  auto objective = [&] {
    std::vector<double> y(n);
    scale(x.data(), s, y.data(), n);
    return dot(dy, y);
  };
  std::vector<double> dx(n);
  scale(dy.data(), s, dx.data(), n);
  expectGradMatches("scale dx", x, objective, dx);
}

TEST(Add, Grad) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t n = 11;
  auto a = rng.normal(n), b = rng.normal(n), dy = rng.normal(n);
  auto objective = [&] {
    std::vector<double> y(n);
    add(a.data(), b.data(), y.data(), n);
    return dot(dy, y);
  };
  expectGradMatches("add da", a, objective, dy);
  expectGradMatches("add db", b, objective, dy);
}

//===----------------------------------------------------------------------===//
// The check can fail
//===----------------------------------------------------------------------===//

// Forward rope is not its own gradient (the adjoint rotates the other way):
// the check must reject it by orders of magnitude, not marginally.
TEST(CanFail, RopeForwardIsNotItsGradient) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  auto x = rng.normal(kRows * kHD), dy = rng.normal(kRows * kHD);
  auto objective = [&] {
    std::vector<double> y(kRows * kHD);
    rope(x.data(), y.data(), kB, kT, kH, kDh, 3.0, /*inverse=*/false);
    return dot(dy, y);
  };
  std::vector<double> wrong(kRows * kHD);
  rope(dy.data(), wrong.data(), kB, kT, kH, kDh, 3.0, /*inverse=*/false);
  std::vector<double> numeric = fdGrad(x, objective, kStep);
  EXPECT_GT(relErr(wrong, numeric), 1e-2);
}

// The plain-RMSNorm gradient is wrong for a masked norm (docs/growth.md
// section 7, check 2, in gradient form): the check must see the difference.
TEST(CanFail, UnmaskedRmsNormGradientRejected) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t rows = 4, D = 5;
  auto x = rng.normal(rows * D), gain = rng.normal(D, 1.0, 0.5),
       dy = rng.normal(rows * D);
  auto objective = [&] {
    std::vector<double> y(rows * D);
    rmsNorm(x.data(), gain.data(), kMask5.data(), y.data(), rows, D, 1e-5);
    return dot(dy, y);
  };
  std::vector<double> dx(rows * D), dgain(D);
  rmsNormGrad(x.data(), gain.data(), /*mask=*/(const double *)nullptr,
              dy.data(), dx.data(), dgain.data(), rows, D, 1e-5);
  std::vector<double> numeric = fdGrad(x, objective, kStep);
  EXPECT_GT(relErr(dx, numeric), 1e-2);
}

// A perturbation of a single entry by 1e-4 of the gradient's norm is caught.
TEST(CanFail, SmallPerturbationDetected) {
  Rng rng;
  SCOPED_TRACE(rng.trace());
  const int64_t n = kRows * kHD;
  auto q = rng.normal(n), k = rng.normal(n), v = rng.normal(n),
       dy = rng.normal(n);
  auto objective = [&] {
    std::vector<double> out(n);
    attention(q.data(), k.data(), v.data(), out.data(), kB, kT, kH, kDh);
    return dot(dy, out);
  };
  std::vector<double> dq(n), dk(n), dv(n);
  attentionGrad(q.data(), k.data(), v.data(), dy.data(), dq.data(), dk.data(),
                dv.data(), kB, kT, kH, kDh);
  dk[7] += 1e-4 * norm(dk);
  std::vector<double> numeric = fdGrad(k, objective, kStep);
  EXPECT_GT(relErr(dk, numeric), kTol * 10);
}

} // namespace
} // namespace tele::cpu::test
