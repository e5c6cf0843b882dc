# %% [markdown]
# # 09 · Full scale on one GPU (Colab-ready)
#
# The code of chapters 03–08, at a bigger budget, on one CUDA GPU: the base model in **4-bit NF4**
# (bitsandbytes) with LoRA adapters in bf16 — QLoRA — and gradient checkpointing, so that a GAPD update of
# a 1.5B model fits a 6 GB budget (a T4 or an RTX 3060); below, the memory probe prints what it measured on an
# H100 (`benchmarks/results/bench_gpu.json`). Rollouts can come from a merged 16-bit copy of the policy
# (`merged_generation` in the RL config) instead of 4-bit `generate`.
#
# In Colab: *Runtime → Change runtime type → GPU*, then run all. Without a GPU (and in CI under
# papermill) the notebook runs the same cells on the tiny model and says that it skipped the GPU part.

# %% tags=["parameters"]
smoke = False
model = "embedded"  # or a Hugging Face id such as "Qwen/Qwen2.5-1.5B-Instruct" (needs the network once)
sft_steps = 200
rl_steps = 40
eval_questions = 200
install_from = ""  # Colab: a git URL or a folder holding this repository (installed once if gapd_lite is missing)

# %%
import sys

if "google.colab" not in sys.modules:  # in Colab, gapd_lite may not be installed yet: the next cell does it
    from gapd_lite.notebook_params import check_params

    check_params(globals(), smoke=bool, model=str, sft_steps=int, rl_steps=int, eval_questions=int)

# %% [markdown]
# ## Install (Colab only) and check the runtime

# %%
import importlib.util
import subprocess
import sys

IN_COLAB = "google.colab" in sys.modules
if IN_COLAB and importlib.util.find_spec("gapd_lite") is None:  # a fresh Colab: fetch + install once
    if not install_from:
        raise RuntimeError("set the parameter install_from to this repository's git URL (or an uploaded folder)")
    target = install_from
    if "://" in install_from or install_from.endswith(".git"):
        subprocess.run(["git", "clone", "--depth", "1", install_from, "/content/gapd_lite"], check=True)
        target = "/content/gapd_lite"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", f"{target}[all,gpu]"], check=True)
    sys.path.insert(0, target)

import torch

from gapd_lite.benchio import machine

GPU = torch.cuda.is_available() and not smoke
info = machine()
if torch.cuda.is_available():
    free, total = torch.cuda.mem_get_info()
    print(f"GPU: {torch.cuda.get_device_name(0)}, {total / 2**30:.1f} GB ({free / 2**30:.1f} GB free), "
          f"bf16: {torch.cuda.is_bf16_supported()}, bitsandbytes: {importlib.util.find_spec('bitsandbytes') is not None}")
else:
    print(f"no CUDA GPU on this machine ({info['cpus']} CPUs): the GPU part is skipped; "
          "the same cells run on the tiny model as a smoke test")

# %% [markdown]
# ## The QLoRA policy
# `load_policy` picks the path from the device: 4-bit NF4 base + bf16 LoRA on CUDA, plain LoRA on CPU.

# %%
from gapd_lite.models import ModelConfig, load_policy

cfg = ModelConfig(name=model if GPU else "tiny")
policy = load_policy(cfg)
quantized = bool(getattr(policy.model, "is_loaded_in_4bit", False))
print(f"{cfg.name}: 4-bit base: {quantized}, trainable LoRA parameters: {policy.trainable_parameters():,}")
if torch.cuda.is_available():
    print(f"GPU memory after loading: {torch.cuda.memory_allocated() / 2**30:.2f} GB")

# %% [markdown]
# ## Does a GAPD update fit? Peak memory of one update at 1 × 1,024 tokens
# The same probe `gapd-lite bench gpu` runs for the embedded model and Qwen2.5 0.5B/1.5B/3B shapes.

# %%
from gapd_lite.gpu_bench import fixed_length_batch, update_probe
from gapd_lite.kb.memory import MemoryKB

kb = MemoryKB.load()
probe_batch = fixed_length_batch(policy, kb, tokens=1024 if GPU else 700)
for name, lam in (("GRPO", 0.0), ("GAPD", 0.5)):
    r = update_probe(policy, probe_batch, lam, repeat=1)
    peak = f", peak {r['peak_gb']:.2f} GB" if "peak_gb" in r else ""
    print(f"{name} update: {r['seconds']:.2f} s ({r['tokens_per_s']:.0f} tokens/s){peak}")

# %% [markdown]
# What `gapd-lite bench gpu` measured with this probe on an H100, read from the saved benchmark: the peak memory
# of a GAPD update per model shape against the 6 GB goal, and generation speed at batch 8 from 4-bit and from
# merged bf16 weights.

# %%
import json
from pathlib import Path

import gapd_lite

saved = Path(gapd_lite.__file__).resolve().parents[1] / "benchmarks" / "results" / "bench_gpu.json"
if saved.exists():
    bench = json.loads(saved.read_text())
    print(f"bench gpu on {bench['machine'].get('gpu')}, {bench['tokens']} tokens, LoRA r={bench['lora_r']}, "
          f"generation: {bench['generation']}")
    for u in bench["updates"]:
        if "gapd" not in u:
            print(f"  {u['shape']}: no figures ({u.get('error', 'failed')})")
            continue
        gen = {k: u[k]["tokens_per_s"] for k in ("generate_plain", "generate_merged") if "tokens_per_s" in u.get(k, {})}
        print(f"  {u['shape']:<13} GAPD update {u['gapd']['seconds']:.2f} s (GRPO {u['grpo']['seconds']:.2f} s), "
              f"peak {u['gapd']['peak_gb']:.2f} GB; generate tokens/s: "
              + ", ".join(f"{k.split('_')[1]} {v:.0f}" for k, v in gen.items()))
    print(f"goal: {bench['goal']}: {'met' if bench['goal_met'] else 'not met'}")
else:
    print(f"no saved GPU benchmark at {saved}: run `gapd-lite bench gpu --out benchmarks/results/bench_gpu.json` on a GPU")

# %% [markdown]
# ## SFT warm start → GAPD, at the GPU preset's scale
# `gpu-small` trains on more questions for more updates; rollouts come from merged 16-bit weights.
# Each run is resumable: rerunning a cell continues from its last checkpoint in `runs/`.

# %%
from gapd_lite.training.config import preset
from gapd_lite.training.trainer import train_rl, train_sft

if GPU:
    sft_cfg = preset("sft", "gpu-small", model=cfg, out_dir="runs/nb09-sft", num_updates=sft_steps)
    rl_cfg = preset("gapd", "gpu-small", model=cfg, out_dir="runs/nb09-gapd", num_updates=rl_steps,
                    init_adapter="runs/nb09-sft/final")
else:
    print("GPU part skipped: running the smoke presets on the tiny model instead")
    sft_cfg = preset("sft", "smoke", out_dir="runs/nb09-sft-smoke", num_updates=2)
    rl_cfg = preset("gapd", "smoke", out_dir="runs/nb09-gapd-smoke", num_updates=2,
                    init_adapter="runs/nb09-sft-smoke/final")
sft = train_sft(sft_cfg, kb=kb)
print(f"SFT: {sft.steps} updates (resumed from {sft.resumed_from}), last loss {sft.last_loss:.3f}")
del policy
if torch.cuda.is_available():
    torch.cuda.empty_cache()
gapd = train_rl(rl_cfg, kb=kb)
print(f"GAPD: {gapd.steps} updates (resumed from {gapd.resumed_from}) in {gapd.seconds / 60:.1f} min")

# %% [markdown]
# ## The curves and a score

# %%
import matplotlib.pyplot as plt

from gapd_lite.agent.rollout import RolloutConfig
from gapd_lite.data import load_split, sample_questions
from gapd_lite.env.kbqa_env import EnvConfig
from gapd_lite.eval import evaluate
from gapd_lite.training.loop import update_records

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
sft_rows = update_records(sft.log)
axes[0].plot([r["step"] for r in sft_rows], [r["loss"] for r in sft_rows])
axes[0].set_title("SFT loss")
gapd_rows = update_records(gapd.log)
axes[1].plot([r["step"] for r in gapd_rows], [r["reward"] for r in gapd_rows], label="reward")
axes[1].plot([r["step"] for r in gapd_rows], [r.get("distill_loss", 0.0) for r in gapd_rows], label="distillation")
axes[1].set_title("GAPD")
axes[1].legend()
plt.show()

trained = load_policy(rl_cfg.model)
trained.load_adapter(f"{rl_cfg.out_dir}/final")
report = evaluate(trained.model, trained.tokenizer, kb, sample_questions(load_split("test"), eval_questions if GPU else 2),
                  RolloutConfig(greedy=True, max_new_tokens=96 if GPU else 8, env=EnvConfig(max_turns=6 if GPU else 2)),
                  progress=False)
print({k: round(v, 3) for k, v in report.overall.items() if isinstance(v, float)})
print("by level:", {lvl: round(v["f1"], 3) for lvl, v in report.by_level.items()})
