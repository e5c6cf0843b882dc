#!/bin/bash
# Night of 2026-11-27, after cpu_jobs_10.sh: decode-step cost of the growing vs the concatenating KV cache; then the
# new cpu-small SFT preset (lr 1e-3, 96 updates, one dialogue at a time) and its test/dev scores. The previous
# preset's run (lr 3e-4, 64 updates) is kept in runs/sft-cpu-small-lr3e-4.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_10.sh" > /dev/null; do sleep 5; done
set -x
date
python runs/notes/kv_cache_micro.py 2>&1 | grep -v "Warn\|GGUF\|Loading"
date
[ -d runs/sft-cpu-small-lr3e-4 ] || mv runs/sft-cpu-small runs/sft-cpu-small-lr3e-4
gapd-lite train --method sft --preset cpu-small
date
gapd-lite eval --adapter runs/sft-cpu-small/final --split test --limit 40 --max-steps 5 --max-new-tokens 64 --label sft-cpu-small --out results/eval_sft_cpu_small_test.json
date
gapd-lite eval --adapter runs/sft-cpu-small/final --split dev --limit 40 --max-steps 5 --max-new-tokens 64 --label sft-cpu-small --out results/eval_sft_cpu_small_dev.json
date
