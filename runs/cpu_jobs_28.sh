#!/bin/bash
# 2026-12-02 (fourth session, last half hour): the cpu-small preset as it now stands (28.5-min budget)
cd "$(dirname "$0")/.." && source .venv/bin/activate
set -x
date
/usr/bin/time -v gapd-lite train --method sft --preset cpu-small --out runs/sft-cpu-small-budget 2>&1 | grep -v "it/s\]" | tail -40
date
