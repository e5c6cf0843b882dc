#!/bin/bash
# 2026-12-02 (third session), after cpu_jobs_25: the previous adapter (ranked relation lists, no classes) in the
# environment it was trained for (no class lists, empty answers allowed), on 160 test questions with 8 turns: the
# same questions are in the whole-test run of the new adapter, which gives the like-for-like comparison.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f cpu_jobs_25.sh > /dev/null; do sleep 10; done
set -x
date
gapd-lite eval --adapter runs/sft-cpu-small-ranked/final --split test --limit 160 --max-steps 8 --env max_classes=0 --env allow_empty_answer=true --label "SFT, ranked relations, no classes (160, 8 turns)" --out results/eval_sft_ranked_test160_8turns.json --quiet
date
