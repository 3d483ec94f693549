#!/usr/bin/env python3
"""The data-parallel peer: tele's model under PyTorch DDP (+ torch.compile), one
process per GPU, the same batch per GPU as the plan's stage.

usage: torchrun --nproc_per_node=N bench/ddp_peer.py [CONFIG] [--mode eager|compile] [--steps K]
Rank 0 prints one JSON line: ms/step, tokens/s of the whole job and per GPU, MFU per GPU.
Keep NVLink multicast off: NCCL_NVLS_ENABLE=0.
"""
import argparse
import json
import os
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from peer_model import PEAK_FLOPS, Model, load_shape, make_step, parameter_count, random_batch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default="flm-tiny")
    ap.add_argument("--mode", default="compile", choices=["eager", "compile"])
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    dist.init_process_group("nccl")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    shape = load_shape(a.config)
    torch.manual_seed(0)
    model = Model(shape).cuda()
    params = parameter_count(model)
    ddp = DDP(model, gradient_as_bucket_view=True)
    step = make_step(model, torch.compile(ddp) if a.mode == "compile" else ddp)
    tok, tgt = random_batch(shape)
    for _ in range(5):
        step(tok, tgt)
    torch.cuda.synchronize()
    dist.barrier()
    t0 = time.time()
    for _ in range(a.steps):
        step(tok, tgt)
    torch.cuda.synchronize()
    dist.barrier()
    ms = (time.time() - t0) / a.steps * 1e3
    if rank == 0:
        tok_s = shape.tokens * world / (ms / 1e3)
        print(json.dumps(dict(cfg=shape.name, mode=f"ddp-{a.mode}", world=world, ms=round(ms, 2),
                              tok_s=round(tok_s), tok_s_per_gpu=round(tok_s / world),
                              mfu=round(shape.flops_per_step(params) / (ms / 1e3) / PEAK_FLOPS, 4))), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
