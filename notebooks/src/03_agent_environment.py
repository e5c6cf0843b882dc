# %% [markdown]
# # 03 · The agent's environment
#
# An **episode** is one question. Each turn the agent writes a thought and one action,
# `<think>…</think><action>get_neighbors(m.0…, relation)</action>`; the environment parses it (never
# evaluates it), runs it on the KB and answers with an observation, until `answer(#k)` or the step
# budget. Every step records the action, the variable it bound and **every entity set the agent holds** —
# what GAPD's mid-anchor matching will compare with the gold states.

# %% tags=["parameters"]
smoke = False
question_index = 3

# %%
from gapd_lite.notebook_params import INDEX, check_params, pick

check_params(globals(), smoke=bool, question_index=INDEX)  # a wrong parameter stops here, with the fix

# %%
from gapd_lite.agent.gold import gold_episode, task_for
from gapd_lite.data import load_split
from gapd_lite.env.kbqa_env import EnvConfig, KBQAEnv
from gapd_lite.kb.memory import MemoryKB
from gapd_lite.widgets import stepper

kb = MemoryKB.load()
q = pick(load_split("dev"), question_index)
task = task_for(q, kb)
print(task.user_message())
print("gold:", q.s_expression)

# %% [markdown]
# ## Playing by hand — including mistakes
# Bad text is not a crash: it is an observation the agent can learn to recover from.

# %%
env = KBQAEnv(kb, task.question, dict(task.entities), EnvConfig(max_turns=8))
mid = task.entities[0][0]
for text in [
    "I am not sure.",                                                   # no action tag
    f"<action>get_neighbours({mid}, location.country.capital)</action>",  # misspelt tool
    f"<think>What does {mid} connect to?</think><action>get_relations({mid})</action>",
    f"<action>get_neighbors({mid}, location.country.capitol)</action>",   # unknown relation
]:
    record = env.step(text)
    print(f"> {text}\n  {record.observation[:200]}\n")

# %% [markdown]
# ## Relation lists come ranked
# A 135M model cannot match 40 alphabetical relation names to a question by itself. Like other agentic KBQA
# systems, the environment ranks them first, by the words they share with the question
# (`gapd_lite/env/relevance.py`; `gapd-lite bench ranking` measures how often the gold relation comes first).
# `EnvConfig(rank_relations=False)` shows the KB's order.

# %%
for ranked in (False, True):
    e = KBQAEnv(kb, task.question, dict(task.entities), EnvConfig(rank_relations=ranked))
    print("ranked:  " if ranked else "KB order:", e.step(f"<action>get_relations({mid})</action>").observation[:240])

# %% [markdown]
# ## A set comes with its classes
# Gold logical forms end by keeping the members of the answer's class (`filter_class(#0, location.country)`).
# The agent cannot guess a Freebase class name, so each bound set is shown with the classes its members hold,
# those sharing words with the question first (`EnvConfig(max_classes=0)` leaves them out; `gapd-lite bench ranking`
# measures how often the gold class is listed).

# %%
_, replay = gold_episode(q, kb)
hop = next(r.text for r in replay.history if r.action is not None and r.action.name == "get_neighbors"
           and str(r.action.args[0]).startswith(("m.", "g.")))
for shown in (0, 5):
    e = KBQAEnv(kb, task.question, dict(task.entities), EnvConfig(max_classes=shown))
    print(f"max_classes={shown}:", e.step(hop).observation)

# %% [markdown]
# ## The gold agent
# It plays the question's gold action sequence (notebook 02) through the same environment — this is
# also how the SFT warm-start data (notebook 05) is made. It solves every bundled question (a test checks).

# %%
turns, gold_env = gold_episode(q, kb)
for turn in turns:
    print(turn.text)
    if turn.observation:
        print("   →", turn.observation[:160])
print("answer:", kb.names(gold_env.answer) or gold_env.answer, "| gold:", [a.entity_name or a.answer_argument for a in q.answer])

# %% [markdown]
# ## Step through it
# In a live notebook the buttons move through the steps; rendered statically (papermill, GitHub) the
# table above the buttons shows every step.

# %%
stepper(kb, gold_env.history)
