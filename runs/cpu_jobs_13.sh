#!/bin/bash
# Night of 2026-11-27, after cpu_jobs_12.sh: the full test suite, then the rollout benchmark with the new SFT
# adapter, each path's best of 2 alternating runs: defaults (growing cache, chunks of 16), whole turns, and the
# previous behaviour (transformers' DynamicCache, whole turns); then zero-shot.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_12.sh" > /dev/null; do sleep 5; done
set -x
date
python -m pytest -n 2 -q -p no:cacheprovider 2>&1 | tail -15
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --rollout-repeat 2 --out benchmarks/results/bench_rollout_sft.json
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --rollout-repeat 2 --decode-chunk 0 --out benchmarks/results/bench_rollout_sft_whole_turns.json
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --rollout-repeat 2 --kv-cache dynamic --decode-chunk 0 --out benchmarks/results/bench_rollout_sft_dynamic_cache_whole_turns.json
date
gapd-lite bench rollout --rollout-repeat 2 --out benchmarks/results/bench_rollout.json
date
