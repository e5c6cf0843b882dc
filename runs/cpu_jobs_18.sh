#!/bin/bash
# 2026-12-02: batched rollouts in bfloat16 on this CPU (AMX-BF16: a batch-8 decode step costs 1.4x a batch-1 step,
# against 2.3x in float32, runs/notes/bf16_micro.py), next to float32 with the same adapter in the same session;
# then the SFT adapter (trained in float32) evaluated in bfloat16, to see what the precision costs.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f cpu_jobs_17.sh > /dev/null; do sleep 20; done
set -x
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --rollout-repeat 2 --dtype bfloat16 --out benchmarks/results/bench_rollout_sft_bf16.json
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --rollout-repeat 2 --out benchmarks/results/bench_rollout_sft.json
date
gapd-lite bench rollout --rollout-repeat 2 --dtype bfloat16 --out benchmarks/results/bench_rollout_bf16.json
date
gapd-lite eval --adapter runs/sft-cpu-small/final --dtype bfloat16 --split test --limit 40 --max-steps 5 --label "after SFT, bf16" --out results/eval_sft_cpu_small_test_bf16.json
date
