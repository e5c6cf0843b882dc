#!/bin/bash
# After the experiment (alone on the CPU): zero-shot and SFT evals, then the step and rollout benches.
cd /work/main
G=.venv/bin/gapd-lite
set -x
while pgrep -f "gapd-lite experiment" > /dev/null; do sleep 15; done
date
$G eval --split test --limit 40 --max-steps 5 --max-new-tokens 64 --label "zero-shot" --out results/eval_zero_shot_test.json > runs/eval_zs_test.log 2>&1
date
$G eval --split dev --limit 40 --max-steps 5 --max-new-tokens 64 --adapter runs/sft-cpu-small/final --label "after SFT (cpu-small)" --out results/eval_sft_cpu_small_dev.json > runs/eval_sft_dev.log 2>&1
date
$G eval --split dev --limit 40 --max-steps 5 --max-new-tokens 64 --label "zero-shot" --out results/eval_zero_shot_dev.json > runs/eval_zs_dev.log 2>&1
date
$G bench step --out benchmarks/results/bench_step.json > runs/bench_step.log 2>&1
date
$G bench rollout --adapter runs/sft-cpu-small/final --out benchmarks/results/bench_rollout_sft.json > runs/bench_rollout_sft.log 2>&1
date
echo PIPELINE4 DONE
