//===- runtime/cpu/Kernels.h - CPU reference kernels ------------*- C++ -*-===//
//
// This file declares the CPU reference kernels: forward and backward of every
// tensor-level op of the tele model (linear, embedding, masked RMSNorm, RoPE,
// causal attention, SwiGLU, cross-entropy, the growth-mask helpers) and the
// AdamW update. They are both the numerical ground truth that compiled code is
// checked against and the executor of the CPU training demo, so they are exact
// in their conventions, deterministic (fixed reduction order, no atomics, the
// result never depends on the thread count) and use BLAS for matrix products.
//
// Conventions shared by every kernel:
//  * All buffers are dense row-major and allocated by the caller; every output
//    is fully overwritten (nothing accumulates into an output unless stated).
//  * Activations are [rows, D] with rows = B*T. Weights are stored [out, in].
//  * Attention and RoPE tensors are [B, T, H*Dh]: head h occupies columns
//    h*Dh .. h*Dh+Dh-1 of the last dimension.
//  * Sizes are int64_t. T is float or double (explicitly instantiated in
//    Kernels.cpp); reductions (norm statistics, softmax, losses) accumulate in
//    double for both. exp is evaluated in T's precision (expf for float): its
//    error is below what a float result holds, at half the cost.
//  * Loops outside BLAS use TELE_CPU_THREADS threads (default: the hardware
//    concurrency); every output is computed by one thread in a fixed order, so
//    results do not depend on the thread count. Attention runs BLAS on the
//    calling thread for its small per-head GEMMs (see Kernels.cpp). Kernels
//    are not meant to be called concurrently from several threads.
//  * OpenBLAS's own thread count (OPENBLAS_NUM_THREADS) can change the last
//    bits of some GEMMs, so a resumed run must use the same setting.
//  * Unless stated, outputs must not alias inputs. Purely elementwise kernels
//    (add, scale, maskMul, lerp, swiglu, rope) allow out == in.
//
//===----------------------------------------------------------------------===//

#ifndef TELE_RUNTIME_CPU_KERNELS_H
#define TELE_RUNTIME_CPU_KERNELS_H

#include <cstdint>

namespace tele::cpu {

//===----------------------------------------------------------------------===//
// Linear (no bias)
//===----------------------------------------------------------------------===//

/// y[M,N] = x[M,K] · w[N,K]^T.
template <typename T>
void linear(const T *x, const T *w, T *y, int64_t M, int64_t K, int64_t N);
/// dx[M,K] = dy[M,N] · w[N,K].
template <typename T>
void linearGradInput(const T *dy, const T *w, T *dx, int64_t M, int64_t K,
                     int64_t N);
/// dw[N,K] = dy[M,N]^T · x[M,K] (overwrites dw).
template <typename T>
void linearGradWeight(const T *dy, const T *x, T *dw, int64_t M, int64_t K,
                      int64_t N);

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

/// out[n,D] = table[tokens[i], :]. Returns false, writing nothing, if any token
/// lies outside [0,V): validating tokens is the caller's job, this only keeps
/// a bad token from reading out of bounds.
template <typename T>
bool embed(const T *table, const int32_t *tokens, T *out, int64_t n, int64_t V,
           int64_t D);
/// dtable[V,D] = 0, then dtable[tokens[i]] += dout[i] for i in order (fixed
/// order keeps repeated tokens deterministic). Out-of-range tokens are skipped.
template <typename T>
void embedGrad(const T *dout, const int32_t *tokens, T *dtable, int64_t n,
               int64_t V, int64_t D);

//===----------------------------------------------------------------------===//
// Masked RMSNorm
//===----------------------------------------------------------------------===//

/// y = gain * x / sqrt(sum_i m_i x_i^2 / sum_i m_i + eps) per row of D.
/// mask == nullptr means all ones (plain RMSNorm). The mask makes the statistic
/// of a widened model equal to the small model's while new width is masked
/// off (docs/growth.md section 3.3). If sum_i m_i == 0 the statistic is 0.
template <typename T>
void rmsNorm(const T *x, const T *gain, const T *mask, T *y, int64_t rows,
             int64_t D, double eps);
/// dx[rows,D] and dgain[D] (summed over rows, overwritten). The mask is a
/// constant, so it gets no gradient.
template <typename T>
void rmsNormGrad(const T *x, const T *gain, const T *mask, const T *dy, T *dx,
                 T *dgain, int64_t rows, int64_t D, double eps);

//===----------------------------------------------------------------------===//
// Rotary position embedding (rotate-half, per head, HF Llama convention)
//===----------------------------------------------------------------------===//

/// For each head vector v (length Dh, half = Dh/2) at position t:
///   inv_freq_i = theta^(-2i/Dh), angle = t*inv_freq_i,
///   y[i] = v[i]cos - v[i+half]sin,  y[i+half] = v[i+half]cos + v[i]sin.
/// inverse = true rotates by -angle, which is also the gradient (adjoint) of
/// the forward rotation. Dh must be even. y may alias x.
template <typename T>
void rope(const T *x, T *y, int64_t B, int64_t Tlen, int64_t H, int64_t Dh,
          double theta, bool inverse);

//===----------------------------------------------------------------------===//
// Causal multi-head attention
//===----------------------------------------------------------------------===//

/// out = softmax(q k^T / sqrt(Dh) + causal) v per (batch, head); all tensors
/// [B,T,H*Dh]. Scores come from a T-precision GEMM; max, scale and sum are
/// taken in double. With `lse`, also writes the log-sum-exp of every row of
/// scaled scores, [B,H,T] (what tele.flash_attention returns).
template <typename T>
void attention(const T *q, const T *k, const T *v, T *out, int64_t B,
               int64_t Tlen, int64_t H, int64_t Dh, T *lse = nullptr);
/// dq, dk, dv (overwritten) from dout; recomputes the probabilities.
template <typename T>
void attentionGrad(const T *q, const T *k, const T *v, const T *dout, T *dq,
                   T *dk, T *dv, int64_t B, int64_t Tlen, int64_t H,
                   int64_t Dh);

//===----------------------------------------------------------------------===//
// SwiGLU product
//===----------------------------------------------------------------------===//

/// y = silu(g) * u with silu(g) = g * sigmoid(g).
template <typename T> void swiglu(const T *g, const T *u, T *y, int64_t n);
template <typename T>
void swigluGrad(const T *g, const T *u, const T *dy, T *dg, T *du, int64_t n);

//===----------------------------------------------------------------------===//
// Cross-entropy
//===----------------------------------------------------------------------===//

/// Weighted mean over rows of -log softmax(logits[r])[targets[r]] with weight
/// w_r = lossMask ? lossMask[r] : 1, divided by sum_r w_r (0 if that sum is 0).
/// Returns NaN if any target lies outside [0,V) (the caller validates).
/// Log-sum-exp with max subtraction, accumulated in double.
template <typename T>
T crossEntropy(const T *logits, const int32_t *targets, const T *lossMask,
               int64_t rows, int64_t V);
/// dlogits[r,:] = dloss * w_r / sum(w) * (softmax(logits[r]) - onehot(t_r)).
/// All zeros if sum(w) == 0; all NaN if any target is out of range.
template <typename T>
void crossEntropyGrad(const T *logits, const int32_t *targets,
                      const T *lossMask, T dloss, T *dlogits, int64_t rows,
                      int64_t V);

//===----------------------------------------------------------------------===//
// Reductions and optimizer
//===----------------------------------------------------------------------===//

/// sum_i x_i^2 accumulated in double in index order (gradient clipping norm).
template <typename T> double sumSquares(const T *x, int64_t n);

/// One AdamW step with PyTorch semantics, in place on p, m, v. Decoupled weight
/// decay first (p -= lr*wd*p), then with g' = g*gradScale:
///   m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
///   p -= lr * (m/(1-b1^step)) / (sqrt(v/(1-b2^step)) + eps).
/// step is 1-based. Arithmetic in double, rounded to T on store.
template <typename T>
void adamw(T *p, const T *g, T *m, T *v, int64_t n, double lr, double beta1,
           double beta2, double eps, double weightDecay, int64_t step,
           double gradScale);

//===----------------------------------------------------------------------===//
// Elementwise helpers (growth masks, residual stream)
//===----------------------------------------------------------------------===//

/// y = a + b.
template <typename T> void add(const T *a, const T *b, T *y, int64_t n);
/// y = s * x. Its own gradient: dx = scale(dy, s).
template <typename T> void scale(const T *x, double s, T *y, int64_t n);
/// y[r,i] = x[r,i] * mask[i]. Its own gradient: dx = maskMul(dy, mask).
template <typename T>
void maskMul(const T *x, const T *mask, T *y, int64_t rows, int64_t D);
/// out = x + c*(y - x): a grown layer's output blend (identity at c = 0
/// exactly, whatever y holds as long as it is finite).
template <typename T>
void lerp(const T *x, const T *y, double c, T *out, int64_t n);
/// dx = (1-c) dout, dy = c dout.
template <typename T>
void lerpGrad(const T *dout, double c, T *dx, T *dy, int64_t n);

} // namespace tele::cpu

#endif // TELE_RUNTIME_CPU_KERNELS_H
