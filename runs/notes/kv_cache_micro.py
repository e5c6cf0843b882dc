"""Decode-step cost at batch 8 / ctx 800 vs batch 1: DynamicCache (cat per step) vs a growing buffer."""
import time, torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer
from gapd_lite.models import ModelConfig, load_policy, base_model
from gapd_lite.agent.kv_cache import GrowingLayer as Grow
torch.manual_seed(0)

pol = load_policy(ModelConfig(name="embedded")); pol.load_adapter("runs/sft-cpu-small/final")
model = pol.model; model.eval()
dec = base_model(model)
torch.set_grad_enabled(False)
for B in (8, 1):
    ctx = 800
    ids = torch.randint(0, 40000, (B, ctx))
    out = model(input_ids=ids, use_cache=True)
    layers = [(l.keys, l.values) for l in out.past_key_values.layers]
    for kind in ("dynamic", "grow"):
        cache = DynamicCache(ddp_cache_data=layers) if kind == "dynamic" else DynamicCache()
        if kind == "grow":
            cache.layers = [Grow(64) for _ in layers]
            for L, (k, v) in zip(cache.layers, layers): L.update(k, v)
        tok = torch.randint(0, 40000, (B, 1)); attn = torch.ones(B, ctx, dtype=torch.long)
        ts = []
        for s in range(30):
            attn = torch.cat([attn, torch.ones(B, 1, dtype=torch.long)], 1)
            t0 = time.perf_counter()
            o = model(input_ids=tok, attention_mask=attn, past_key_values=cache, use_cache=True)
            ts.append(time.perf_counter() - t0)
            tok = o.logits[:, -1:].argmax(-1)
        ts = sorted(ts[5:])
        print(B, kind, "median ms", round(1e3 * ts[len(ts)//2], 1))
    t0 = time.perf_counter()
    for _ in range(10):
        [torch.cat([k, k[:, :, :1]], dim=-2) for k, v in layers for _ in (0, 1)]
    print(B, "cat of whole cache ms", round(1e3*(time.perf_counter()-t0)/10, 1))
