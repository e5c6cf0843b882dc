"""Forward+backward (SFT-like, LoRA) and batch-1 / batch-8 decode steps: float32 vs bfloat16 base on this CPU."""
import time, torch
from gapd_lite.models import ModelConfig, load_policy
torch.manual_seed(0)
def best(fn, n=3):
    fn(); ts = []
    for _ in range(n):
        s = time.perf_counter(); fn(); ts.append(time.perf_counter() - s)
    return min(ts)
ids = torch.randint(100, 40000, (1, 650))
for dtype in ("float32", "bfloat16"):
    p = load_policy(ModelConfig(dtype=dtype)); m = p.model; m.train()
    def fb():
        out = m(input_ids=ids, labels=ids); out.loss.backward(); m.zero_grad()
    t_fb = best(fb)
    m.eval()
    def decode(b):
        with torch.no_grad():
            out = m(input_ids=ids.repeat(b, 1)[:, :600], use_cache=True)
            pkv = out.past_key_values
            x = ids.repeat(b, 1)[:, 600:601]
            s = time.perf_counter()
            for _ in range(8):
                out = m(input_ids=x, past_key_values=pkv, use_cache=True); pkv = out.past_key_values
            return (time.perf_counter() - s) / 8
    d1 = min(decode(1) for _ in range(2)); d8 = min(decode(8) for _ in range(2))
    print(f"{dtype}: fwd+bwd 650 tok {t_fb:.2f} s | decode step b1 {d1*1e3:.0f} ms b8 {d8*1e3:.0f} ms (b8/b1 {d8/d1:.2f})", flush=True)
