"""Scores of a whole-split report restricted to the questions an `eval --limit N` run picks (like for like).

python runs/notes/subset_scores.py results/eval_sft_classes_test_all.json 160 [other_report.json]
"""
import json
import sys

from gapd_lite.data import load_split, sample_questions
from gapd_lite.eval import EpisodeScore, summarise

report, n = json.load(open(sys.argv[1])), int(sys.argv[2])
qids = {q.qid for q in sample_questions(load_split(report["meta"]["split"]), n)}
episodes = [EpisodeScore(**e) for e in report["episodes"] if e["qid"] in qids]
sub = summarise(episodes)
print(json.dumps({"report": sys.argv[1], "questions": len(episodes), "overall_f1": round(sub.overall["f1"], 4),
                  "by_level": {k: {"n": v["n"], "f1": round(v["f1"], 4)} for k, v in sub.by_level.items()},
                  "misses": sub.misses}, indent=1))
for other in sys.argv[3:]:
    o = json.load(open(other))
    assert {e["qid"] for e in o["episodes"]} == qids, f"{other} holds other questions"
