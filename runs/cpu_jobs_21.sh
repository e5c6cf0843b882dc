#!/bin/bash
# 2026-12-02 (second session), after cpu_jobs_20: the ranked-relations SFT adapter on 160 test questions (the 40
# of the usual command are among them), the experiment from it, and the rollout benchmark with it.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f cpu_jobs_20.sh > /dev/null; do sleep 10; done
set -x
date
gapd-lite eval --adapter runs/sft-cpu-small-ranked/final --split test --limit 160 --max-steps 5 --label "SFT, ranked relations (160)" --out results/eval_sft_ranked_test160.json
date
mkdir -p runs/sft-cpu-small results/exp-v4
rm -rf runs/sft-cpu-small/final && cp -r runs/sft-cpu-small-ranked/final runs/sft-cpu-small/final
cp results/eval_sft_ranked_test.json results/exp-v4/exp_cpu-small_sft.json
gapd-lite experiment --preset cpu-small --arms grpo,gapd,grpo+sft,gapd-prefix --steps 10 --eval-limit 40 \
    --runs-dir runs/exp-v4 --results-dir results/exp-v4
date
gapd-lite bench rollout --adapter runs/sft-cpu-small-ranked/final --rollout-repeat 2 --out benchmarks/results/bench_rollout_sft_ranked.json
date
