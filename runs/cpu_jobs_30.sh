#!/bin/bash
# 2026-12-03 (sixth session): the cpu-small preset with the shared system prompt run once per update and no
# LoRA dropout (max_minutes=28.5), then scored on the whole test split (8 turns). Nothing else runs alongside.
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
/usr/bin/time -v gapd-lite train --method sft --preset cpu-small --out runs/sft-cpu-small-fast 2>&1 | grep -v "it/s\]" | tail -40
date
gapd-lite eval --adapter runs/sft-cpu-small-fast/final --split test --limit 0 --max-steps 8 --label "SFT cpu-small preset, shared prompt, no dropout (all test, 8 turns)" --out results/eval_sft_fast_test_all.json --quiet
date
