#!/usr/bin/env bash
# One GPU check in ≤ 8 minutes, nothing downloaded:
#   1. the CUDA tests (QLoRA on the embedded model, batched bf16 rollouts, the merged generator);
#   2. `gapd-lite bench gpu`: QLoRA peak memory and update/generation speed, embedded model + Qwen2.5 shapes;
#   3. the gpu-small SFT warm start (QLoRA) → greedy evaluation from the merged generator, valid format and F1
#      next to the CPU preset's;
#   4. GRPO vs GAPD from that warm start, 2 seeds each, side by side on the GPU, a few updates under a time budget.
# Writes benchmarks/results/bench_gpu.json, benchmarks/results/gpu-small/ (experiment JSON/markdown, per-arm
# evaluations), benchmarks/results/gpu_check.json (the summary) and benchmarks/results/gpu_check.log.
#
# Usage, from the repository root on a machine with CUDA, torch, bitsandbytes and gapd-lite installed:
#   bash benchmarks/gpu_check.sh
# Knobs (environment): PY, DEADLINE (seconds, default 470), SFT_MIN, RL_MIN, RL_UPDATES, EVAL, SEEDS, SHAPES, RUNS.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY=${PY:-python}
DEADLINE=${DEADLINE:-470}
SFT_MIN=${SFT_MIN:-1.5}
RL_MIN=${RL_MIN:-1.0}
RL_UPDATES=${RL_UPDATES:-4}
EVAL=${EVAL:-60}
SEEDS=${SEEDS:-0,1}
SHAPES=${SHAPES:-embedded,qwen2.5-0.5b,qwen2.5-1.5b}
RES=benchmarks/results
EXP=$RES/gpu-small
RUNS=${RUNS:-runs/gpu-check}
LOG=$RES/gpu_check.log
mkdir -p "$EXP" "$RUNS"
: > "$LOG"
START=$(date +%s)
left() { echo $(( DEADLINE - ($(date +%s) - START) )); }
say() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$LOG"; }

"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: this check needs a GPU')" \
  || exit 2
"$PY" - <<'EOF' 2>&1 | tee -a "$LOG"
import importlib, torch
print("torch", torch.__version__, "GPU", torch.cuda.get_device_name(0), "bf16", torch.cuda.is_bf16_supported())
for name in ("transformers", "peft", "bitsandbytes", "accelerate"):
    print(name, importlib.import_module(name).__version__)
EOF

# 1 + 3. the SFT warm start and its evaluation run in the background while the CUDA tests run
say "gpu-small SFT (≤ $SFT_MIN min) → evaluation of $EVAL test questions"
timeout $(( $(left) - 200 )) "$PY" -m gapd_lite.cli experiment --preset gpu-small --arms "" --seed 0 \
  --eval-limit "$EVAL" --sft-minutes "$SFT_MIN" --runs-dir "$RUNS" --results-dir "$EXP" >> "$RUNS/sft.log" 2>&1 &
SFT_PID=$!
say "CUDA tests"
timeout 150 "$PY" -m pytest -q -rs -p no:cacheprovider -m cuda tests/test_models_cuda.py tests/test_gpu_path.py \
  >> "$LOG" 2>&1
say "CUDA tests exit $?"
wait $SFT_PID
say "SFT + evaluation exit $?: $(grep -E 'stopped after|sft' "$RUNS/sft.log" | tail -2 | tr '\n' ' ')"

# 2. bench gpu, alone on the GPU (clean timings); it rewrites its JSON after each shape
say "bench gpu ($SHAPES)"
timeout $(( $(left) > 300 ? 150 : $(left) - 150 )) "$PY" -m gapd_lite.cli bench gpu --shapes "$SHAPES" --gen-tokens 32 \
  --out "$RES/bench_gpu.json" > "$RUNS/bench_gpu.log" 2>&1
say "bench gpu exit $?"

# 4. GRPO vs GAPD, every seed side by side, each with a time budget that ends before the deadline
RL=$("$PY" -c "print(round(min($RL_MIN, max(0.3, ($(left) - 90) / 60 - 0.75)), 2))")
say "GRPO vs GAPD: seeds $SEEDS, ≤ $RL_UPDATES updates and ≤ $RL min each, then evaluated"
PIDS=()
for arm in grpo gapd; do
  for seed in ${SEEDS//,/ }; do
    timeout $(( $(left) - 20 )) "$PY" -m gapd_lite.cli experiment --preset gpu-small --arms "$arm" --seeds "$seed" \
      --num-updates "$RL_UPDATES" --rl-minutes "$RL" --eval-limit "$EVAL" --runs-dir "$RUNS" --results-dir "$EXP" \
      > "$RUNS/rl_${arm}_s${seed}.log" 2>&1 &
    PIDS+=($!)
  done
done
for p in "${PIDS[@]}"; do wait "$p"; say "run $p exit $?"; done
timeout 60 "$PY" -m gapd_lite.cli experiment --preset gpu-small --arms grpo,gapd --seeds "$SEEDS" --eval-limit "$EVAL" \
  --runs-dir "$RUNS" --results-dir "$EXP" --no-train >> "$LOG" 2>&1
say "collect exit $?"

# the summary: the GPU warm start next to the CPU preset's, the arms, bench gpu's peaks
"$PY" - "$EXP" "$RES" <<'EOF' 2>&1 | tee -a "$LOG"
import json, sys
from pathlib import Path
exp, res = Path(sys.argv[1]), Path(sys.argv[2])
def read(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
def scores(report):
    o = (report or {}).get("overall") or {}
    return {k: o.get(k) for k in ("n", "f1", "valid_format", "answered")} if o else None
summary = {
    "gpu_sft": scores(read(exp / "exp_gpu-small_sft.json")),
    "cpu_sft (results/eval_sft_test.json)": scores(read("results/eval_sft_test.json")),
    "arms": {name: {"f1": arm["overall"].get("f1"), "valid_format": arm["overall"].get("valid_format"),
                    "seeds": {s: v["overall"].get("f1") for s, v in arm.get("seeds", {}).items()}}
             for name, arm in ((read(exp / "experiment_gpu-small.json") or {}).get("arms") or {}).items()},
    "bench_gpu_peaks_gb": {r["shape"]: r.get("peak_gb", r.get("error")) for r in (read(res / "bench_gpu.json") or {}).get("updates", [])},
}
(res / "gpu_check.json").write_text(json.dumps(summary, indent=1) + "\n")
print(json.dumps(summary, indent=1))
EOF
cat "$EXP/experiment_gpu-small.md" >> "$LOG" 2>/dev/null
for f in "$RUNS"/*.log; do echo "== $f (tail)"; tail -5 "$f"; done >> "$LOG" 2>&1
say "done"
