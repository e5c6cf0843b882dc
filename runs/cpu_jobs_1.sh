#!/usr/bin/env bash
# CPU jobs of the 2026-11-27 afternoon session (one at a time on the 2 cores)
set -x
.venv/bin/gapd-lite eval --split dev --limit 40 --max-steps 5 --max-new-tokens 64 --label zero-shot --quiet --out results/eval_zero_shot_dev.json
.venv/bin/gapd-lite bench rollout --adapter runs/sft-cpu-small/final --out benchmarks/results/bench_rollout_sft.json
