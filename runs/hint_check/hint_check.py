import json, sys, torch
torch.set_num_threads(2)
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.kb import open_kb
from gapd_lite.data import load_split, sample_questions
from gapd_lite.training.hint_check import hint_check
kb = open_kb("memory")
qs = sample_questions(load_split("dev"), 20)
p = load_policy(ModelConfig(name="embedded"))
out = {"zero-shot": hint_check(p, kb, qs).to_json()}
print(out, flush=True)
p.load_adapter("runs/sft-cpu-small/final")
out["sft-cpu-small"] = hint_check(p, kb, qs).to_json()
print(json.dumps(out, indent=1))
