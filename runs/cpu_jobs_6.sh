#!/bin/bash
# Evening of 2026-11-27, after cpu_jobs_5.sh: the reverse-KL ablation with the exploration-aware alignment.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_[45].sh" > /dev/null; do sleep 20; done
set -x
date
gapd-lite experiment --preset cpu-small --arms grpo,grpo+sft,gapd,gapd-prefix,gapd-reverse-kl,gapd-no-explore,gapd-reverse-kl-no-explore,gapd-until-disagreement-no-explore,gapd-small-lambda-no-explore --steps 10 --eval-limit 40
date
