#!/bin/bash
cd /work/main
G=.venv/bin/gapd-lite
set -x
while pgrep -f "gapd-lite experiment" > /dev/null; do sleep 15; done
date
$G bench step --out benchmarks/results/bench_step.json > runs/bench_step.log 2>&1
date
echo PIPELINE5 DONE
