#!/bin/bash
# 2026-12-03 (fifth session): the cpu-small preset as it stands (max_minutes=28.5), scored on the whole
# test split (8 turns) and 40 dev questions (5 turns). Nothing else runs alongside (timing).
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
/usr/bin/time -v gapd-lite train --method sft --preset cpu-small --out runs/sft-cpu-small-budget2 2>&1 | grep -v "it/s\]" | tail -40
date
gapd-lite eval --adapter runs/sft-cpu-small-budget2/final --split test --limit 0 --max-steps 8 --label "SFT cpu-small preset, 28.5-min budget (all test, 8 turns)" --out results/eval_sft_budget_test_all.json --quiet
date
gapd-lite eval --adapter runs/sft-cpu-small-budget2/final --split dev --limit 40 --max-steps 5 --label "SFT cpu-small preset, 28.5-min budget (dev)" --out results/eval_sft_budget_dev.json --quiet
date
