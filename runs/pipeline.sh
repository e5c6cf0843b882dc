#!/bin/bash
# Session pipeline: experiment main arms, evals, bench step, ablations, dev evals, rollout bench with the SFT adapter.
cd /work/main
G=.venv/bin/gapd-lite
set -x
date
$G experiment --preset cpu-small --arms grpo,gapd --eval-limit 80 > runs/experiment.log 2>&1
date
$G eval --split test --limit 120 --max-steps 8 --max-new-tokens 64 --adapter runs/sft-cpu-small/final --label "after SFT (cpu-small)" --out results/eval_sft_cpu_small_test.json > runs/eval_sft_test.log 2>&1
date
$G eval --split test --limit 120 --max-steps 8 --max-new-tokens 64 --label "zero-shot" --out results/eval_zero_shot_test.json > runs/eval_zs_test.log 2>&1
date
$G bench step --out benchmarks/results/bench_step.json > runs/bench_step.log 2>&1
date
$G bench rollout --adapter runs/sft-cpu-small/final --out benchmarks/results/bench_rollout_sft.json > runs/bench_rollout_sft.log 2>&1
date
$G experiment --preset cpu-small --arms grpo,gapd,gapd-prefix,grpo+sft,gapd-reverse-kl --eval-limit 80 >> runs/experiment.log 2>&1
date
$G eval --split dev --limit 120 --max-steps 8 --max-new-tokens 64 --adapter runs/sft-cpu-small/final --label "after SFT (cpu-small)" --out results/eval_sft_cpu_small_dev.json > runs/eval_sft_dev.log 2>&1
date
$G eval --split dev --limit 120 --max-steps 8 --max-new-tokens 64 --label "zero-shot" --out results/eval_zero_shot_dev.json > runs/eval_zs_dev.log 2>&1
date
echo PIPELINE DONE
