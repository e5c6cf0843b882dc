#!/bin/bash
# Evening of 2026-11-27, after cpu_jobs_6.sh: the rollout benchmark with a static (preallocated) KV cache.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_[456].sh" > /dev/null; do sleep 20; done
set -x
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --static-cache --out benchmarks/results/bench_rollout_sft_static_cache.json
date
