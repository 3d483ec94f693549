"""Validation loss against training FLOPs for tele runs (metrics.jsonl).

usage: compare_flops.py RUN_DIR...
FLOPs per step = tokens * (6 N + 6 L d T) for the model of the step's stage,
with the shapes of plans/default.yaml (tiny, wide, deep)."""
import json
import sys

SHAPES = {"tiny": (260, 64, 172, 2, 128), "wide": (260, 96, 256, 2, 128),
          "deep": (260, 96, 256, 4, 128)}
STAGE_MODEL = {"pretrain-tiny": "tiny", "pretrain-wide": "wide",
               "pretrain-deep": "deep", "scratch": "deep"}


def flops_per_token(V, d, f, L, T):
    n = 2 * V * d + L * (4 * d * d + 3 * d * f + 2 * d) + d
    return 6 * n + 6 * L * d * T


for run in sys.argv[1:]:
    records = [json.loads(l) for l in open(run + "/metrics.jsonl") if l.strip()]
    steps = [r for r in records if "event" not in r]
    flops, curve, tokens_prev = 0.0, [], 0
    for r in steps:
        tokens = r["tokens"] - tokens_prev
        tokens_prev = r["tokens"]
        flops += tokens * flops_per_token(*SHAPES[STAGE_MODEL[r["stage"]]])
        if "val_loss" in r:
            curve.append((r["step"], flops / 1e12, r["val_loss"]))
    last10 = sum(r["loss"] for r in steps[-10:]) / 10
    print(f"{run}: {len(steps)} steps, {flops / 1e12:.3f} TFLOP, final val loss "
          f"{curve[-1][2]:.4f}, train loss (mean of last 10) {last10:.4f}")
    print("  (step, TFLOP, val loss):",
          ", ".join(f"({s}, {f:.2f}, {v:.3f})" for s, f, v in curve))
