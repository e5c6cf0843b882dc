# %% [markdown]
# # 07 · GAPD training: GRPO plus gold-conditioned self-distillation
#
# One update: sample G rollouts per question, reward them (answer F1 + a small format bonus),
# normalise rewards within each group (GRPO). GAPD adds, for every step that wrote an action, a
# **teacher**: the same policy whose context also carries the aligned gold action as a hint. Its
# token distribution (stop-gradient) is distilled into the plain policy over the student's action
# tokens. This chapter reads the package's own functions — `training/losses.py` (the two losses, written as the
# paper's formulas) and `training/gapd.py` (one whole update, the plain reference the fast path is tested
# equal to) — and runs each one right after showing it.

# %% tags=["parameters"]
smoke = False
updates = 2
results_dir = "../results"

# %%
from gapd_lite.notebook_params import check_params

check_params(globals(), smoke=bool, updates=int, results_dir=str)  # a wrong parameter stops here, with the fix

# %%
import matplotlib.pyplot as plt
import torch

from gapd_lite.bench import gold_batch
from gapd_lite.kb.memory import MemoryKB
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.training.config import GAPDConfig
from gapd_lite.widgets import show_source

kb = MemoryKB.load()
policy = load_policy(ModelConfig(name="tiny" if smoke else "embedded"))
policy.model.eval()  # no LoRA dropout: the numbers below are deterministic
cfg = GAPDConfig(group_size=2)  # λ, divergence, matcher, ε: the defaults (`gapd-lite train --help` lists them)
# two dev questions, each question's gold dialogue twice, rewarded 0 and 1 so that both advantages are non-zero
batch = gold_batch(policy, kb, questions=2, group_size=cfg.group_size, max_tokens=None if smoke else 768)
print(len(batch.trajectories), "trajectories; rewards", batch.rewards.tolist())

# %% [markdown]
# ## GRPO: group advantages and the clipped surrogate
# Each rollout's reward is compared with the other rollouts of the same question: the advantage.

# %%
from gapd_lite.training.losses import group_advantages, grpo_loss, grpo_token_loss

show_source(group_advantages)
print("advantages:", [round(a, 2) for a in group_advantages(batch.rewards, cfg.group_size).tolist()])

# %% [markdown]
# Every token the policy wrote gets its rollout's advantage, weighted by the ratio of its new to its old
# probability, clipped to [1 − ε, 1 + ε] so that one update cannot move the policy far.

# %%
show_source(grpo_token_loss, grpo_loss)
logp = torch.tensor([-1.0, -1.0, -1.0, -1.0])
old_logp = logp - torch.tensor([0.0, 0.5, -0.5, 0.5])  # ratios 1, e^0.5, e^-0.5, e^0.5
advantages = torch.tensor([1.0, 1.0, -1.0, -1.0])
print("ratio:          ", [round(r, 3) for r in torch.exp(logp - old_logp).tolist()])
print("per-token loss: ", [round(x, 3) for x in grpo_token_loss(logp, old_logp, advantages, cfg.epsilon).tolist()])
print("grpo_loss:      ", round(grpo_loss(logp, old_logp, advantages, cfg.epsilon).item(), 4))
# the 3rd token: ratio below 1 − ε with a negative advantage, so the clipped (larger) loss is the one kept

# %% [markdown]
# ## The distillation divergence
# Per action token, a divergence between the teacher's next-token distribution and the student's; the teacher
# side is detached, so the gradient moves the student only.

# %%
from gapd_lite.training.losses import distill_loss, token_divergence

show_source(token_divergence, distill_loss)
teacher = torch.tensor([[4.0, 0.0, 0.0]])  # sure of token 0
student = torch.tensor([[0.0, 0.0, 0.0]])  # uniform over three tokens
for kind in ("forward_kl", "reverse_kl", "jsd"):
    print(f"{kind:<10} {distill_loss(student, teacher, kind).item():.4f}")

# %% [markdown]
# ## One whole update, as training runs it
# `gapd_update` is the reference update `train_rl` runs with `reference_update=True` (by default it runs the fast
# path, which computes the same loss and gradient). λ = 0 is exactly GRPO; λ > 0 adds the distillation term.

# %%
from gapd_lite.training.gapd import gapd_update

show_source(gapd_update)
for lam in (0.0, cfg.lam):
    loss, stats = gapd_update(policy, batch, cfg, lam)
    print(f"λ={lam}: loss={loss.item():.4f}  grpo={stats['grpo_loss']:.4f}  distill={stats['distill_loss']:.4f}"
          f"  policy tokens={stats['policy_tokens']:.0f}  distilled action tokens={stats['action_tokens']:.0f}")

# %% [markdown]
# ## The teacher, token by token
# Which steps get a teacher and with which hint (`distill_steps`: the mid-anchor matcher aligns each student step
# with a gold action), and what the teacher reads (`teacher_context`): the same functions `gapd_update` calls.

# %%
from gapd_lite.training.gapd import distill_steps, next_token_logits, teacher_context
from gapd_lite.training.losses import DIVERGENCES, selected_logp

show_source(distill_steps, teacher_context)

# %% [markdown]
# For each action token of the first trajectory: the probability the student gives the token it wrote, the
# probability the hinted teacher gives it, and the divergence D(teacher ‖ student) that the update distils
# (the configured divergence). Large values mark the tokens the gold action would change — exactly where GAPD's
# gradient lands.

# %%
tok = policy.tokenizer
traj, gold = batch.trajectories[0], batch.gold[0]
ids = traj.rendered.ids
rows = []
with torch.no_grad():
    student_logits = next_token_logits(policy.model, ids)
    for step in distill_steps(traj, gold, cfg, tok):
        a, b = step.span
        shift = len(step.hint)  # the action sits `shift` tokens later in the teacher's input
        hinted = next_token_logits(policy.model, teacher_context(ids, step))
        s, t = student_logits[a - 1:b - 1], hinted[a - 1 + shift:b - 1 + shift]
        target = torch.tensor(ids[a:b])
        rows.append({"hint": tok.decode(step.hint).strip(), "tokens": [tok.decode([i]) for i in ids[a:b]],
                     "p_student": selected_logp(s, target).exp().tolist(),
                     "p_teacher": selected_logp(t, target).exp().tolist(),
                     "divergence": token_divergence(s, t, DIVERGENCES[cfg.divergence]).tolist()})
for n, row in enumerate(rows[: 2 if smoke else 3]):
    print(f"step {n} · teacher's hint: {row['hint'][:100]!r}")
    print(f"   {'token':<16} {'p_student':>9} {'p_teacher':>9} {'D':>7}")
    for token, ps, pt, d in zip(row["tokens"], row["p_student"], row["p_teacher"], row["divergence"]):
        print(f"   {token!r:<16} {ps:>9.3f} {pt:>9.3f} {d:>7.3f}")
print(f"{len(rows)} distilled steps; mean D over their action tokens: "
      f"{sum(sum(r['divergence']) for r in rows) / max(1, sum(len(r['divergence']) for r in rows)):.4f}")

# %%
width = max(len(row["tokens"]) for row in rows)
grid = [row["divergence"] + [float("nan")] * (width - len(row["divergence"])) for row in rows]
fig, ax = plt.subplots(figsize=(min(16, 0.5 * width + 2), 0.6 * len(rows) + 1))
im = ax.imshow(grid, aspect="auto", cmap="magma")
for i, row in enumerate(rows):
    for j, token in enumerate(row["tokens"]):
        ax.text(j, i, token.replace(" ", "·")[:6], ha="center", va="center", fontsize=6, color="w")
ax.set_yticks(range(len(rows)), [f"step {i}" for i in range(len(rows))])
ax.set_xticks([])
fig.colorbar(im, label=f"{cfg.divergence} per token")
plt.show()

# %% [markdown]
# ## Does the teacher read its hint?
# Distillation only helps where the hinted teacher predicts the gold action better than the plain
# policy. `hint_check` scores the gold action tokens of gold dialogues both ways
# (`gapd-lite hint-check` on the command line): first this notebook's policy, then the saved run on the
# embedded model, zero-shot and after the cpu-small SFT (`results/hint_check_dev20.json`; its command:
# `results/README.md`). Where the warm-started policy already predicts nearly every gold-path token, the
# teacher's signal lies off the gold path: on the student's own detours.

# %%
import json
from pathlib import Path

from IPython.display import Markdown, display

from gapd_lite.data import load_split, sample_questions
from gapd_lite.training.hint_check import hint_check

print("this policy:", hint_check(policy, kb, sample_questions(load_split("dev"), 2 if smoke else 4)).to_json())
saved = Path(results_dir) / "hint_check_dev20.json"
if saved.exists():
    runs = json.loads(saved.read_text())
    display(Markdown("\n".join(
        f"- **{name}** ({r['questions']} dev questions, {r['action_tokens']} gold action tokens): the hint moves "
        f"their mean log-probability per token from {r['student_logp']:.2f} to {r['teacher_logp']:.2f} nats "
        f"({r['gain']:+.2f}), top-1 {r['student_top1']:.0%} → {r['teacher_top1']:.0%}"
        for name, r in runs.items())))
else:
    print(f"no saved hint check at {saved}: run `gapd-lite hint-check` (see results/README.md)")

# %% [markdown]
# ## A few real updates: GRPO vs GAPD
# `train_rl` runs the loop (rollouts → rewards → update, checkpoints, jsonl log). Here the `smoke` presets on the
# tiny model; for real runs: `gapd-lite train --method gapd --preset cpu-small`.

# %%
from gapd_lite.training.config import preset
from gapd_lite.training.trainer import train_rl

curves = {}
for method in ("grpo", "gapd"):
    run_cfg = preset(method, "smoke", out_dir=f"runs/nb07-{method}", num_updates=updates)
    curves[method] = train_rl(run_cfg, progress=False).log
for method, log in curves.items():
    print(method, [(r["step"], round(r["reward"], 3), round(r.get("distill_loss", 0.0), 3)) for r in log if "loss" in r])
