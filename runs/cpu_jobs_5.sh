#!/bin/bash
# Evening of 2026-11-27, after cpu_jobs_4.sh: the rollout benchmark with and without ragged prefill (SFT adapter).
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f cpu_jobs_4.sh > /dev/null; do sleep 20; done
set -x
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --out benchmarks/results/bench_rollout_sft.json
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --no-ragged-prefill --out benchmarks/results/bench_rollout_sft_padded_prefill.json
date
gapd-lite bench rollout --out benchmarks/results/bench_rollout.json
date
