#!/bin/bash
# 2026-12-02 (third session), after cpu_jobs_24: the class-listing SFT adapter on the usual 40 test and 40 dev
# questions (5 turns, as before), then on the whole test split (686 questions, the default 8 turns: 17% of the
# i.i.d. gold sequences need more than 5), then the rollout benchmark with it.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f cpu_jobs_24.sh > /dev/null; do sleep 10; done
set -x
date
gapd-lite eval --adapter runs/sft-cpu-small-classes/final --split test --limit 40 --max-steps 5 --label "SFT, classes listed" --out results/eval_sft_classes_test.json --quiet
date
gapd-lite eval --adapter runs/sft-cpu-small-classes/final --split dev --limit 40 --max-steps 5 --label "SFT, classes listed (dev)" --out results/eval_sft_classes_dev.json --quiet
date
gapd-lite eval --adapter runs/sft-cpu-small-classes/final --split test --limit 0 --max-steps 8 --label "SFT, classes listed (all test, 8 turns)" --out results/eval_sft_classes_test_all.json --quiet
date
gapd-lite bench rollout --adapter runs/sft-cpu-small-classes/final --rollout-repeat 2 --out benchmarks/results/bench_rollout_sft_classes.json
date
