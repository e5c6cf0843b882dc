# %% [markdown]
# # 05 · SFT warm start
#
# RL needs a policy that already produces valid actions now and then. The warm start trains LoRA
# adapters on the **gold trajectories** — the gold agent's conversations with the KB's real
# observations — with the loss on the agent's own tokens only (the mask from notebook 04).
#
# `gapd-lite train --method sft --preset cpu-small` runs the full preset (≤ 30 min on 2 CPU cores);
# here, in smoke mode, a couple of steps show the moving parts.

# %% tags=["parameters"]
smoke = False
steps = 6
results_dir = "../results"

# %%
from gapd_lite.notebook_params import check_params

check_params(globals(), smoke=bool, steps=int, results_dir=str)  # a wrong parameter stops here, with the fix

# %%
from pathlib import Path

import matplotlib.pyplot as plt

from gapd_lite.models import ModelConfig
from gapd_lite.training.config import preset
from gapd_lite.training.loop import JsonlLog, update_records
from gapd_lite.training.trainer import train_sft

config = preset("sft", "cpu-small", out_dir="runs/sft-notebook", num_updates=2 if smoke else steps,
                batch_size=1 if smoke else 4, save_every=1, max_questions=16 if smoke else 200,
                model=ModelConfig(name="embedded"))
result = train_sft(config)
print(f"{result.steps} updates in {result.seconds:.0f} s; resumed from update {result.resumed_from}")

# %% [markdown]
# ## The loss curve
# Rerunning the cell resumes from the last checkpoint in `runs/sft-notebook/` (delete it to start over).

# %%
log = update_records(result.log)
plt.figure(figsize=(5, 3))
plt.plot([r["step"] for r in log], [r["loss"] for r in log], marker="o")
plt.xlabel("update"); plt.ylabel("SFT loss (agent tokens)"); plt.title("this notebook's run")
plt.show()

full_log = Path(results_dir) / "sft_cpu_small_log.jsonl"  # the cpu-small preset's run (command: results/README.md)
if full_log.exists():
    records = JsonlLog(full_log).read()
    rows = update_records(records)
    stopped = [r["stopped"] for r in records if "stopped" in r]
    print(f"saved preset run: {len(rows)} updates in {rows[-1]['seconds'] / 60:.1f} min, "
          f"loss {rows[0]['loss']:.2f} → {rows[-1]['loss']:.3f}" + (f"; stopped: {stopped[-1]}" if stopped else ""))
    plt.figure(figsize=(5, 3))
    plt.plot([r["step"] for r in rows], [r["loss"] for r in rows])
    plt.xlabel("update"); plt.ylabel("loss"); plt.title("saved cpu-small preset run")
    plt.show()
else:
    print("no saved cpu-small run in results/ yet")

# %% [markdown]
# ## Before and after
# Scores on the test split of the embedded model zero-shot and after the `cpu-small` preset, **read from saved
# results** (`results/eval_*.json`, made by `gapd-lite eval`; which command made which file and how many questions
# each covers: `results/README.md`); evaluating here would take too long for a class.

# %%
from gapd_lite.eval import load_report, plot_report

saved = {}
for name in ("eval_zero_shot_test", "eval_sft_test"):
    path = Path(results_dir) / f"{name}.json"
    if path.exists():
        saved[name] = load_report(path)
if saved:
    print("read saved results:", ", ".join(saved))
    for name, rep in saved.items():
        print(f"{name} ({rep.overall['n']} questions): F1={rep.overall['f1']:.3f}  Hits@1={rep.overall['hits@1']:.3f}  valid format={rep.overall['valid_format']:.2f}")
        print("   F1 by level:", ", ".join(f"{lvl} {m['f1']:.3f} ({m['n']:.0f})" for lvl, m in sorted(rep.by_level.items())))
        print("   missed answers ran into:", rep.misses or "nothing (or a report saved before misses were recorded)")
    plot_report(saved)
    plt.show()
else:
    print("no saved evaluation in results/ yet: run `gapd-lite eval --split test --out results/eval_zero_shot_test.json`")
