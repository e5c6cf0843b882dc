#!/usr/bin/env bash
# after the ablations: the benchmark suite, the SFT-policy rollout bench, then the until-disagreement arm
while pgrep -f "gapd-lite experiment --preset cpu-small --arms grpo,gapd,gapd-reverse-kl" >/dev/null; do sleep 10; done
set -x
.venv/bin/gapd-lite bench all --out benchmarks/results/all.json > runs/bench_all.log 2>&1
.venv/bin/gapd-lite bench rollout --adapter runs/sft-cpu-small/final --out benchmarks/results/bench_rollout_sft_shared_prefix.json > runs/bench_rollout_sft_shared.log 2>&1
.venv/bin/gapd-lite experiment --preset cpu-small --arms grpo,gapd,gapd-reverse-kl,grpo+sft,gapd-until-disagreement --steps 10 --eval-limit 40 > runs/experiment_until_disagreement.log 2>&1
