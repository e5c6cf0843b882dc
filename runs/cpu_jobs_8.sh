#!/bin/bash
# Evening of 2026-11-27, after cpu_jobs_7.sh: the zero-shot rollout benchmark again, now that ragged prefill
# applies only where padding would waste > 32 tokens per episode (the zero-shot run in cpu_jobs_7.sh was slower
# batched with ragged prefill everywhere: 23.1 s vs 18.6-19.6 s before).
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_7.sh|pytest" > /dev/null; do sleep 10; done
set -x
date
gapd-lite bench rollout --out benchmarks/results/bench_rollout.json
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --out benchmarks/results/bench_rollout_sft.json
date
