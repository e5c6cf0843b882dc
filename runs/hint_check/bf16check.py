import json, torch
from dataclasses import replace
torch.set_num_threads(2)
from peft import get_peft_model_state_dict, set_peft_model_state_dict
from gapd_lite.models import ModelConfig, load_policy, load_base_model, add_lora
from gapd_lite.kb import open_kb
from gapd_lite.data import load_split, sample_questions
from gapd_lite.eval import evaluate
from gapd_lite.agent.rollout import RolloutConfig
from gapd_lite.env.kbqa_env import EnvConfig
kb = open_kb("memory")
qs = sample_questions(load_split("dev"), 12)
p = load_policy(ModelConfig(name="embedded", lora_dropout=0.0))
p.load_adapter("runs/sft-cpu-small/final")
p.model.eval()
rc = RolloutConfig(greedy=True, batch_size=12, max_new_tokens=64, env=EnvConfig(max_steps=5))
out = {}
r = evaluate(p.model, p.tokenizer, kb, qs, rc, progress=False)
out["fp32 policy"] = r.overall; print(out, flush=True)
cfg = replace(p.config, quantize="none", dtype="bfloat16", gradient_checkpointing=False)
m = add_lora(load_base_model(cfg, "cpu"), cfg); m.eval()
set_peft_model_state_dict(m, get_peft_model_state_dict(p.model)); m.merge_adapter()
r = evaluate(m, p.tokenizer, kb, qs, rc, progress=False)
out["bf16 merged"] = r.overall; print(json.dumps(out, indent=1), flush=True)
