#!/bin/bash
# 2026-12-02 (second session), last half hour: a second RL seed for GRPO and GAPD from the same warm start as
# results/exp-v4 (seed 0's runs and evaluations are read back, not retrained).
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
gapd-lite experiment --preset cpu-small --arms grpo,gapd --seeds 0,1 --steps 10 --eval-limit 40 \
    --runs-dir runs/exp-v4 --results-dir results/exp-v4-seeds
date
