#!/bin/bash
# 2026-12-02: the experiment table again, from the retrained SFT warm start and with the 96-token turn budget
# (runs/exp-v3, results/exp-v3; the committed table in results/ stays as the record of the earlier warm start).
# The SFT row is the 96-token test evaluation of runs/cpu_jobs_16.sh: the same 40 questions, greedy, batch 8.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f cpu_jobs_16.sh > /dev/null; do sleep 20; done
set -x
date
mkdir -p results/exp-v3 && cp results/eval_sft_cpu_small_test_96.json results/exp-v3/exp_cpu-small_sft.json
gapd-lite experiment --preset cpu-small --arms grpo,gapd,grpo+sft,gapd-prefix --steps 10 --eval-limit 40 --runs-dir runs/exp-v3 --results-dir results/exp-v3
date
