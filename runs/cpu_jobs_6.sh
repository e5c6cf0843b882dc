#!/bin/bash
# Evening of 2026-11-27, after cpu_jobs_4/5: the test suite, then the reverse-KL ablation and GAPD on the SFT
# anchor with the exploration-aware alignment.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_[45].sh" > /dev/null; do sleep 20; done
set -x
date
python -m pytest -n 2 -q -p no:cacheprovider > runs/test_suite_evening.log 2>&1; tail -3 runs/test_suite_evening.log
date
ARMS=grpo,grpo+sft,gapd,gapd-prefix,gapd-reverse-kl,gapd+sft,gapd-no-explore,gapd-reverse-kl-no-explore,gapd-until-disagreement-no-explore,gapd-small-lambda-no-explore
gapd-lite experiment --preset cpu-small --arms $ARMS --steps 10 --eval-limit 40
date
# (the SFT run at a higher learning rate moved to cpu_jobs_7.sh, after the rollout benchmarks)
