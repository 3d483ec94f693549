"""The PyTorch peer of tele's model, for benchmarks run side by side with tele.

The model is the one tele trains (docs/growth.md, section 1): pre-norm RMSNorm
with fp32 statistics, SwiGLU MLP, rotate-half RoPE (theta 10000), causal
multi-head attention through SDPA (cuDNN/flash), untied embedding and LM head,
no biases. Shapes come from tele's own plan files (plans/bench/<name>.yaml), so
the peer and tele always time the same model and batch.

MFU here and in tele counts 6 N tokens (N: every parameter) plus 6 L d T
tokens for causal attention (the QK^T and PV products at half, forward and
backward) against 989 TFLOP/s, the dense bf16 rate of an H100 SXM.
"""
import os
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

PEAK_FLOPS = 989e12
PLAN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plans", "bench")


class Shape:
    """A model and batch shape read from a plan's first model and first stage."""

    def __init__(self, name, vocab, hidden, heads, head_dim, ffn, layers, seq_len, batch):
        self.name, self.vocab, self.hidden, self.heads = name, vocab, hidden, heads
        self.head_dim, self.ffn, self.layers = head_dim, ffn, layers
        self.seq_len, self.batch = seq_len, batch

    @property
    def tokens(self):
        return self.batch * self.seq_len

    def flops_per_step(self, params):
        return 6 * params * self.tokens + 6 * self.layers * self.heads * self.head_dim * self.seq_len * self.tokens

    def __repr__(self):
        return (f"{self.name}: V{self.vocab} d{self.hidden} h{self.heads}x{self.head_dim} "
                f"ffn{self.ffn} L{self.layers} T{self.seq_len} B{self.batch}")


def _flow_maps(text):
    """The `{key: value, ...}` maps of a plan file, in order. Plans under
    plans/bench write their model and stage as one-line flow maps, which this
    reads without PyYAML (the GPU machine need not have it)."""
    for body in re.findall(r"\{([^{}]*)\}", text, re.S):
        yield {k: v.strip() for k, v in re.findall(r"(\w+)\s*:\s*([^,]+)", body)}


def load_shape(name_or_path):
    """The shape of plans/bench/<name>.yaml (or of a plan file's path)."""
    path = name_or_path if os.path.exists(name_or_path) else os.path.join(PLAN_DIR, name_or_path + ".yaml")
    if not os.path.exists(path):
        raise SystemExit(f"peer: error: no plan '{name_or_path}' (looked for {path})")
    maps = list(_flow_maps(open(path, encoding="utf-8").read()))
    model = next((m for m in maps if "vocab" in m), None)
    stage = next((m for m in maps if "batch" in m), None)
    if model is None or stage is None:
        raise SystemExit(f"peer: error: {path}: needs a one-line model map and a stage map with batch")
    i = lambda m, k: int(float(m[k]))
    name = os.path.splitext(os.path.basename(path))[0]
    return Shape(name, i(model, "vocab"), i(model, "hidden"), i(model, "heads"), i(model, "head_dim"),
                 i(model, "ffn"), i(model, "layers"), i(model, "seq_len"), i(stage, "batch"))


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return y.to(x.dtype) * self.weight


def rotate_half_rope(x, cos, sin):
    """x: [B, H, T, Dh]; the first and second halves of each head rotate as pairs."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)


class Block(nn.Module):
    def __init__(self, s):
        super().__init__()
        inner = s.heads * s.head_dim
        self.heads, self.head_dim = s.heads, s.head_dim
        self.attn_norm = RMSNorm(s.hidden)
        self.qkv = nn.Linear(s.hidden, 3 * inner, bias=False)
        self.o = nn.Linear(inner, s.hidden, bias=False)
        self.mlp_norm = RMSNorm(s.hidden)
        self.gate_up = nn.Linear(s.hidden, 2 * s.ffn, bias=False)
        self.down = nn.Linear(s.ffn, s.hidden, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q, k, v = self.qkv(self.attn_norm(x)).view(B, T, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k = rotate_half_rope(q, cos, sin), rotate_half_rope(k, cos, sin)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(B, T, self.heads * self.head_dim))
        gate, up = self.gate_up(self.mlp_norm(x)).chunk(2, dim=-1)
        return x + self.down(F.silu(gate) * up)


class Model(nn.Module):
    """Returns the mean next-token cross-entropy of a batch (fp32 logits)."""

    def __init__(self, s):
        super().__init__()
        self.embed = nn.Embedding(s.vocab, s.hidden)
        self.blocks = nn.ModuleList(Block(s) for _ in range(s.layers))
        self.norm = RMSNorm(s.hidden)
        self.lm_head = nn.Linear(s.hidden, s.vocab, bias=False)
        half = s.head_dim // 2
        inv_freq = 1.0 / (10000.0 ** (torch.arange(half).float() / half))
        angles = torch.outer(torch.arange(s.seq_len).float(), inv_freq)
        self.register_buffer("cos", angles.cos()[None, None], persistent=False)
        self.register_buffer("sin", angles.sin()[None, None], persistent=False)

    def forward(self, tokens, targets):
        x = self.embed(tokens)
        for b in self.blocks:
            x = b(x, self.cos, self.sin)
        logits = self.lm_head(self.norm(x))
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.view(-1))


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def random_batch(s, device="cuda"):
    g = torch.Generator(device="cpu").manual_seed(0)
    tok = torch.randint(0, s.vocab, (s.batch, s.seq_len), generator=g)
    tgt = torch.randint(0, s.vocab, (s.batch, s.seq_len), generator=g)
    return tok.to(device), tgt.to(device)


def make_step(model, step_fn):
    """One optimizer step under bf16 autocast with fused AdamW, as PyTorch users write it."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)

    def step(tok, tgt):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = step_fn(tok, tgt)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    return step
