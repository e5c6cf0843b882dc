import time, json
import gapd_lite.agent.rollout as R
from gapd_lite.agent.rollout import RolloutConfig, rollout
from gapd_lite.data import load_split, sample_questions
from gapd_lite.env.kbqa_env import EnvConfig
from gapd_lite.kb import open_kb
from gapd_lite.models import ModelConfig, load_policy
policy = load_policy(ModelConfig(name="embedded")); policy.load_adapter("runs/sft-cpu-small/final")
kb = open_kb("memory"); qs = sample_questions(load_split("dev"), 8)
log = []
orig = R.generate_turns
def wrapped(model, tok, contexts, config, states=None):
    t0 = time.perf_counter()
    turns, st = orig(model, tok, contexts, config, states)
    cached = [s.length if s is not None else 0 for s in (states or [None]*len(contexts))]
    log.append(dict(rows=len(contexts), turn_lens=[len(t) for t in turns], new=[len(c)-n for c, n in zip(contexts, cached)], s=time.perf_counter()-t0))
    return turns, st
R.generate_turns = wrapped
rollout(policy.model, policy.tokenizer, kb, qs, RolloutConfig(greedy=True, batch_size=8, max_new_tokens=64, env=EnvConfig(max_steps=3)), progress=False)
for l in log: print(l)
rs = sum(l['rows']*max(l['turn_lens']) for l in log); use = sum(sum(l['turn_lens']) for l in log)
print("row-steps", rs, "useful", use, use/rs)
