#!/bin/bash
# 2026-12-02 (second session): the env now lists relations ranked by overlap with the question
# (EnvConfig.rank_relations, env/relevance.py). Retrain the cpu-small SFT preset on the re-rendered gold dialogues
# and score it on the same 40 test and dev questions as before.
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
gapd-lite train --method sft --preset cpu-small --out runs/sft-cpu-small-ranked
date
gapd-lite eval --adapter runs/sft-cpu-small-ranked/final --split test --limit 40 --max-steps 5 --label "SFT, ranked relations" --out results/eval_sft_ranked_test.json
date
gapd-lite eval --adapter runs/sft-cpu-small-ranked/final --split dev --limit 40 --max-steps 5 --label "SFT, ranked relations" --out results/eval_sft_ranked_dev.json
date
