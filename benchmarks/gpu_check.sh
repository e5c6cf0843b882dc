#!/usr/bin/env bash
# One GPU check, nothing downloaded: QLoRA peak memory and update/generation speed for the embedded model and
# Qwen2.5-shaped 0.5B/1.5B/3B models (random weights). Writes benchmarks/results/bench_gpu.json.
# Usage (from the repository root, in an environment with torch+CUDA, bitsandbytes and gapd-lite installed):
#   bash benchmarks/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: this check needs a GPU')"
"$PY" -m pytest -q -m cuda tests/test_models_cuda.py
"$PY" -m gapd_lite.cli bench gpu --out benchmarks/results/bench_gpu.json
