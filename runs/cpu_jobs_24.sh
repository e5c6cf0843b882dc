#!/bin/bash
# 2026-12-02 third session: SFT with class lists in observations, then eval on test (160) and dev (40)
cd /work/main && source .venv/bin/activate
set -x
date
/usr/bin/time -v gapd-lite train --method sft --preset cpu-small --out runs/sft-cpu-small-classes 2>&1 | grep -v "it/s\]" | tail -40
date
