#!/bin/bash
# Evening of 2026-11-27, after cpu_jobs_6.sh: GAPD on top of the SFT anchor (does the dense guidance add to grpo+sft?).
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_[456].sh" > /dev/null; do sleep 20; done
set -x
date
gapd-lite experiment --preset cpu-small --arms grpo,grpo+sft,gapd,gapd+sft,gapd-prefix,gapd-reverse-kl,gapd-no-explore,gapd-reverse-kl-no-explore,gapd-until-disagreement-no-explore,gapd-small-lambda-no-explore --steps 10 --eval-limit 40
date
