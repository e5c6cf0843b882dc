"""Where an SFT update of the cpu-small shape spends its CPU time (torch.profiler, top 25 ops by self time)."""
import torch, random
from torch.profiler import profile, ProfilerActivity
from gapd_lite.data import load_split
from gapd_lite.kb import open_kb
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.training import sft
pol = load_policy(ModelConfig()); pol.model.train()
qs = load_split("train"); random.Random(0).shuffle(qs)
ex = sft.build_examples(qs[:8], open_kb("memory"), pol.tokenizer, max_len=1400, progress=False)
pad = pol.tokenizer.pad_token_id
loss, n = sft.sft_loss(pol.model, ex[:4], pad, unpadded=True); loss.backward()
with profile(activities=[ProfilerActivity.CPU]) as prof:
    loss, n = sft.sft_loss(pol.model, ex[4:8], pad, unpadded=True); loss.backward()
print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
