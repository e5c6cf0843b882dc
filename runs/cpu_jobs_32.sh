#!/bin/bash
# 2026-12-03 (sixth session): the sixth-session preset adapter on 40 dev questions (5 turns), as earlier adapters.
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
gapd-lite eval --adapter runs/sft-cpu-small-fast/final --split dev --limit 40 --max-steps 5 --label "SFT cpu-small preset, shared prompt, no dropout (dev)" --out results/eval_sft_fast_dev.json --quiet
date
