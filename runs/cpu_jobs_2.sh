#!/usr/bin/env bash
# the cpu-small ablations, after cpu_jobs_1 (one torch job at a time on the 2 cores)
while kill -0 14457 2>/dev/null; do sleep 10; done
set -x
.venv/bin/gapd-lite experiment --preset cpu-small --arms grpo,gapd,gapd-reverse-kl,grpo+sft --steps 10 --eval-limit 40
