"""`gapd-lite experiment`: SFT warm start → GRPO, GAPD and ablations from the same checkpoint, same seeds,
same budget → test scores per level, a markdown table and curves in results/."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .fields import h
from .outputs import check_output, write_text

ARMS: dict[str, tuple[str, dict]] = {
    "grpo": ("grpo", {}),
    "gapd": ("gapd", {"lam": 0.5}),
    "gapd-prefix": ("gapd", {"lam": 0.5, "matcher": "prefix"}),
    "grpo+sft": ("grpo", {"sft_weight": 0.5}),
    "gapd-reverse-kl": ("gapd", {"lam": 0.5, "divergence": "reverse_kl"}),
    "gapd-until-disagreement": ("gapd", {"lam": 0.5, "distill_tokens": "until_disagreement"}),
    "gapd-small-lambda": ("gapd", {"lam": 0.05}),
    "gapd+sft": ("gapd", {"lam": 0.5, "sft_weight": 0.5}),  # GAPD on top of the best baseline's SFT anchor
}
DEFAULT_ARMS = ("grpo", "gapd", "gapd-prefix", "grpo+sft", "gapd-reverse-kl")
NO_EXPLORE = "-no-explore"  # suffix: the same GAPD arm aligned with the bare gold program (GAPDConfig.explore=False)


def arm_settings(arm: str) -> tuple[str, dict]:
    """(method, RL overrides) of an arm; `<gapd arm>-no-explore` is that arm without the gold exploration steps."""
    if arm.endswith(NO_EXPLORE) and ARMS.get(arm[: -len(NO_EXPLORE)], ("",))[0] == "gapd":
        method, over = ARMS[arm[: -len(NO_EXPLORE)]]
        return method, {**over, "explore": False}
    if arm not in ARMS:
        raise ConfigError(f"unknown arm {arm!r}; choose from {', '.join(ARMS)} (a GAPD arm may end in {NO_EXPLORE})")
    return ARMS[arm]


@dataclass(frozen=True)
class ExperimentConfig:
    preset: str = h("the SFT and RL presets the arms start from (cpu-small | gpu-small | smoke)", "cpu-small")
    arms: tuple[str, ...] = h(f"comma-separated arms: {', '.join(ARMS)} (a GAPD arm may end in {NO_EXPLORE})",
                              DEFAULT_ARMS)
    eval_split: str = h("the split every arm is scored on", "test")
    eval_limit: int = h("questions scored, spread evenly over the split (0: all)", 120)
    results_dir: str = h("where the tables, curves and per-arm scores go", "results")
    runs_dir: str = h("each arm trains in <runs_dir>/exp-<preset>-<arm> (a finished one there is reused)", "runs")
    seed: int = h("the SFT warm start's seed (and the RL seed when `seeds` is not given)", 0)
    num_updates: int | None = h("override the RL preset's number of updates", None)
    seeds: tuple[int, ...] | None = h("comma-separated RL seeds: every arm is trained once per seed from the same "
                                      "warm start", None)
    eval_batch: int | None = h("episodes evaluated together (None: 64 on a GPU, 8 on a CPU)", None)
    sft_minutes: float | None = h("wall-clock budget of the SFT warm start", None)
    rl_minutes: float | None = h("wall-clock budget of each RL run (the table then shows how many updates each got)",
                                 None)
    train: bool = h("False: only collect the arms already trained and scored (others are left out)", True)

    def __post_init__(self) -> None:
        for arm in self.arms:
            arm_settings(arm)
        if self.seeds is not None and (not self.seeds or len(set(self.seeds)) != len(self.seeds)):
            raise ConfigError(f"seeds={self.seeds!r}: give one or more different seeds, e.g. (0, 1)")
        if self.eval_batch is not None and self.eval_batch < 1:
            raise ConfigError(f"eval_batch={self.eval_batch}: must be >= 1")

    @property
    def rl_seeds(self) -> tuple[int, ...]:
        return self.seeds or (self.seed,)


def run_tag(arm: str, seed: int) -> str:
    """Seed 0 keeps the plain arm name (the single-seed layout); other seeds add `-s<seed>`."""
    return arm if seed == 0 else f"{arm}-s{seed}"


def _evaluate(policy, kb, questions, label: str, out: Path, batch: int | None = None):
    """Greedy scores; on a 4-bit base the episodes are generated from merged 16-bit weights (same policy, faster)."""
    import torch

    from .agent.rollout import RolloutConfig
    from .env.kbqa_env import EnvConfig
    from .eval import evaluate
    from .models import MergedGenerator, uses_4bit

    cuda = policy.device.type == "cuda"
    model = MergedGenerator(policy).model if uses_4bit(policy.config, policy.device) else policy.model
    report = evaluate(model, policy.tokenizer, kb, questions,
                      RolloutConfig(greedy=True, batch_size=batch or (64 if cuda else 8),
                                    env=EnvConfig(max_turns=5)),
                      progress=True, meta={"arm": label, "questions": len(questions)})
    report.save(out)
    del model
    if cuda:
        torch.cuda.empty_cache()
    return report


def _mean(values: list):
    """Element-wise mean of equally shaped dicts of numbers (the per-seed scores)."""
    if isinstance(values[0], dict):
        return {k: _mean([v[k] for v in values]) for k in values[0] if all(k in v for v in values)}
    nums = [v for v in values if isinstance(v, (int, float))]
    return sum(nums) / len(nums) if len(nums) == len(values) else values[0]


def _curve(log: list[dict]) -> list[dict]:
    from .training.loop import update_records

    return [{k: x.get(k) for k in ("step", "reward", "f1", "valid_format", "loss", "distill_loss")}
            for x in update_records(log)]


def _summary(config: ExperimentConfig, rows: dict, n_questions: int, started: float) -> dict:
    """Per arm: the mean over seeds (overall, by level, training time) and each seed's own figures."""
    from .benchio import machine

    arms = {}
    for name, runs in rows.items():
        per_seed = {}
        for seed, r in runs.items():
            curve = _curve(r["log"])
            per_seed[str(seed)] = {"overall": r["report"].overall, "by_level": r["report"].by_level,
                                   "train_seconds": r.get("train_seconds"), "updates": len(curve), "curve": curve}
        first = next(iter(per_seed.values()))
        times = [v["train_seconds"] for v in per_seed.values() if v["train_seconds"]]
        arms[name] = {"overall": _mean([v["overall"] for v in per_seed.values()]),
                      "by_level": _mean([v["by_level"] for v in per_seed.values()]),
                      "train_seconds": sum(times) / len(times) if times else None,
                      "curve": first["curve"], "seeds": per_seed}
    return {
        "preset": config.preset, "eval_split": config.eval_split, "eval_questions": n_questions,
        "seeds": list(config.rl_seeds),
        "machine": machine(), "wall_seconds": time.time() - started, "arms": arms,
    }


def _write(results: Path, config: ExperimentConfig, summary: dict) -> None:
    write_text(results / f"experiment_{config.preset}.json", json.dumps(summary, indent=1) + "\n")
    write_text(results / f"experiment_{config.preset}.md", markdown_table(summary))
    plot_curves(summary, results / f"experiment_{config.preset}_curves.png")


def run_experiment(config: ExperimentConfig, kb=None) -> dict:
    """Train every arm (once per seed) from the shared SFT checkpoint and score it; results are rewritten after
    each run, and a run whose adapter and evaluation already exist is read back instead of retrained (rerun = resume)."""
    from .data import load_split, sample_questions
    from .eval import load_report
    from .kb import open_kb
    from .models import load_policy
    from .training.config import preset
    from .training.loop import JsonlLog
    from .training.trainer import train_rl, train_sft

    results = Path(config.results_dir)
    check_output(results / f"experiment_{config.preset}.json")  # writable, before hours of training
    results.mkdir(parents=True, exist_ok=True)
    kb = kb or open_kb("memory")
    questions = sample_questions(load_split(config.eval_split), config.eval_limit)
    sft_cfg = preset("sft", config.preset, seed=config.seed, max_minutes=config.sft_minutes)
    started = time.time()
    warm_final = Path(sft_cfg.out_dir) / "final"
    if not (warm_final / "adapter_config.json").exists():
        if not config.train:
            raise ConfigError(f"no SFT warm start at {warm_final}: run the experiment without --no-train first")
        train_sft(sft_cfg, kb=kb)
    rows: dict[str, dict[int, dict]] = {}
    sft_eval = results / f"exp_{config.preset}_sft.json"
    if sft_eval.exists():
        report = load_report(sft_eval)
    else:
        warm = load_policy(sft_cfg.model)
        warm.load_adapter(warm_final)
        report = _evaluate(warm, kb, questions, "sft", sft_eval, config.eval_batch)
        del warm
    rows["sft (warm start)"] = {config.seed: {"report": report, "log": []}}
    for arm in config.arms:
        for seed in config.rl_seeds:
            method, rl_over = arm_settings(arm)
            tag = run_tag(arm, seed)
            cfg = preset(method, config.preset, out_dir=f"{config.runs_dir}/exp-{config.preset}-{tag}", seed=seed,
                         num_updates=config.num_updates, init_adapter=str(warm_final), max_minutes=config.rl_minutes,
                         **rl_over)
            arm_eval = results / f"exp_{config.preset}_{tag}.json"
            final = Path(cfg.out_dir) / "final" / "adapter_config.json"
            if arm_eval.exists() and final.exists():
                log = JsonlLog(Path(cfg.out_dir) / "log.jsonl").read()
                rows.setdefault(arm, {})[seed] = {
                    "report": load_report(arm_eval), "log": log,
                    "train_seconds": max((r["seconds"] for r in log if "seconds" in r), default=None)}
                continue
            if not config.train:
                print(f"{tag}: not trained and scored yet; left out of the table")
                continue
            result = train_rl(cfg, kb=kb)
            policy = load_policy(cfg.model)
            policy.load_adapter(Path(cfg.out_dir) / "final")
            rows.setdefault(arm, {})[seed] = {
                "report": _evaluate(policy, kb, questions, tag, arm_eval, config.eval_batch),
                "train_seconds": result.seconds, "log": result.log}
            del policy
            _write(results, config, _summary(config, rows, len(questions), started))
    summary = _summary(config, rows, len(questions), started)
    _write(results, config, summary)
    return summary


def markdown_table(summary: dict) -> str:
    """One row per arm: F1 overall and per level, Hits@1, valid format, training time (means over seeds;
    with several seeds the overall F1 also shows each seed's value)."""
    levels = ("i.i.d.", "compositional", "zero-shot")
    head = ("| arm | F1 | " + " | ".join(f"F1 {lvl}" for lvl in levels) + " | Hits@1 | valid format | updates | train min |\n"
            "|---|---|" + "---|" * len(levels) + "---|---|---|---|\n")
    lines = []
    for name, arm in summary["arms"].items():
        o, by = arm["overall"], arm["by_level"]
        seeds = arm.get("seeds", {})
        f1 = f"{o['f1']:.3f}"
        if len(seeds) > 1:
            f1 += " (" + ", ".join(f"{v['overall']['f1']:.3f}" for v in seeds.values()) + ")"
        cells = [f1] + [f"{by.get(lvl, {}).get('f1', float('nan')):.3f}" for lvl in levels]
        minutes = f"{arm['train_seconds'] / 60:.1f}" if arm.get("train_seconds") else "–"
        trained = any(v.get("updates") for v in seeds.values())
        updates = "/".join(str(v.get("updates", "–")) for v in seeds.values()) if trained else "–"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {o['hits@1']:.3f} | {o['valid_format']:.2f} | {updates} | {minutes} |")
    n_seeds = len(summary.get("seeds", [0]))
    seeds_note = f", RL arms: mean of {n_seeds} seeds (each seed's F1 in brackets)" if n_seeds > 1 else ""
    return (f"# Experiment `{summary['preset']}` ({summary['eval_questions']} {summary['eval_split']} questions, greedy{seeds_note})\n\n"
            + head + "\n".join(lines) + "\n")


def plot_curves(summary: dict, path: Path) -> None:
    """Mean reward and valid-format rate per update for each trained arm (one line per seed)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, arm in summary["arms"].items():
        runs = arm.get("seeds") or {"0": {"curve": arm["curve"]}}
        color = None
        for seed, run in runs.items():
            curve = [c for c in run["curve"] if c.get("reward") is not None]
            if not curve:
                continue
            label = name if len(runs) == 1 else f"{name} (seed {seed})"
            steps = [c["step"] for c in curve]
            (line,) = axes[0].plot(steps, [c["reward"] for c in curve], label=label, color=color,
                                   linestyle="-" if color is None else "--")
            axes[1].plot(steps, [c["valid_format"] for c in curve], label=label, color=line.get_color(),
                         linestyle=line.get_linestyle())
            color = line.get_color()
    axes[0].set_title("mean reward per update")
    axes[1].set_title("valid-format rate of rollouts")
    for ax in axes:
        ax.set_xlabel("update")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
