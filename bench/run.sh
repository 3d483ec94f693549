#!/usr/bin/env bash
# Times tele's training step next to PyTorch on the same GPU, in one run:
#   tele bench plans/bench/<cfg>.yaml        (this repo's build)
#   bench/torch_peer.py <cfg>   eager and torch.compile (the peer)
#   bench/floor.py <cfg>        every GEMM + flash attention alone (the floor)
# and prints one table (bench/table.py). Run from the repository root:
#   bench/run.sh [RESULTS.jsonl]
# The peer and the floor read each config's shapes from plans/bench/<cfg>.yaml,
# the same file tele benches. Environment: TELE (the tele binary, default
# build/bin/tele), CONFIGS (default "flm-tiny flm-1b"), STEPS (timed steps,
# default 20).
set -u
TELE=${TELE:-build/bin/tele}
HERE=$(dirname "$0")
CONFIGS=${CONFIGS:-flm-tiny flm-1b}
STEPS=${STEPS:-20}
RESULTS=${1:-bench-results.jsonl}
: > "$RESULTS"
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader | sed 's/^/# gpu: /' | tee -a "$RESULTS"
for cfg in $CONFIGS; do
  "$TELE" bench "plans/bench/$cfg.yaml" --steps "$STEPS" 2>&1 | tee -a "$RESULTS"
done
# shellcheck disable=SC2086
PYTHONUNBUFFERED=1 python3 "$HERE/torch_peer.py" $CONFIGS --steps "$STEPS" 2>&1 | tee -a "$RESULTS"
PYTHONUNBUFFERED=1 python3 "$HERE/floor.py" $CONFIGS 2>&1 | tee -a "$RESULTS"
python3 "$HERE/table.py" "$RESULTS"
