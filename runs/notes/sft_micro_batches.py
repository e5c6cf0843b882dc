"""One SFT update's forward+backward: 4 dialogues right-padded in one batch vs one dialogue at a time."""
import time, torch
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.training.sft import build_examples, sft_loss
from gapd_lite.data import load_split
from gapd_lite.kb import open_kb
pol = load_policy(ModelConfig(name="embedded")); pol.model.train()
ex = build_examples(load_split("train")[:40], open_kb("memory"), pol.tokenizer, max_len=1100, progress=False)
pad = pol.tokenizer.pad_token_id
batches = [ex[i:i+4] for i in range(0, 24, 4)]
print("lens", [[len(e.ids) for e in b] for b in batches])
def padded(b):
    loss, n = sft_loss(pol.model, b, pad); loss.backward()
def single(b):
    for e in b:
        loss, n = sft_loss(pol.model, [e], pad); (loss / len(b)).backward()
for name, fn in (("padded", padded), ("single", single), ("padded", padded), ("single", single)):
    t0 = time.perf_counter()
    for b in batches: fn(b)
    print(name, round((time.perf_counter() - t0) / len(batches), 2), "s per update")
