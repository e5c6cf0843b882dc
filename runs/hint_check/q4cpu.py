import torch, copy
from transformers import BitsAndBytesConfig
from gapd_lite.models import ModelConfig, _tiny_weights, add_lora, load_base_model
from peft import get_peft_model_state_dict, set_peft_model_state_dict
cfg = ModelConfig(name="tiny", lora_dropout=0.0)
cls, config, state = _tiny_weights(cfg)
q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16, bnb_4bit_use_double_quant=True)
try:
    m4 = cls.from_pretrained(None, config=copy.deepcopy(config), state_dict={k: v.clone() for k, v in state.items()}, quantization_config=q, dtype=torch.bfloat16, device_map={"": "cpu"})
except Exception as e:
    print("4bit on cpu failed:", type(e).__name__, str(e)[:300]); raise SystemExit
print("4bit:", getattr(m4, "is_loaded_in_4bit", None))
p4 = add_lora(m4, cfg)
with torch.no_grad():
    for n, p in p4.named_parameters():
        if "lora_B" in n: p.normal_(0, 0.05)
sd = get_peft_model_state_dict(p4)
print(len(sd), list(sd)[:3])
c2 = ModelConfig(name="tiny", lora_dropout=0.0, quantize="none", dtype="bfloat16")
m = add_lora(load_base_model(c2, "cpu"), c2)
res = set_peft_model_state_dict(m, sd)
print("unexpected", len(res.unexpected_keys), "missing lora", len([k for k in res.missing_keys if "lora" in k]))
ids = torch.randint(0, 1000, (1, 12))
with torch.no_grad():
    a = p4(input_ids=ids).logits.float(); b = m(input_ids=ids).logits.float()
    m.merge_adapter(); c = m(input_ids=ids).logits.float()
    with p4.disable_adapter(): z = p4(input_ids=ids).logits.float()
print("4bit-lora vs bf16-lora", (a-b).abs().max().item(), "vs merged", (a-c).abs().max().item(), "lora effect", (a-z).abs().max().item())
