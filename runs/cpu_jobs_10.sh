#!/bin/bash
# Night of 2026-11-27, after cpu_jobs_9.sh: one SFT update padded vs one dialogue at a time; the rollout benchmark
# with the growing KV cache and chunked decoding (the new defaults), with each of them off, and zero-shot.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_9.sh" > /dev/null; do sleep 5; done
set -x
date
python runs/notes/sft_micro_batches.py 2>&1 | grep -v "Warn\|GGUF\|Loading"
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --out benchmarks/results/bench_rollout_sft.json
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --kv-cache dynamic --decode-chunk 0 --out benchmarks/results/bench_rollout_sft_dynamic_cache_whole_turns.json
date
gapd-lite bench rollout --adapter runs/sft-cpu-small/final --decode-chunk 0 --out benchmarks/results/bench_rollout_sft_whole_turns.json
date
gapd-lite bench rollout --out benchmarks/results/bench_rollout.json
date
