#!/bin/bash
# Night of 2026-11-27, after cpu_jobs_13.sh: zero-shot rollout benchmark with whole-turn decoding, to compare with
# the chunked default of cpu_jobs_13.sh on the same machine.
cd "$(dirname "$0")/.." && source .venv/bin/activate
while pgrep -f "cpu_jobs_13.sh" > /dev/null; do sleep 5; done
set -x
date
gapd-lite bench rollout --rollout-repeat 2 --decode-chunk 0 --out benchmarks/results/bench_rollout_whole_turns.json
date
