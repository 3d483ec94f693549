"""Fused vs separate projection GEMMs through PyTorch (cuBLAS), per benchmark
config: what torch.compile multiplies (q/k/v and gate/up as one GEMM each)
against what tele runs (one GEMM per projection) and a batched alternative
(one launch, separate outputs). Prints ms per step (all layers) for the
forward, input-gradient and weight-gradient GEMMs. Run on the GPU machine:
python3 bench/fused_gemms.py. The README's "what is in the way" cites it."""
import torch, json
torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = True
def t(fn, reps=30):
    for _ in range(5): fn()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize(); s.record()
    for _ in range(reps): fn()
    e.record(); torch.cuda.synchronize(); return s.elapsed_time(e) / reps
def mm(m, k, n):
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16); b = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
    return t(lambda: a @ b)
def bmm3(m, k, n):  # three batched products sharing A (stride 0)
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16).expand(3, m, k); b = torch.randn(3, k, n, device="cuda", dtype=torch.bfloat16)
    return t(lambda: torch.bmm(a, b))
for name, (V, d, h, f, L, T, B) in {"flm-tiny": (32000, 768, 12, 2048, 12, 1024, 16), "flm-1b": (32000, 2048, 16, 5504, 24, 2048, 8)}.items():
    M = B * T
    r = {}
    r["qkv fused fwd"] = mm(M, d, 3 * d); r["qkv 3x fwd"] = 3 * mm(M, d, d); r["qkv bmm3 fwd"] = bmm3(M, d, d)
    r["qkv fused dgrad"] = mm(M, 3 * d, d); r["qkv 3x dgrad"] = 3 * mm(M, d, d)
    r["qkv fused wgrad"] = mm(3 * d, M, d); r["qkv 3x wgrad"] = 3 * mm(d, M, d)
    r["gu fused fwd"] = mm(M, d, 2 * f); r["gu 2x fwd"] = 2 * mm(M, d, f); r["gu bmm2 fwd"] = bmm3(M, d, f) * 2 / 3
    r["gu fused dgrad"] = mm(M, 2 * f, d); r["gu 2x dgrad"] = 2 * mm(M, f, d)
    r["gu fused wgrad"] = mm(2 * f, M, d); r["gu 2x wgrad"] = 2 * mm(f, M, d)
    print(json.dumps({"cfg": name, **{k: round(v * L, 2) for k, v in r.items()}}), flush=True)
