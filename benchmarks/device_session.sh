#!/usr/bin/env bash
# One GPU session, one call of under 10 minutes: the CUDA tests, `gapd-lite bench gpu`, and the gpu-small
# experiment (SFT warm start → every arm × every seed, the runs side by side on one GPU, each with a time
# budget) → results collected into one table. What it printed and wrote goes to $OUT.
#
# Usage, from the repository root on a machine with CUDA, torch, bitsandbytes and gapd-lite's dependencies:
#   OUT=/tmp/gpu-session bash benchmarks/device_session.sh
# Knobs (environment): PRESET ARMS SEEDS STEPS EVAL SFT_MIN RL_MIN DEADLINE (seconds for the whole script).
# On the lent device of the development machine the model file and wheels arrive in two pieces (.dev/p1 in an
# earlier call, kept in /tmp/stage; .dev/p2 with this one); elsewhere that step is skipped.
#
# Ran once, 2026-11-27, H100 80GB (figures: results/README.md, history): the CUDA tests passed; `bench gpu` hung in
# its static-cache probe (now opt-in); the QLoRA SFT trained but its greedy evaluation wrote valid actions in
# only 4% of turns (unexplained; evaluation reports now keep transcripts); one gpu-small RL update took ~1 min
# (rollouts of 64 episodes ~40 s), so the defaults below plan a few updates per run, not 12.
set -u
OUT=${OUT:-/tmp/gpu-session}
LOGS=${LOGS:-/tmp/gpu-session-logs}  # per-job logs travel inside experiment.tgz
mkdir -p "$OUT" "$LOGS"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY=${PY:-python3}
PRESET=${PRESET:-gpu-small}
ARMS=${ARMS:-grpo,gapd,gapd-until-disagreement}
SEEDS=${SEEDS:-0,1}
STEPS=${STEPS:-4}
EVAL=${EVAL:-120}
SFT_MIN=${SFT_MIN:-1.5}
RL_MIN=${RL_MIN:-3.5}
DEADLINE=${DEADLINE:-565}
RES=${RES:-results/device}
START=$(date +%s)
left() { echo $(( DEADLINE - ($(date +%s) - START) )); }
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
"$PY" - <<'EOF' 2>&1 | tee -a "$OUT/session.log"
import importlib, torch
print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
for name in ("transformers", "peft", "accelerate", "bitsandbytes", "gguf"):
    try:
        print(name, importlib.import_module(name).__version__)
    except Exception as exc:
        print(name, "MISSING", type(exc).__name__, str(exc)[:200])
EOF
CUDA=$("$PY" -c "import torch; print(int(torch.cuda.is_available()))")
mkdir -p "$RES"

# 1. SFT warm start (+ its evaluation) in the background while the CUDA tests run
say "SFT warm start ($PRESET, ≤ $SFT_MIN min) started"
timeout $(( $(left) - 60 )) "$PY" -m gapd_lite.cli experiment --preset "$PRESET" --arms "" --seed 0 \
  --eval-limit "$EVAL" --sft-minutes "$SFT_MIN" --results-dir "$RES" > "$LOGS/sft.log" 2>&1 &
SFT_PID=$!

# 2. the CUDA tests
if [ "$CUDA" = 1 ]; then
  say "CUDA tests"
  timeout 150 "$PY" -m pytest -q -rs -m cuda tests/test_models_cuda.py tests/test_gpu_path.py -s \
    > "$OUT/cuda_tests.txt" 2>&1
  say "CUDA tests exit $?: $(tail -1 "$OUT/cuda_tests.txt")"
fi

# 3. SFT must be done before the RL arms start from it; `bench gpu` waits for it too (clean timings)
wait $SFT_PID
say "SFT exit $?: $(grep -E 'stopped after|\| sft' "$LOGS/sft.log" | tr '\n' ' ')"
if [ "$CUDA" = 1 ]; then
  say "bench gpu"
  timeout 170 "$PY" -m gapd_lite.cli bench gpu --gen-tokens 64 --out "$OUT/bench_gpu.json" > "$LOGS/bench_gpu.log" 2>&1
  say "bench gpu exit $?"
fi

# 4. every arm × seed side by side, each with a time budget that ends before the deadline
RL_MIN=$("$PY" -c "print(min($RL_MIN, max(0.5, ($(left) - 120) / 60)))")
say "RL runs: arms $ARMS, seeds $SEEDS, ≤ $STEPS updates and ≤ $RL_MIN min each"
PIDS=()
for arm in ${ARMS//,/ }; do
  for seed in ${SEEDS//,/ }; do
    OMP_NUM_THREADS=1 timeout $(( $(left) - 15 )) "$PY" -m gapd_lite.cli experiment --preset "$PRESET" \
      --arms "$arm" --seeds "$seed" --steps "$STEPS" --rl-minutes "$RL_MIN" --eval-limit "$EVAL" \
      --results-dir "$RES" > "$LOGS/rl_${arm}_s${seed}.log" 2>&1 &
    PIDS+=($!)
  done
done
for p in "${PIDS[@]}"; do wait "$p"; say "run $p exit $?"; done

# 5. one table over every run that finished
"$PY" -m gapd_lite.cli experiment --preset "$PRESET" --arms "$ARMS" --seeds "$SEEDS" --eval-limit "$EVAL" \
  --results-dir "$RES" --no-train > "$LOGS/collect.log" 2>&1
say "collect exit $?"
cat "$RES/experiment_$PRESET.md" >> "$OUT/session.log" 2>/dev/null
tar czf "$OUT/experiment.tgz" "$RES" runs/sft-$PRESET/log.jsonl runs/exp-$PRESET-*/log.jsonl runs/exp-$PRESET-*/config.json \
  "$LOGS" 2>/dev/null
say "done"
