"""How often the teacher contradicted the SFT student's first step before the alignment fix (evening of 2026-11-27).

Samples G = 4 rollouts of 8 train questions from the cpu-small SFT policy (temperature 1, as in RL) and compares
each first action with the aligned gold action, with and without the exploration rule.
"""
import json

from gapd_lite.agent.rollout import RolloutConfig, rollout
from gapd_lite.anchors import MidAnchorMatcher, align_trajectory
from gapd_lite.data import load_split, sample_questions
from gapd_lite.env.kbqa_env import EnvConfig
from gapd_lite.kb import open_kb
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.training.rl import _gold_programs

policy = load_policy(ModelConfig())
policy.load_adapter("runs/sft-cpu-small/final")
kb = open_kb("memory")
qs = sample_questions(load_split("train"), 8)
trajs = rollout(policy.model, policy.tokenizer, kb, qs, RolloutConfig(group_size=4, max_new_tokens=64, seed=0,
                                                                        env=EnvConfig(max_steps=2)), progress=False)
gold = _gold_programs(qs, kb)
rows = []
for i, t in enumerate(trajs):
    if not t.steps:
        continue
    g = gold[i // 4]
    first = str(t.steps[0].action) if t.steps[0].action else None
    bare = str(align_trajectory(MidAnchorMatcher(), g, t.steps, explore=False)[0].action)
    explored = str(align_trajectory(MidAnchorMatcher(), g, t.steps)[0].action)
    rows.append({"student": first, "aligned_without_rule": bare, "aligned_with_rule": explored})
n = len(rows)
out = {"episodes": n,
       "student_first_is_get_relations": sum(bool(r["student"]) and r["student"].startswith("get_relations") for r in rows) / n,
       "first_step_matches_aligned_without_rule": sum(r["student"] == r["aligned_without_rule"] for r in rows) / n,
       "first_step_matches_aligned_with_rule": sum(r["student"] == r["aligned_with_rule"] for r in rows) / n,
       "rows": rows}
print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=1))
with open("runs/notes/first_step_check.json", "w") as f:
    json.dump(out, f, indent=1)
