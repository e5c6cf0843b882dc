"""Seconds per SFT update of the cpu-small preset's shape (4 real training dialogues, embedded model, unpadded),
with and without the shared system prompt run once and with and without LoRA dropout. Prints JSON.

python runs/notes/sft_update_speed.py > benchmarks/results/sft_update_speed.json
"""
import json
import random
import time

import torch

from gapd_lite.bench import machine
from gapd_lite.data import load_split
from gapd_lite.kb import open_kb
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.training import sft

qs = load_split("train")
random.Random(0).shuffle(qs)
kb = open_kb("memory")
out = {"machine": machine(), "updates_each": 3, "batch": 4, "seconds_per_update": {}}
for dropout in (0.05, 0.0):
    torch.manual_seed(0)
    policy = load_policy(ModelConfig(lora_dropout=dropout))
    policy.model.train()
    examples = sft.build_examples(qs[:24], kb, policy.tokenizer, max_len=1400, progress=False)
    pad = policy.tokenizer.pad_token_id
    loss, _ = sft.sft_loss(policy.model, examples[20:24], pad, unpadded=True)  # warm-up
    loss.backward()
    for shared in (False, True):
        sft.MIN_SHARED = 16 if shared else 10**9
        t = time.perf_counter()
        for b in range(3):
            loss, _ = sft.sft_loss(policy.model, examples[4 * b: 4 * b + 4], pad, unpadded=True)
            loss.backward()
        key = f"dropout={dropout} shared_prompt={shared}"
        out["seconds_per_update"][key] = round((time.perf_counter() - t) / 3, 2)
    out["prompt_tokens_shared"] = sft.shared_prefix(examples[:4])
    out["mean_dialogue_tokens"] = round(sum(len(e.ids) for e in examples[:12]) / 12, 1)
print(json.dumps(out, indent=1))
