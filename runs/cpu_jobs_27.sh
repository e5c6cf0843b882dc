#!/bin/bash
# 2026-12-02 (fourth session): SFT with function questions twice and a get_attributes look before
# argmax/argmin/comparisons/time filters; then the whole test split (8 turns) and 40 dev questions (5 turns).
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
/usr/bin/time -v gapd-lite train --method sft --preset cpu-small --out runs/sft-cpu-small-functions 2>&1 | grep -v "it/s\]" | tail -40
date
gapd-lite eval --adapter runs/sft-cpu-small-functions/final --split test --limit 0 --max-steps 8 --label "SFT, functions x2 + attribute looks (all test, 8 turns)" --out results/eval_sft_functions_test_all.json --quiet
date
gapd-lite eval --adapter runs/sft-cpu-small-functions/final --split dev --limit 40 --max-steps 5 --label "SFT, functions x2 + attribute looks (dev)" --out results/eval_sft_functions_dev.json --quiet
date
