#!/bin/bash
# Night of 2026-11-27: the new cpu-small SFT preset (lr 1e-3, 80 updates; cpu_jobs_11.sh ran it with 96 updates,
# stopped at 23: at ~20 s per update it would have taken 32 min) and its test/dev scores.
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
gapd-lite train --method sft --preset cpu-small
date
gapd-lite eval --adapter runs/sft-cpu-small/final --split test --limit 40 --max-steps 5 --max-new-tokens 64 --label sft-cpu-small --out results/eval_sft_cpu_small_test.json
date
gapd-lite eval --adapter runs/sft-cpu-small/final --split dev --limit 40 --max-steps 5 --max-new-tokens 64 --label sft-cpu-small --out results/eval_sft_cpu_small_dev.json
date
