# %% [markdown]
# # 08 · Results and ablations
#
# `gapd-lite experiment --preset cpu-small` trains every arm from the **same SFT checkpoint** with the
# same seeds and budget, then scores each on the test split: GRPO, GAPD, and ablations — prefix matching
# instead of mid-anchor matching, GRPO + a plain SFT loss on the gold trajectory ("gold only as supervised
# data"), reverse instead of forward KL, distillation cut at the teacher's first disagreement, a smaller λ.
# This notebook only **reads** `results/` (which command made which file: `results/README.md`).

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

# %% [markdown]
# ## How far apart are the arms?
# The test sample is small, so a difference is best read in questions: each arm against the warm start it
# started from.

# %%
warm = (summary or {}).get("arms", {}).get("sft (warm start)")
if warm:
    n = summary["eval_questions"]
    base = warm["overall"]["f1"]
    for name, arm in summary["arms"].items():
        f1 = arm["overall"]["f1"]
        per_seed = [round(s["overall"]["f1"], 3) for s in arm.get("seeds", {}).values()]
        print(f"{name:<18} F1 {f1:.3f}  {(f1 - base) * n:+5.1f} questions vs the warm start"
              + (f"  (seeds: {per_seed})" if len(per_seed) > 1 else ""))
    print(f"one question of {n} is {1 / n:.3f} of F1; seeds: {summary['seeds']}")

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
# ## What earlier runs taught
# The history in `results/README.md` keeps the earlier experiments' figures. Two lessons shaped the code:
#
# - The first GAPD runs aligned the student with a gold program that lacked the gold agent's `get_relations`
#   steps (notebook 06). Their teacher contradicted the SFT-trained student's first step in nearly every
#   rollout, and the action syntax broke within a few updates, whatever the divergence or token cut. Aligning
#   with the exploration steps (`explore=True`, the default) removed the collapse.
# - With a weak warm start, GAPD with *prefix* matching and GRPO + the SFT loss solved exactly the same extra
#   questions: with the exploration steps, the prefix teacher's hint at step t is the gold dialogue's step t, so it
#   pulls the student towards the dialogue the SFT loss imitates. Mid-anchor hints equal the student's own action
#   wherever it is on the gold path, so their signal is sparser.
