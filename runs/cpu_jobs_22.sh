#!/bin/bash
# 2026-12-02 (second session), after cpu_jobs_21: GAPD/GRPO update time with the batched teacher, the zero-shot
# model in the ranked-list env at the 96-token budget, and decode-step micro-measurements for the rollout question.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f cpu_jobs_21.sh > /dev/null; do sleep 10; done
set -x
date
gapd-lite bench step --out benchmarks/results/bench_step.json
date
gapd-lite eval --split test --limit 40 --max-steps 5 --label "zero-shot" --out results/eval_zero_shot_test.json
date
python runs/notes/decode_step_micro.py runs/sft-cpu-small-ranked/final
date
