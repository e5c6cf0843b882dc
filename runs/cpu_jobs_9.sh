#!/bin/bash
# Session of 2026-11-27 (night): SFT at a higher learning rate (the 0.125 i.i.d. F1 of the cpu-small preset was
# limited by under-fitting the relation/class tokens), then its test score on the same 40 questions.
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
gapd-lite train --method sft --preset cpu-small --lr 1e-3 --out runs/sft-cpu-small-lr1e-3
date
gapd-lite eval --adapter runs/sft-cpu-small-lr1e-3/final --split test --limit 40 --max-steps 5 --max-new-tokens 64 --label sft-lr1e-3 --out runs/eval_sft_lr1e-3_test.json
date
