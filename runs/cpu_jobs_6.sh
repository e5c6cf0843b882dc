#!/bin/bash
# Evening of 2026-11-27, after cpu_jobs_4/5: the test suite, then the reverse-KL ablation and GAPD on the SFT
# anchor with the exploration-aware alignment, then an SFT warm start at a higher learning rate.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_[45].sh" > /dev/null; do sleep 20; done
set -x
date
python -m pytest -n 2 -q -p no:cacheprovider > runs/test_suite_evening.log 2>&1; tail -3 runs/test_suite_evening.log
date
ARMS=grpo,grpo+sft,gapd,gapd-prefix,gapd-reverse-kl,gapd+sft,gapd-no-explore,gapd-reverse-kl-no-explore,gapd-until-disagreement-no-explore,gapd-small-lambda-no-explore
gapd-lite experiment --preset cpu-small --arms $ARMS --steps 10 --eval-limit 40
date
gapd-lite train --method sft --preset cpu-small --lr 1e-3 --steps 80 --max-minutes 29 --out runs/sft-cpu-small-lr1e-3 --quiet
date
gapd-lite eval --adapter runs/sft-cpu-small-lr1e-3/final --split test --limit 40 --max-steps 5 --max-new-tokens 64 \
    --label "sft lr 1e-3" --out results/eval_sft_cpu_small_lr1e-3_test.json --quiet
date
