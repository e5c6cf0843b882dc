# %% [markdown]
# # 06 · Mid-anchor matching
#
# GAPD's dense guidance needs, for every step of the student's trajectory, the **gold action it should
# take next**. Positions are useless once the student detours or swaps the order of two branches, so
# GAPD matches **states**: after each step, the entity sets the student holds are compared with the
# gold states (notebook 02). A gold state is *covered* when a student variable holds the same set.
# The aligned action is the deepest gold action whose inputs are covered and whose output is not —
# rewritten into the student's own variable names (`gapd_lite/anchors.py`).

# %% tags=["parameters"]
smoke = False
question_index = 0

# %%
from gapd_lite.notebook_params import INDEX, check_params, pick

check_params(globals(), smoke=bool, question_index=INDEX)  # a wrong parameter stops here, with the fix

# %%
import matplotlib.pyplot as plt

from gapd_lite.anchors import MidAnchorMatcher, PrefixMatcher, align_trajectory
from gapd_lite.data import load_split
from gapd_lite.env.kbqa_env import KBQAEnv
from gapd_lite.kb.memory import MemoryKB
from gapd_lite.logic.sexpr import parse
from gapd_lite.logic.to_actions import gold_steps, to_actions
from gapd_lite.agent.gold import task_for

kb = MemoryKB.load()
ands = [q for q in load_split("dev") if q.s_expression.count("(JOIN") >= 2 and "(AND (JOIN" in q.s_expression]
q = pick(ands, question_index)
gold = gold_steps(to_actions(parse(q.s_expression)), kb)
print(q.question)
for g in gold:
    print(f"  gold #{g.var}: {g.action}  → {len(g.state)} item(s)")

# %% [markdown]
# ## A student that detours and takes the branches in the other order
# We script a plausible student: it looks at relations first (binds nothing), does the **second**
# branch before the first, and repeats a step.
#
# Looking at relations first is what the gold agent of the SFT data does too (`explore_first`: a
# `get_relations` before the first hop from each topic entity, and a `get_attributes(#k)` before an argmax,
# comparison or time filter on `#k`). So `align_trajectory` (with `explore=True`,
# the default) aligns a hop from a topic entity the student has not explored yet as `get_relations(entity)`.
# Without that rule the teacher would tell every warm-started student, at its very first step, to skip the
# step SFT taught it — compare the first line of the two alignments below.

# %%
task = task_for(q, kb)
env = KBQAEnv(kb, task.question, dict(task.entities))
branch_actions = [str(g.action) for g in gold if g.var is not None]
first_mid = task.entities[0][0]
student = [f"<action>get_relations({first_mid})</action>"]
# play the gold actions, but the two branches swapped when the program starts with two constants
roots = [i for i, g in enumerate(gold) if g.var is not None and not g.action.inputs]
order = list(range(len(gold) - 1))
if len(roots) >= 2:
    order = [roots[1]] + [i for i in order if i != roots[1]]
renames, texts = {}, []
for i in order:
    action = gold[i].action.rename({k: renames.get(k, k) for k in range(len(gold))})
    renames[gold[i].var] = len(renames)
    texts.append(f"<action>{action}</action>")
student += texts[:1] + texts[:1] + texts[1:]  # the first one repeated
for text in student:
    env.step(text)
for t, (record, al) in enumerate(zip(env.history, align_trajectory(MidAnchorMatcher(), gold, env.history))):
    print(f"step {t}: student {str(record.action):<58} | aligned gold: {al.action}   covered {al.covered}")
bare = align_trajectory(MidAnchorMatcher(), gold, env.history, explore=False)
print(f"without the exploration rule, step 0 would be aligned with: {bare[0].action}")

# %% [markdown]
# ## The matcher itself
# `cover` maps each gold variable to the student variable holding the same entity set (Jaccard ≥ a threshold,
# if one is set below 1); `align` then picks the deepest gold action whose inputs are covered and whose output
# is not, renamed into the student's variables — or the answer, once the answer's set is held.

# %%
from gapd_lite.widgets import show_source

show_source(MidAnchorMatcher.cover, MidAnchorMatcher.align)
matcher = MidAnchorMatcher()
for t in range(len(env.history) + 1):  # before each student step, and after the last one
    states = env.history[t - 1].states if t else ()
    al = matcher.align(gold, states, t)
    print(f"before step {t}: student holds {len(states)} set(s), covered {matcher.cover(gold, states)} → {al.action}")

# %% [markdown]
# ## The prefix ablation
# Aligning by step index (over the gold sequence with its exploration steps) ignores where the student
# actually is: after the swapped branches and the repeated step, the hints no longer fit the student's state.

# %%
for t, al in enumerate(align_trajectory(PrefixMatcher(), gold, env.history)):
    print(f"step {t}: prefix-aligned gold action {al.action}")

# %% [markdown]
# ## On the KB subgraph
# The gold program's states drawn on the KB: the student's covered states are highlighted.

# %%
from gapd_lite import viz

graph = viz.gold_program_graph(gold)
covered = set().union(*env.history[-1].states) if env.history[-1].states else set()
viz.draw_graph(kb, graph, highlight=covered & set(graph.nodes), title="gold program on the KB (orange: held by the student)")
plt.show()
