#!/usr/bin/env bash
# One GPU session, one call of under 10 minutes: unpack what a machine without network lacks (where staged), then
# `benchmarks/gpu_check.sh` (CUDA tests, `bench gpu`, gpu-small SFT → evaluation, GRPO vs GAPD × 2 seeds). What it
# printed and wrote goes to $OUT.
#
# Usage, from the repository root on a machine with CUDA, torch, bitsandbytes and gapd-lite's dependencies:
#   OUT=/tmp/gpu-session bash benchmarks/device_session.sh
# Knobs (environment): those of gpu_check.sh (DEADLINE SFT_MIN RL_MIN RL_UPDATES EVAL SEEDS SHAPES).
# On the lent device of the development machine the model file and wheels arrive in two pieces (.dev/p1 in an
# earlier call, kept in /tmp/stage; .dev/p2 with this one); elsewhere that step is skipped.
#
# Ran once, 2026-11-27, H100 80GB (figures: results/README.md, history): the CUDA tests passed; `bench gpu` hung in
# its static-cache probe (now opt-in); the QLoRA SFT trained but its greedy evaluation wrote valid actions in
# only 4% of turns: the merged generator was built on the original weights, not on the NF4 base the adapter was
# trained on (fixed: models.MergedGenerator copies the dequantized NF4 weights); one gpu-small RL update took ~1 min
# (rollouts of 64 episodes ~40 s), so gpu_check.sh plans a few updates per run.
set -u
OUT=${OUT:-/tmp/gpu-session}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY=${PY:-python3}
START=$(date +%s)
say() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$OUT/session.log"; }

if [ -f .dev/p2/stagepart.01 ] && [ -f /tmp/stage/stagepart.00 ]; then
  cat /tmp/stage/stagepart.00 .dev/p2/stagepart.01 > /tmp/stage.tar.xz
  echo "$(cat .dev/p2/sha256)  /tmp/stage.tar.xz" | sha256sum -c - >> "$OUT/session.log" 2>&1 || { say "staged archive corrupt"; exit 3; }
  "$PY" -c "import tarfile; tarfile.open('/tmp/stage.tar.xz').extractall('/tmp')" || { say "extract failed"; exit 3; }
  export PYTHONPATH=/tmp/site:$PWD
  if ! "$PY" -c "import transformers, peft, bitsandbytes, pyoxigraph" >> "$OUT/session.log" 2>&1; then
    say "the staged transformers/regex do not import here: falling back to the image's own"
    mkdir -p /tmp/site_off && mv /tmp/site/transformers* /tmp/site/regex* /tmp/site_off/
  fi
  say "staged wheels and model file unpacked into /tmp/site"
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
say "gpu_check.sh"
PY="$PY" bash benchmarks/gpu_check.sh > "$OUT/gpu_check.out" 2>&1
say "gpu_check.sh exit $?"
tar czf "$OUT/gpu_check.tgz" benchmarks/results/bench_gpu.json benchmarks/results/gpu_check.json \
  benchmarks/results/gpu_check.log benchmarks/results/gpu-small runs/gpu-check/*.log runs/sft-gpu-small/log.jsonl \
  runs/gpu-check/exp-gpu-small-*/log.jsonl 2>/dev/null
say "done"
