#!/bin/bash
# Night of 2026-11-27, after cpu_jobs_9.sh: the rollout benchmark with the new growing KV cache (default) and with
# transformers' DynamicCache (the previous behaviour), SFT policy, same machine, one after the other.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_9.sh" > /dev/null; do sleep 5; done
set -x
date
python .dev/micro_sft.py 2>&1 | grep -v "Warn\|GGUF\|Loading"
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --out benchmarks/results/bench_rollout_sft.json
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --kv-cache dynamic --out benchmarks/results/bench_rollout_sft_dynamic_cache.json
date
