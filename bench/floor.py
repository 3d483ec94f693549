#!/usr/bin/env python3
"""The floor of one training step on this GPU: the time of every GEMM of the
forward and backward, each timed alone through cuBLAS (bf16 operands, fp32
accumulation), plus causal flash attention forward + backward through SDPA,
summed. Norms, RoPE, SwiGLU, the loss and the optimizer are not counted, so no
real step can be faster: the gap between a step and its floor is what a
compiler can still remove.

usage: floor.py [CONFIG ...]   (plans under plans/bench, default flm-tiny flm-1b)
Prints the card's GEMM and copy rates, then one JSON line per config.
"""
import argparse
import json

import torch
import torch.nn.functional as F

from peer_model import PEAK_FLOPS, load_shape

torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = True


def timed_ms(fn, reps=20):
    for _ in range(3):
        fn()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps


def gemm_ms(m, k, n):
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
    return timed_ms(lambda: a @ b)


def step_floor(s):
    M, d, inner = s.tokens, s.hidden, s.heads * s.head_dim
    # (rows, in, out) of every projection of a layer: q/k/v fused, o, gate/up fused, down.
    layer = [(M, d, 3 * inner), (M, inner, d), (M, d, 2 * s.ffn), (M, s.ffn, d)]
    gemms = 0.0
    for m, k, n in layer:  # forward, input gradient, weight gradient
        gemms += gemm_ms(m, k, n) + gemm_ms(m, n, k) + gemm_ms(k, m, n)
    gemms *= s.layers
    gemms += gemm_ms(M, d, s.vocab) + gemm_ms(M, s.vocab, d) + gemm_ms(d, M, s.vocab)
    q = torch.randn(s.batch, s.heads, s.seq_len, s.head_dim, device="cuda", dtype=torch.bfloat16,
                    requires_grad=True)
    k, v = torch.randn_like(q, requires_grad=True), torch.randn_like(q, requires_grad=True)
    grad_out = torch.randn_like(q)

    def attention_fwd_bwd():
        F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(grad_out)

    attention = s.layers * timed_ms(attention_fwd_bwd)
    params = 2 * s.vocab * d + s.layers * (4 * d * inner + 3 * d * s.ffn) + (2 * s.layers + 1) * d
    total = gemms + attention
    return dict(cfg=s.name, gemm_ms=round(gemms, 2), attn_fwd_bwd_ms=round(attention, 2),
                floor_ms=round(total, 2), mfu_at_floor=round(s.flops_per_step(params) / (total / 1e3) / PEAK_FLOPS, 3))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="*", default=["flm-tiny", "flm-1b"])
    a = ap.parse_args()
    x = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    peak = 2 * 8192**3 / (timed_ms(lambda: x @ x) / 1e3) / 1e12
    src = torch.empty(2 * 2**30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    copy = 2 * src.numel() / (timed_ms(lambda: dst.copy_(src)) / 1e3) / 1e9
    del x, src, dst
    print(json.dumps(dict(gemm8192_tflops=round(peak, 1), d2d_copy_GBps=round(copy))), flush=True)
    for cfg in a.configs:
        print(json.dumps(step_floor(load_shape(cfg))), flush=True)
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
