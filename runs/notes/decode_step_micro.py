"""Decode-step time at batch 1 and 8 (600 tokens of context, float32): the LoRA-wrapped SFT policy as rollouts use
it, the same adapter merged into the base weights, and the attention kernel; plus the top ops of a batch-8 step."""
import sys, time, torch
from gapd_lite.models import ModelConfig, load_policy
torch.manual_seed(0)
ids = torch.randint(100, 40000, (8, 601))


def step_ms(m, b, reps=3):
    with torch.no_grad():
        best = float("inf")
        for _ in range(reps):
            out = m(input_ids=ids[:b, :600], use_cache=True)
            pkv, x = out.past_key_values, ids[:b, 600:601]
            s = time.perf_counter()
            for _ in range(8):
                out = m(input_ids=x, past_key_values=pkv, use_cache=True); pkv = out.past_key_values
            best = min(best, (time.perf_counter() - s) / 8)
    return best * 1e3


adapter = sys.argv[1] if len(sys.argv) > 1 else "runs/sft-cpu-small-ranked/final"
for attn in ("sdpa", "eager"):
    p = load_policy(ModelConfig())
    p.model.set_attn_implementation(attn)
    p.load_adapter(adapter); m = p.model.eval()
    b1, b8 = step_ms(m, 1), step_ms(m, 8)
    print(f"{attn} LoRA unmerged: b1 {b1:.0f} ms, b8 {b8:.0f} ms, b8/b1 {b8 / b1:.2f}", flush=True)
    merged = m.merge_and_unload().eval()
    b1, b8 = step_ms(merged, 1), step_ms(merged, 8)
    print(f"{attn} LoRA merged:   b1 {b1:.0f} ms, b8 {b8:.0f} ms, b8/b1 {b8 / b1:.2f}", flush=True)
    if attn == "sdpa":
        from torch.profiler import profile, ProfilerActivity
        with torch.no_grad():
            out = merged(input_ids=ids[:, :600], use_cache=True); pkv = out.past_key_values
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(4):
                    out = merged(input_ids=ids[:, 600:601], past_key_values=pkv, use_cache=True); pkv = out.past_key_values
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12), flush=True)
