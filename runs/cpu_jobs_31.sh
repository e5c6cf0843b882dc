#!/bin/bash
# 2026-12-03 (sixth session): the whole-test evaluation of runs/cpu_jobs_30.sh would not have finished before the
# session's stop (126 min last time on a machine this fast), so it was stopped after 16 min and this scores half
# of the test split (343 questions spread evenly; runs/notes/subset_scores.py gives earlier adapters' scores
# on the same questions from their whole-split reports). Nothing else runs alongside.
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
gapd-lite eval --adapter runs/sft-cpu-small-fast/final --split test --limit 343 --max-steps 8 --label "SFT cpu-small preset, shared prompt, no dropout (343 test, 8 turns)" --out results/eval_sft_fast_test343.json --quiet
date
