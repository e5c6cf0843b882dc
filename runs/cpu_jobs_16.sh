#!/bin/bash
# 2026-12-02: this checkout has no adapters (git-ignored), so the cpu-small SFT preset is retrained; then the
# evaluation at a per-turn budget that fits every gold turn (96 tokens; the longest gold turn is 81 tokens) and,
# for comparison with the committed figures, at the old 64.
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
gapd-lite train --method sft --preset cpu-small
date
gapd-lite eval --adapter runs/sft-cpu-small/final --split test --limit 40 --max-steps 5 --max-new-tokens 96 --label "after SFT (cpu-small), 96 tokens/turn" --out results/eval_sft_cpu_small_test_96.json
date
gapd-lite eval --adapter runs/sft-cpu-small/final --split dev --limit 40 --max-steps 5 --max-new-tokens 96 --label "after SFT (cpu-small), 96 tokens/turn" --out results/eval_sft_cpu_small_dev_96.json
date
gapd-lite eval --adapter runs/sft-cpu-small/final --split test --limit 40 --max-steps 5 --max-new-tokens 64 --label "after SFT (cpu-small), retrained 2026-12-02, 64 tokens/turn" --out runs/eval_sft_retrained_test_64.json
date
