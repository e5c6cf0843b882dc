#!/bin/bash
# 2026-12-02, last half hour: the cpu-small SFT preset in bfloat16 (AMX-BF16 CPU), with the time bf16 saves spent
# on 100 updates instead of 80; then scored in bf16 on the same 40 test questions.
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
gapd-lite train --method sft --preset cpu-small --dtype bfloat16 --steps 100 --out runs/sft-cpu-small-bf16
date
gapd-lite eval --adapter runs/sft-cpu-small-bf16/final --dtype bfloat16 --split test --limit 40 --max-steps 5 --label "SFT in bf16, 100 updates" --out results/eval_sft_bf16_100_test.json
date
