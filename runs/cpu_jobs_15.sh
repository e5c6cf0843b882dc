#!/bin/bash
# Night of 2026-11-27: the new SFT preset on the same 40 test questions with the env's default 8-turn budget
# (the table rows use 5 turns; 5 of the 24 i.i.d. questions need 6-8 turns for the gold agent).
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
gapd-lite eval --adapter runs/sft-cpu-small/final --split test --limit 40 --max-steps 8 --max-new-tokens 64 --label sft-cpu-small-8-turns --out results/eval_sft_cpu_small_test_8turns.json
date
