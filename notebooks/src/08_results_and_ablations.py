# %% [markdown]
# # 08 · Results and ablations
#
# `gapd-lite experiment --preset cpu-small` trains every arm from the **same SFT checkpoint** with the
# same seeds and budget, then scores each on the test split: GRPO, GAPD, and the ablations — prefix
# matching instead of mid-anchor matching, GRPO + a plain SFT loss on the gold trajectory ("gold only as
# supervised data"), reverse instead of forward KL, distillation cut at the teacher's first disagreement,
# and a ten times smaller λ. This notebook only **reads** `results/`.
#
# The latest committed run (`results/exp-v4/`, at the end of this notebook; relation lists ranked by the question,
# 96-token turns) starts from a stronger warm start (F1 0.325): GRPO and GRPO + SFT change none of the 40 answers,
# GAPD and prefix-matched GAPD each solve one more question (0.350) and lose none. A second seed for GRPO and GAPD
# (`results/exp-v4-seeds/`) gives 0.328 and 0.350: GAPD leads in both seeds, by about one question in 40.
#
# What the earlier run with every ablation shows (2 CPU cores, 10 updates × 2 questions × G = 4 per arm, 40 test
# questions): GRPO barely moves the SFT policy (F1 0.125 → 0.128). GAPD with mid-anchor matching ties it
# (0.128), with reverse KL too (0.125). GRPO plus the SFT loss and GAPD with *prefix* matching are the best arms
# (0.203) — and they solve exactly the same three extra questions: with the gold agent's exploration steps, the
# prefix teacher's hint at step t is the gold dialogue's step t, so it pulls towards the same dialogue the SFT
# loss imitates. The `-no-explore` rows are the earlier GAPD runs whose gold program lacked the gold agent's
# `get_relations` steps (notebook 06): their teacher contradicted the student's first step in nearly every
# rollout, and the action syntax broke within 4 updates — the curves show the valid-format rate falling.
# 40 questions resolve differences of one question (0.025); one seed. The README's "Measured" section has more.

# %% tags=["parameters"]
smoke = False
results_dir = "../results"
preset = "cpu-small"

# %%
from gapd_lite.notebook_params import check_params

check_params(globals(), smoke=bool, results_dir=str, preset=str)  # a wrong parameter stops here, with the fix

# %%
import json
from pathlib import Path

from IPython.display import Image, Markdown, display

path = Path(results_dir) / f"experiment_{preset}.json"
if path.exists():
    summary = json.loads(path.read_text())
    display(Markdown((Path(results_dir) / f"experiment_{preset}.md").read_text()))
    print(f"{summary['eval_questions']} {summary['eval_split']} questions; wall time {summary['wall_seconds'] / 60:.0f} min")
else:
    summary = None
    print(f"no {path} yet: run `gapd-lite experiment --preset {preset}`")

# %%
curves = Path(results_dir) / f"experiment_{preset}_curves.png"
if curves.exists():
    display(Image(filename=str(curves)))

# %% [markdown]
# ## Per level
# i.i.d. questions reuse training templates; compositional ones recombine seen relations; zero-shot ones
# use relations never seen in training.

# %%
if summary:
    import matplotlib.pyplot as plt
    levels = ["i.i.d.", "compositional", "zero-shot"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    names = list(summary["arms"])
    for i, name in enumerate(names):
        by = summary["arms"][name]["by_level"]
        ax.bar([j + i * 0.8 / len(names) for j in range(3)], [by.get(l, {}).get("f1", 0) for l in levels],
               width=0.8 / len(names), label=name)
    ax.set_xticks([j + 0.4 - 0.4 / len(names) for j in range(3)], levels)
    ax.set_ylabel("F1")
    ax.legend(fontsize=7)
    plt.show()

# %% [markdown]
# ## The latest run
# The same experiment from the current warm start (relation lists ranked by the question, the SFT preset retrained
# on them, 96-token turns), with four arms.

# %%
latest = Path(results_dir) / "exp-v4"
if (latest / f"experiment_{preset}.md").exists():
    display(Markdown((latest / f"experiment_{preset}.md").read_text()))
    if (latest / f"experiment_{preset}_curves.png").exists():
        display(Image(filename=str(latest / f"experiment_{preset}_curves.png")))
else:
    print(f"no {latest} yet: run `gapd-lite experiment --preset {preset} --runs-dir runs/exp-v4 --results-dir results/exp-v4`")
