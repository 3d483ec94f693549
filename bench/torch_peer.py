#!/usr/bin/env python3
"""PyTorch eager and torch.compile timings of tele's model: the peer baseline.

usage: torch_peer.py [CONFIG ...] [--steps N] [--modes eager,compile]
CONFIG names a plan under plans/bench (default: flm-tiny flm-1b) or is a plan
file's path. Prints one JSON line per config and mode: median-free mean ms/step
over the timed steps (CUDA events around them), tokens/s, MFU, peak memory,
warm-up seconds (torch.compile's compile time is in there) and the last loss.
"""
import argparse
import json
import time

import torch

from peer_model import PEAK_FLOPS, Model, load_shape, make_step, parameter_count, random_batch


def run(shape, compiled, steps, warmup=5):
    torch.manual_seed(0)
    model = Model(shape).cuda()
    params = parameter_count(model)
    step = make_step(model, torch.compile(model) if compiled else model)
    tok, tgt = random_batch(shape)
    t0 = time.time()
    for _ in range(warmup):
        step(tok, tgt)
    torch.cuda.synchronize()
    warm_s = time.time() - t0
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(steps):
        loss = step(tok, tgt)
    end.record()
    torch.cuda.synchronize()
    ms = start.elapsed_time(end) / steps
    return dict(params=params, ms=round(ms, 3), tok_s=round(shape.tokens / (ms / 1e3)),
                mfu=round(shape.flops_per_step(params) / (ms / 1e3) / PEAK_FLOPS, 4),
                warm_s=round(warm_s, 1), loss=round(float(loss), 4),
                mem_gb=round(torch.cuda.max_memory_allocated() / 2**30, 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="*", default=["flm-tiny", "flm-1b"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--modes", default="eager,compile")
    a = ap.parse_args()
    print("device", torch.cuda.get_device_name(), "torch", torch.__version__, flush=True)
    for cfg in a.configs:
        shape = load_shape(cfg)
        for mode in a.modes.split(","):
            try:
                r = run(shape, mode == "compile", a.steps)
                print(json.dumps(dict(cfg=shape.name, mode=mode, **r)), flush=True)
            except Exception as e:  # an out-of-memory shape is a row, not the end of the run
                print(f"{shape.name} {mode} FAILED {repr(e)[:300]}", flush=True)
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()


if __name__ == "__main__":
    main()
