"""Which position of the ranked relation list the policy's first hop picks, and how often that is the gold one."""
import json, re, sys
from collections import Counter
from gapd_lite.kb.memory import MemoryKB
from gapd_lite.data import load_split
from gapd_lite.env.actions import parse_action
from gapd_lite.env.relevance import rank_relations
from gapd_lite.logic.execute import run_action
from gapd_lite.logic.to_actions import to_actions
from gapd_lite.logic.sexpr import parse

kb = MemoryKB.load()
rep = json.load(open(sys.argv[1]))
qs = {q.qid: q for q in load_split(sys.argv[2] if len(sys.argv) > 2 else "test")}
pos, gold_pos, hit = Counter(), Counter(), Counter()
for e in rep["episodes"]:
    q = qs[e["qid"]]
    gold_rels = {str(a.args[1]) for a in to_actions(parse(q.s_expression)) if a.name == "get_neighbors"}
    t = e["transcript"]
    for a, b in zip(t, t[1:]):
        ma, mb = re.search(r"<action>(.*?)</action>", a["wrote"], re.S), re.search(r"<action>(.*?)</action>", b["wrote"], re.S)
        if not (ma and mb):
            continue
        try:
            x, y = parse_action(ma.group(1).strip()), parse_action(mb.group(1).strip())
        except Exception:
            continue
        if x.name != "get_relations" or y.name != "get_neighbors" or str(x.args[0]) != str(y.args[0]):
            continue
        rels = rank_relations(run_action(kb, x, []), q.question)
        chosen = str(y.args[1])
        p = rels.index(chosen) if chosen in rels else -1
        pos[min(p, 5)] += 1
        g = [rels.index(r) for r in gold_rels if r in rels]
        gold_pos[min(min(g), 5) if g else -1] += 1
        hit[chosen in gold_rels] += 1
print("chosen position", sorted(pos.items()))
print("gold position  ", sorted(gold_pos.items()))
print("chose a gold relation", dict(hit))
