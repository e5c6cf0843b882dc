#!/bin/bash
# Evening of 2026-11-27: GAPD arms with the exploration-aware gold alignment (RLSettings.explore=True).
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
gapd-lite experiment --preset cpu-small --arms grpo,grpo+sft,gapd,gapd-no-explore --steps 10 --eval-limit 40
date
gapd-lite experiment --preset cpu-small --arms grpo,grpo+sft,gapd,gapd-no-explore,gapd-prefix --steps 10 --eval-limit 40
date
