#!/bin/bash
# Evening of 2026-11-27, once the experiment of cpu_jobs_6.sh is done: the rollout benchmarks with a static
# (preallocated) KV cache, the zero-shot one again (its run in cpu_jobs_5.sh shared the CPU with a profiling
# script: not a clean figure), then the SFT warm start at a higher learning rate (moved here from cpu_jobs_6.sh).
# The SFT run was stopped after 4 updates: it shared the CPU with the test suite (100 s per update instead of 20)
# and could not finish inside the session; the zero-shot static-cache figure shared the CPU with a test run too.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "gapd-lite experiment" > /dev/null; do sleep 20; done
set -x
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --static-cache --out benchmarks/results/bench_rollout_sft_static_cache.json
date
gapd-lite bench rollout --out benchmarks/results/bench_rollout.json
date
gapd-lite bench rollout --static-cache --out benchmarks/results/bench_rollout_static_cache.json
date
gapd-lite train --method sft --preset cpu-small --lr 1e-3 --steps 64 --max-minutes 29 --out runs/sft-cpu-small-lr1e-3 --quiet
date
gapd-lite eval --adapter runs/sft-cpu-small-lr1e-3/final --split test --limit 40 --max-steps 5 --max-new-tokens 64 \
    --label "sft lr 1e-3" --out results/eval_sft_cpu_small_lr1e-3_test.json --quiet
date
