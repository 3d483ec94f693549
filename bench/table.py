#!/usr/bin/env python3
"""Prints the benchmark table from bench/run.sh's results (JSON lines from
`tele bench`, torch_peer.py and floor.py; other lines are ignored except the
GPU name). One row per config and implementation, with the ratio of tokens/s
to torch.compile's and of the step time to the floor."""
import json
import sys


def main(path):
    rows, floors, gpu = [], {}, "?"
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line.startswith("# gpu:"):
            gpu = line[len("# gpu:"):].strip()
        if not line.startswith("{"):
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "floor_ms" in r:
            floors[r["cfg"]] = r["floor_ms"]
        elif "mode" in r:
            rows.append(r)
    print(f"card: {gpu}")
    print("MFU = (6 N tokens + 6 L d T tokens) / time / 989 TFLOP/s")
    head = ["config", "impl", "ms/step", "tok/s", "MFU", "mem GB", "compile s",
            "vs compile", "vs floor"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for cfg in dict.fromkeys(r["cfg"] for r in rows):
        mine = [r for r in rows if r["cfg"] == cfg]
        ref = next((r for r in mine if r["mode"] == "compile"), None)
        for r in mine:
            vs = f"{r['tok_s'] / ref['tok_s']:.2f}x" if ref else "-"
            fl = f"{r['ms'] / floors[cfg]:.2f}x" if cfg in floors else "-"
            comp = r.get("compile_s", r.get("warm_s", 0))
            print(f"| {cfg} | {r['mode']} | {r['ms']:.1f} | {r['tok_s']:.0f} | "
                  f"{100 * r['mfu']:.1f}% | {r['mem_gb']:.1f} | {comp:.1f} | {vs} | {fl} |")
        if cfg in floors:
            print(f"| {cfg} | floor | {floors[cfg]:.1f} | | | | | | 1.00x |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench-results.jsonl")
