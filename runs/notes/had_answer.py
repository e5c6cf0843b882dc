"""Replay each missed test episode's turns in the env: did some variable hold the gold answer set on the way?"""
import json, sys
from gapd_lite.data import load_split, answer_key
from gapd_lite.kb import open_kb
from gapd_lite.env.kbqa_env import KBQAEnv, EnvConfig
from gapd_lite.agent.gold import task_for
kb = open_kb("memory")
qs = {q.qid: q for q in load_split("test")}
d = json.load(open(sys.argv[1]))
held = 0; missed = 0
for e in d["episodes"]:
    if e["f1"] >= 1: continue
    missed += 1
    q = qs[e["qid"]]
    env = KBQAEnv(kb, q.question, dict(task_for(q, kb).entities), EnvConfig(max_steps=10))
    for t in e["transcript"]:
        if not env.done: env.step(t["wrote"])
    gold = q.answer_set
    sets = [frozenset(answer_key(x) for x in b) for b in env.bindings]
    hit = [i for i, s in enumerate(sets) if s == gold]
    if hit:
        held += 1
        print(e["qid"], e["level"], e["function"], "held gold in", hit, "answered", [t["wrote"][-40:] for t in e["transcript"]][-1])
print("missed", missed, "held the gold set on the way", held)
