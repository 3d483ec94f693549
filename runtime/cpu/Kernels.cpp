//===- runtime/cpu/Kernels.cpp - CPU reference kernels --------------------===//
//
// This file implements the CPU reference kernels declared in Kernels.h and
// instantiates them for float and double. Matrix products go to CBLAS; the
// remaining loops are split over a few std::threads by a static partition in
// which every output element (and every reduction) is computed by exactly one
// thread in a fixed order, so results are bit-identical for any thread count.
// That is what makes a resumed training run reproduce an uninterrupted one.
// Attention distributes whole (batch, head) pairs over the threads and keeps
// OpenBLAS on the calling thread meanwhile: its per-head GEMMs are too small
// for OpenBLAS's own threading to pay.
//
//===----------------------------------------------------------------------===//

#include "cpu/Kernels.h"

#include <cblas.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

namespace tele::cpu {
namespace {

//===----------------------------------------------------------------------===//
// Threading
//===----------------------------------------------------------------------===//

/// Number of workers for the non-BLAS loops: TELE_CPU_THREADS if set, else the
/// hardware concurrency. Read once; results never depend on it.
int workerCount() {
  static const int count = [] {
    if (const char *env = std::getenv("TELE_CPU_THREADS")) {
      int n = std::atoi(env);
      if (n >= 1)
        return std::min(n, 256);
    }
    unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(std::min(hw, 64u));
  }();
  return count;
}

/// Calls fn(begin, end) on contiguous chunks covering [0, n). A chunk is only
/// given its own thread if it has at least `grain` indices: spawning a thread
/// costs tens of microseconds, more than small loops take. Callers make each
/// index's result independent of the chunking.
template <typename F> void parallelFor(int64_t n, int64_t grain, F &&fn) {
  if (n <= 0)
    return;
  int64_t workers =
      std::min<int64_t>(workerCount(), n / std::max<int64_t>(grain, 1));
  if (workers <= 1) {
    fn(int64_t(0), n);
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  auto bound = [&](int64_t w) { return n * w / workers; };
  for (int64_t w = 1; w < workers; ++w)
    threads.emplace_back(
        [&fn, lo = bound(w), hi = bound(w + 1)] { fn(lo, hi); });
  fn(bound(0), bound(1));
  for (std::thread &t : threads)
    t.join();
}

/// Minimum elements per worker. Memory-bound loops (copies, adds, norms) gain
/// little from a second core and would compete with OpenBLAS workers still
/// spinning after a GEMM, so they split only when very large; loops that spend
/// tens of cycles per element in exp, sqrt or division split early.
constexpr int64_t kCheapGrain = int64_t(1) << 18;
constexpr int64_t kCostlyGrain = int64_t(1) << 14;

/// Grain in rows for row-wise loops whose rows hold `width` elements.
int64_t rowGrain(int64_t elementGrain, int64_t width) {
  return std::max<int64_t>(1, elementGrain / std::max<int64_t>(width, 1));
}

//===----------------------------------------------------------------------===//
// BLAS
//===----------------------------------------------------------------------===//

void gemmRaw(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K,
             const float *A, int lda, const float *B, int ldb, float *C,
             int ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C,
              ldc);
}
void gemmRaw(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K,
             const double *A, int lda, const double *B, int ldb, double *C,
             int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, 1.0, A, lda, B, ldb, 0.0, C, ldc);
}

/// C[M,N] = op(A) · op(B), row-major, C overwritten. Handles empty shapes
/// itself: BLAS rejects leading dimensions of 0, and K == 0 must give zeros.
template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, const T *A,
          int64_t lda, const T *B, int64_t ldb, T *C, int64_t ldc) {
  if (M <= 0 || N <= 0)
    return;
  if (K <= 0) {
    for (int64_t i = 0; i < M; ++i)
      std::fill(C + i * ldc, C + i * ldc + N, T(0));
    return;
  }
  // The CBLAS interface takes 32-bit sizes.
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  assert(M <= kMax && N <= kMax && K <= kMax && lda <= kMax && ldb <= kMax &&
         ldc <= kMax && "matrix too large for 32-bit CBLAS");
  (void)kMax;
  gemmRaw(transA ? CblasTrans : CblasNoTrans,
          transB ? CblasTrans : CblasNoTrans, int(M), int(N), int(K), A,
          int(std::max<int64_t>(lda, 1)), B, int(std::max<int64_t>(ldb, 1)), C,
          int(std::max<int64_t>(ldc, 1)));
}

//===----------------------------------------------------------------------===//
// Attention helpers
//===----------------------------------------------------------------------===//

/// While alive, OpenBLAS runs each call on the calling thread. Attention runs
/// its (batch, head) pairs on our own threads, each with small GEMMs: OpenBLAS
/// splitting those again costs more in synchronisation than it gains (10x
/// slower than one thread on a busy two-core machine), and its workers would
/// compete with ours. A no-op for other CBLAS implementations.
class BlasOnCallingThread {
public:
  explicit BlasOnCallingThread(bool active) {
#ifdef OPENBLAS_VERSION
    if (active && (saved_ = openblas_get_num_threads()) > 1)
      openblas_set_num_threads(1);
#else
    (void)active;
#endif
  }
  ~BlasOnCallingThread() {
#ifdef OPENBLAS_VERSION
    if (saved_ > 1)
      openblas_set_num_threads(saved_);
#endif
  }
  BlasOnCallingThread(const BlasOnCallingThread &) = delete;
  BlasOnCallingThread &operator=(const BlasOnCallingThread &) = delete;

private:
  [[maybe_unused]] int saved_ = 0;
};

/// exp evaluated in T's precision (at least float): libm's expf is about twice
/// as fast as exp, and its error (1 ulp of float) is below what a float result
/// can hold anyway. Arguments are formed and results accumulated in double.
template <typename T> inline double expAt(double x) {
  return double(std::exp(T(x)));
}

/// In place: row[0..len) holds raw scores q_i·k_j of query i; replaces
/// row[0..=i] by softmax(scale * scores) over the causal prefix and zeroes the
/// masked tail. `e` is caller scratch of at least i+1 doubles; it is left
/// holding the unrounded probabilities (the backward pass uses them).
template <typename T>
double causalSoftmaxRow(T *row, int64_t i, int64_t len, double scale, double *e) {
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j <= i; ++j)
    mx = std::max(mx, double(row[j]));
  double sum = 0.0;
  for (int64_t j = 0; j <= i; ++j) {
    e[j] = expAt<T>((double(row[j]) - mx) * scale);
    sum += e[j];
  }
  const double inv = 1.0 / sum;
  for (int64_t j = 0; j <= i; ++j) {
    e[j] *= inv;
    row[j] = T(e[j]);
  }
  std::fill(row + i + 1, row + len, T(0));
  return mx * scale + std::log(sum); // log sum_j exp(row_j * scale)
}

} // namespace

//===----------------------------------------------------------------------===//
// Linear
//===----------------------------------------------------------------------===//

template <typename T>
void linear(const T *x, const T *w, T *y, int64_t M, int64_t K, int64_t N) {
  gemm<T>(false, true, M, N, K, x, K, w, K, y, N);
}

template <typename T>
void linearGradInput(const T *dy, const T *w, T *dx, int64_t M, int64_t K,
                     int64_t N) {
  gemm<T>(false, false, M, K, N, dy, N, w, K, dx, K);
}

template <typename T>
void linearGradWeight(const T *dy, const T *x, T *dw, int64_t M, int64_t K,
                      int64_t N) {
  gemm<T>(true, false, N, K, M, dy, N, x, K, dw, K);
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

template <typename T>
bool embed(const T *table, const int32_t *tokens, T *out, int64_t n, int64_t V,
           int64_t D) {
  // Validate everything first so that a bad batch leaves `out` untouched.
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || int64_t(tokens[i]) >= V)
      return false;
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(out + i * D, table + int64_t(tokens[i]) * D, sizeof(T) * D);
  return true;
}

template <typename T>
void embedGrad(const T *dout, const int32_t *tokens, T *dtable, int64_t n,
               int64_t V, int64_t D) {
  std::fill(dtable, dtable + V * D, T(0));
  // Sequential scatter in token order: repeated tokens sum in a fixed order.
  for (int64_t i = 0; i < n; ++i) {
    int64_t t = tokens[i];
    if (t < 0 || t >= V)
      continue;
    T *dst = dtable + t * D;
    const T *src = dout + i * D;
    for (int64_t j = 0; j < D; ++j)
      dst[j] += src[j];
  }
}

//===----------------------------------------------------------------------===//
// Masked RMSNorm
//===----------------------------------------------------------------------===//

namespace {
/// sum_i w_i in index order, or n without weights: the denominator of the
/// masked mean square (RMSNorm) and of the weighted mean loss.
template <typename T> double weightSum(const T *weights, int64_t n) {
  if (!weights)
    return double(n);
  double w = 0.0;
  for (int64_t i = 0; i < n; ++i)
    w += double(weights[i]);
  return w;
}

/// 1/sqrt(sum_i m_i x_i^2 / W + eps) for one row.
template <typename T>
double rmsInverse(const T *x, const T *mask, int64_t D, double W, double eps) {
  double s = 0.0;
  if (mask) {
    for (int64_t i = 0; i < D; ++i)
      s += double(mask[i]) * double(x[i]) * double(x[i]);
  } else {
    for (int64_t i = 0; i < D; ++i)
      s += double(x[i]) * double(x[i]);
  }
  double ms = W != 0.0 ? s / W : 0.0;
  return 1.0 / std::sqrt(ms + eps);
}
} // namespace

template <typename T>
void rmsNorm(const T *x, const T *gain, const T *mask, T *y, int64_t rows,
             int64_t D, double eps) {
  const double W = weightSum(mask, D);
  parallelFor(rows, rowGrain(kCheapGrain, D), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T *xr = x + r * D;
      T *yr = y + r * D;
      const double inv = rmsInverse(xr, mask, D, W, eps);
      for (int64_t i = 0; i < D; ++i)
        yr[i] = T(double(gain[i]) * double(xr[i]) * inv);
    }
  });
}

// With S = sum_j m_j x_j^2, r = (S/W + eps)^-1/2 and y_i = g_i x_i r:
//   dr/dx_j = -r^3 m_j x_j / W, so
//   dx_j = r g_j dy_j - (r^3 / W) m_j x_j sum_i dy_i g_i x_i,
//   dg_i = sum_rows dy_i x_i r.
template <typename T>
void rmsNormGrad(const T *x, const T *gain, const T *mask, const T *dy, T *dx,
                 T *dgain, int64_t rows, int64_t D, double eps) {
  const double W = weightSum(mask, D);
  std::vector<double> invs(rows);
  parallelFor(rows, rowGrain(kCheapGrain, D), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T *xr = x + r * D;
      const T *dyr = dy + r * D;
      T *dxr = dx + r * D;
      const double inv = rmsInverse(xr, mask, D, W, eps);
      invs[r] = inv;
      double dot = 0.0;
      for (int64_t i = 0; i < D; ++i)
        dot += double(dyr[i]) * double(gain[i]) * double(xr[i]);
      const double c = W != 0.0 ? inv * inv * inv * dot / W : 0.0;
      for (int64_t i = 0; i < D; ++i) {
        double mi = mask ? double(mask[i]) : 1.0;
        dxr[i] =
            T(inv * double(gain[i]) * double(dyr[i]) - c * mi * double(xr[i]));
      }
    }
  });
  // dgain split by columns, each summed over rows in row order: the sum never
  // depends on the partition.
  parallelFor(D, rowGrain(kCheapGrain, rows), [&](int64_t lo, int64_t hi) {
    std::vector<double> acc(hi - lo, 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const T *xr = x + r * D;
      const T *dyr = dy + r * D;
      const double inv = invs[r];
      for (int64_t i = lo; i < hi; ++i)
        acc[i - lo] += double(dyr[i]) * double(xr[i]) * inv;
    }
    for (int64_t i = lo; i < hi; ++i)
      dgain[i] = T(acc[i - lo]);
  });
}

//===----------------------------------------------------------------------===//
// RoPE
//===----------------------------------------------------------------------===//

template <typename T>
void rope(const T *x, T *y, int64_t B, int64_t Tlen, int64_t H, int64_t Dh,
          double theta, bool inverse) {
  assert(Dh % 2 == 0 && "rope needs an even head dimension");
  const int64_t half = Dh / 2;
  const int64_t HD = H * Dh;
  // cos/sin per (position, frequency), shared by every batch row and head.
  std::vector<double> cs(Tlen * half), sn(Tlen * half);
  const double sign = inverse ? -1.0 : 1.0;
  for (int64_t i = 0; i < half; ++i) {
    const double invFreq = std::pow(theta, -2.0 * double(i) / double(Dh));
    for (int64_t t = 0; t < Tlen; ++t) {
      const double angle = double(t) * invFreq;
      cs[t * half + i] = std::cos(angle);
      sn[t * half + i] = sign * std::sin(angle);
    }
  }
  parallelFor(B * Tlen, rowGrain(kCheapGrain, HD), [&](int64_t lo, int64_t hi) {
    for (int64_t row = lo; row < hi; ++row) {
      const int64_t t = row % Tlen;
      const double *c = cs.data() + t * half;
      const double *s = sn.data() + t * half;
      for (int64_t h = 0; h < H; ++h) {
        const T *xv = x + row * HD + h * Dh;
        T *yv = y + row * HD + h * Dh;
        for (int64_t i = 0; i < half; ++i) {
          // Read both halves before writing either: y may alias x.
          const double a = double(xv[i]), b = double(xv[i + half]);
          yv[i] = T(a * c[i] - b * s[i]);
          yv[i + half] = T(b * c[i] + a * s[i]);
        }
      }
    }
  });
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

// Per (batch, head) pair the head slices are [T, Dh] matrices with leading
// dimension H*Dh, so BLAS works on them in place. Pairs are independent and go
// to our worker threads whole, each with a T x T scratch. Scores are computed
// without the 1/sqrt(Dh) scale, which the softmax applies in double. The
// causal upper triangle is computed by the GEMM and then overwritten with
// zeros: one full GEMM is faster than T small ones.

namespace {
/// Offset of (batch, head) pair `pair` = b*H + h in a [B, T, H*Dh] tensor.
inline int64_t headOffset(int64_t pair, int64_t Tlen, int64_t H, int64_t Dh) {
  return (pair / H) * Tlen * H * Dh + (pair % H) * Dh;
}

/// Splits `pairs` (batch, head) pairs over the workers; fn(lo, hi) handles
/// pairs [lo, hi). BLAS stays on the calling thread whenever there is more
/// than one pair (even with one worker: per-head GEMMs are small); a single
/// pair, e.g. one long sequence with one head, keeps BLAS's own threading.
template <typename F>
void forEachPairBlock(int64_t pairs, int64_t Tlen, F &&fn) {
  BlasOnCallingThread guard(/*active=*/pairs > 1);
  // A pair costs T*T exps plus its GEMMs: tiny sequences stay on one thread.
  parallelFor(pairs, rowGrain(4 * kCostlyGrain, Tlen * Tlen), fn);
}
} // namespace

template <typename T>
void attention(const T *q, const T *k, const T *v, T *out, int64_t B,
               int64_t Tlen, int64_t H, int64_t Dh, T *lse) {
  const int64_t pairs = B * H;
  if (pairs <= 0 || Tlen <= 0 || Dh <= 0)
    return;
  const int64_t HD = H * Dh;
  const double scale = 1.0 / std::sqrt(double(Dh));
  forEachPairBlock(pairs, Tlen, [&](int64_t lo, int64_t hi) {
    std::vector<T> P(Tlen * Tlen);
    std::vector<double> e(Tlen);
    for (int64_t pair = lo; pair < hi; ++pair) {
      const int64_t off = headOffset(pair, Tlen, H, Dh);
      gemm<T>(false, true, Tlen, Tlen, Dh, q + off, HD, k + off, HD, P.data(),
              Tlen);
      for (int64_t i = 0; i < Tlen; ++i) {
        double rowLse = causalSoftmaxRow(P.data() + i * Tlen, i, Tlen, scale, e.data());
        if (lse)
          lse[pair * Tlen + i] = T(rowLse);
      }
      gemm<T>(false, false, Tlen, Dh, Tlen, P.data(), Tlen, v + off, HD,
              out + off, HD);
    }
  });
}

// With P = softmax(S*scale) and O = P V:
//   dV = P^T dO, dP = dO V^T, dS_ij = scale * P_ij (dP_ij - sum_k P_ik dP_ik),
//   dQ = dS K, dK = dS^T Q.
template <typename T>
void attentionGrad(const T *q, const T *k, const T *v, const T *dout, T *dq,
                   T *dk, T *dv, int64_t B, int64_t Tlen, int64_t H,
                   int64_t Dh) {
  const int64_t pairs = B * H;
  if (pairs <= 0 || Tlen <= 0 || Dh <= 0)
    return;
  const int64_t HD = H * Dh;
  const double scale = 1.0 / std::sqrt(double(Dh));
  forEachPairBlock(pairs, Tlen, [&](int64_t lo, int64_t hi) {
    std::vector<T> P(Tlen * Tlen), dS(Tlen * Tlen);
    std::vector<double> e(Tlen);
    for (int64_t pair = lo; pair < hi; ++pair) {
      const int64_t off = headOffset(pair, Tlen, H, Dh);
      gemm<T>(false, true, Tlen, Tlen, Dh, q + off, HD, k + off, HD, P.data(),
              Tlen);
      gemm<T>(false, true, Tlen, Tlen, Dh, dout + off, HD, v + off, HD,
              dS.data(), Tlen);
      for (int64_t i = 0; i < Tlen; ++i) {
        T *p = P.data() + i * Tlen;
        T *ds = dS.data() + i * Tlen;
        causalSoftmaxRow(p, i, Tlen, scale, e.data());
        // dS from the unrounded probabilities in e, not the stored ones.
        double dot = 0.0;
        for (int64_t j = 0; j <= i; ++j)
          dot += e[j] * double(ds[j]);
        for (int64_t j = 0; j <= i; ++j)
          ds[j] = T(scale * e[j] * (double(ds[j]) - dot));
        std::fill(ds + i + 1, ds + Tlen, T(0));
      }
      gemm<T>(true, false, Tlen, Dh, Tlen, P.data(), Tlen, dout + off, HD,
              dv + off, HD);
      gemm<T>(false, false, Tlen, Dh, Tlen, dS.data(), Tlen, k + off, HD,
              dq + off, HD);
      gemm<T>(true, false, Tlen, Dh, Tlen, dS.data(), Tlen, q + off, HD,
              dk + off, HD);
    }
  });
}

//===----------------------------------------------------------------------===//
// SwiGLU
//===----------------------------------------------------------------------===//

namespace {
/// 1/(1+exp(-g)); exp overflows to +inf for very negative g, giving exactly 0
/// rather than NaN.
template <typename T> inline double sigmoid(double g) {
  return 1.0 / (1.0 + expAt<T>(-g));
}
} // namespace

template <typename T> void swiglu(const T *g, const T *u, T *y, int64_t n) {
  parallelFor(n, kCostlyGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const double gi = double(g[i]);
      y[i] = T(gi * sigmoid<T>(gi) * double(u[i]));
    }
  });
}

// d silu(g)/dg = s + g s (1 - s) = s (1 + g (1 - s)) with s = sigmoid(g).
template <typename T>
void swigluGrad(const T *g, const T *u, const T *dy, T *dg, T *du, int64_t n) {
  parallelFor(n, kCostlyGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const double gi = double(g[i]), ui = double(u[i]), d = double(dy[i]);
      const double s = sigmoid<T>(gi);
      dg[i] = T(d * ui * s * (1.0 + gi * (1.0 - s)));
      du[i] = T(d * gi * s);
    }
  });
}

//===----------------------------------------------------------------------===//
// Cross-entropy
//===----------------------------------------------------------------------===//

namespace {
template <typename T>
bool targetsValid(const int32_t *targets, int64_t rows, int64_t V) {
  for (int64_t r = 0; r < rows; ++r)
    if (targets[r] < 0 || int64_t(targets[r]) >= V)
      return false;
  return true;
}

} // namespace

template <typename T>
T crossEntropy(const T *logits, const int32_t *targets, const T *lossMask,
               int64_t rows, int64_t V) {
  if (!targetsValid<T>(targets, rows, V))
    return std::numeric_limits<T>::quiet_NaN();
  const double W = weightSum(lossMask, rows);
  if (W == 0.0)
    return T(0);
  // Per-row losses in parallel, summed afterwards in row order.
  std::vector<double> loss(rows, 0.0);
  parallelFor(rows, rowGrain(kCostlyGrain, V), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      // A zero-weight row contributes nothing, even if its logits are -inf.
      if (lossMask && double(lossMask[r]) == 0.0)
        continue;
      const T *l = logits + r * V;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < V; ++j)
        mx = std::max(mx, double(l[j]));
      double sum = 0.0;
      for (int64_t j = 0; j < V; ++j)
        sum += expAt<T>(double(l[j]) - mx);
      loss[r] = mx + std::log(sum) - double(l[targets[r]]);
    }
  });
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const double w = lossMask ? double(lossMask[r]) : 1.0;
    if (w != 0.0)
      total += w * loss[r];
  }
  return T(total / W);
}

template <typename T>
void crossEntropyGrad(const T *logits, const int32_t *targets,
                      const T *lossMask, T dloss, T *dlogits, int64_t rows,
                      int64_t V) {
  if (!targetsValid<T>(targets, rows, V)) {
    std::fill(dlogits, dlogits + rows * V, std::numeric_limits<T>::quiet_NaN());
    return;
  }
  const double W = weightSum(lossMask, rows);
  if (W == 0.0) {
    std::fill(dlogits, dlogits + rows * V, T(0));
    return;
  }
  parallelFor(rows, rowGrain(kCostlyGrain, V), [&](int64_t lo, int64_t hi) {
    std::vector<double> e(V);
    for (int64_t r = lo; r < hi; ++r) {
      T *d = dlogits + r * V;
      const double w = lossMask ? double(lossMask[r]) : 1.0;
      if (w == 0.0) {
        std::fill(d, d + V, T(0));
        continue;
      }
      const T *l = logits + r * V;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < V; ++j)
        mx = std::max(mx, double(l[j]));
      double sum = 0.0;
      for (int64_t j = 0; j < V; ++j) {
        e[j] = expAt<T>(double(l[j]) - mx);
        sum += e[j];
      }
      const double coef = double(dloss) * w / W;
      const double norm = 1.0 / sum;
      for (int64_t j = 0; j < V; ++j)
        d[j] = T(coef * e[j] * norm);
      const int64_t t = targets[r];
      d[t] = T(coef * (e[t] * norm - 1.0));
    }
  });
}

//===----------------------------------------------------------------------===//
// Reductions and optimizer
//===----------------------------------------------------------------------===//

template <typename T> double sumSquares(const T *x, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i)
    s += double(x[i]) * double(x[i]);
  return s;
}

template <typename T>
void adamw(T *p, const T *g, T *m, T *v, int64_t n, double lr, double beta1,
           double beta2, double eps, double weightDecay, int64_t step,
           double gradScale) {
  assert(step >= 1 && "AdamW step is 1-based");
  const double bc1 = 1.0 - std::pow(beta1, double(step));
  const double bc2 = 1.0 - std::pow(beta2, double(step));
  const double decay = 1.0 - lr * weightDecay;
  parallelFor(n, kCostlyGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const double gi = double(g[i]) * gradScale;
      const double mi = beta1 * double(m[i]) + (1.0 - beta1) * gi;
      const double vi = beta2 * double(v[i]) + (1.0 - beta2) * gi * gi;
      const double mhat = mi / bc1, vhat = vi / bc2;
      // PyTorch decays first (p *= 1 - lr*wd); the Adam term does not read p.
      const double pi =
          double(p[i]) * decay - lr * mhat / (std::sqrt(vhat) + eps);
      m[i] = T(mi);
      v[i] = T(vi);
      p[i] = T(pi);
    }
  });
}

//===----------------------------------------------------------------------===//
// Elementwise helpers
//===----------------------------------------------------------------------===//

template <typename T> void add(const T *a, const T *b, T *y, int64_t n) {
  parallelFor(n, kCheapGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      y[i] = a[i] + b[i];
  });
}

template <typename T> void scale(const T *x, double s, T *y, int64_t n) {
  parallelFor(n, kCheapGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      y[i] = T(s * double(x[i]));
  });
}

template <typename T>
void maskMul(const T *x, const T *mask, T *y, int64_t rows, int64_t D) {
  parallelFor(rows, rowGrain(kCheapGrain, D), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r)
      for (int64_t i = 0; i < D; ++i)
        y[r * D + i] = x[r * D + i] * mask[i];
  });
}

template <typename T>
void lerp(const T *x, const T *y, double c, T *out, int64_t n) {
  parallelFor(n, kCheapGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const double xi = double(x[i]);
      out[i] = T(xi + c * (double(y[i]) - xi));
    }
  });
}

template <typename T>
void lerpGrad(const T *dout, double c, T *dx, T *dy, int64_t n) {
  parallelFor(n, kCheapGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const double d = double(dout[i]);
      dx[i] = T((1.0 - c) * d);
      dy[i] = T(c * d);
    }
  });
}

//===----------------------------------------------------------------------===//
// Explicit instantiations
//===----------------------------------------------------------------------===//

#define TELE_INSTANTIATE_KERNELS(T)                                            \
  template void linear<T>(const T *, const T *, T *, int64_t, int64_t,         \
                          int64_t);                                            \
  template void linearGradInput<T>(const T *, const T *, T *, int64_t,         \
                                   int64_t, int64_t);                          \
  template void linearGradWeight<T>(const T *, const T *, T *, int64_t,        \
                                    int64_t, int64_t);                         \
  template bool embed<T>(const T *, const int32_t *, T *, int64_t, int64_t,    \
                         int64_t);                                             \
  template void embedGrad<T>(const T *, const int32_t *, T *, int64_t,         \
                             int64_t, int64_t);                                \
  template void rmsNorm<T>(const T *, const T *, const T *, T *, int64_t,      \
                           int64_t, double);                                   \
  template void rmsNormGrad<T>(const T *, const T *, const T *, const T *,     \
                               T *, T *, int64_t, int64_t, double);            \
  template void rope<T>(const T *, T *, int64_t, int64_t, int64_t, int64_t,    \
                        double, bool);                                         \
  template void attention<T>(const T *, const T *, const T *, T *, int64_t,    \
                             int64_t, int64_t, int64_t, T *);                  \
  template void attentionGrad<T>(const T *, const T *, const T *, const T *,   \
                                 T *, T *, T *, int64_t, int64_t, int64_t,     \
                                 int64_t);                                     \
  template void swiglu<T>(const T *, const T *, T *, int64_t);                 \
  template void swigluGrad<T>(const T *, const T *, const T *, T *, T *,       \
                              int64_t);                                        \
  template T crossEntropy<T>(const T *, const int32_t *, const T *, int64_t,   \
                             int64_t);                                         \
  template void crossEntropyGrad<T>(const T *, const int32_t *, const T *, T,  \
                                    T *, int64_t, int64_t);                    \
  template double sumSquares<T>(const T *, int64_t);                           \
  template void adamw<T>(T *, const T *, T *, T *, int64_t, double, double,    \
                         double, double, double, int64_t, double);             \
  template void add<T>(const T *, const T *, T *, int64_t);                    \
  template void scale<T>(const T *, double, T *, int64_t);                     \
  template void maskMul<T>(const T *, const T *, T *, int64_t, int64_t);       \
  template void lerp<T>(const T *, const T *, double, T *, int64_t);           \
  template void lerpGrad<T>(const T *, double, T *, T *, int64_t);

TELE_INSTANTIATE_KERNELS(float)
TELE_INSTANTIATE_KERNELS(double)

#undef TELE_INSTANTIATE_KERNELS

} // namespace tele::cpu
