"""`gapd-lite experiment`: SFT warm start → GRPO, GAPD and ablations from the same checkpoint, same seeds,
same budget → test scores per level, a markdown table and curves in results/."""
from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

ARMS: dict[str, tuple[str, dict]] = {
    "grpo": ("grpo", {}),
    "gapd": ("gapd", {"lam": 0.5}),
    "gapd-prefix": ("gapd", {"lam": 0.5, "matcher": "prefix"}),
    "grpo+sft": ("grpo", {"sft_weight": 0.5}),
    "gapd-reverse-kl": ("gapd", {"lam": 0.5, "divergence": "reverse_kl"}),
}
DEFAULT_ARMS = ("grpo", "gapd", "gapd-prefix", "grpo+sft", "gapd-reverse-kl")


@dataclass(frozen=True)
class ExperimentConfig:
    preset: str = "cpu-small"
    arms: tuple[str, ...] = DEFAULT_ARMS
    eval_split: str = "test"
    eval_limit: int = 120
    results_dir: str = "results"
    seed: int = 0
    steps: int | None = None  # override the RL preset's number of updates

    def __post_init__(self) -> None:
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown:
            raise ConfigError(f"unknown arm(s) {unknown}; choose from {', '.join(ARMS)}")


def _evaluate(policy, kb, questions, label: str, out: Path):
    from .agent.rollout import RolloutConfig
    from .env.kbqa_env import EnvConfig
    from .eval import evaluate

    report = evaluate(policy.model, policy.tokenizer, kb, questions,
                      RolloutConfig(greedy=True, batch_size=8, max_new_tokens=64, env=EnvConfig(max_steps=5)),
                      progress=True, meta={"arm": label, "questions": len(questions)})
    report.save(out)
    return report


def _load_report(path: Path):
    from .eval import EpisodeScore, summarise
    data = json.loads(path.read_text())
    return summarise([EpisodeScore(**e) for e in data["episodes"]], data.get("meta"))


def _summary(config: ExperimentConfig, rows: dict, n_questions: int, started: float) -> dict:
    return {
        "preset": config.preset, "eval_split": config.eval_split, "eval_questions": n_questions,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "wall_seconds": time.time() - started,
        "arms": {name: {"overall": r["report"].overall, "by_level": r["report"].by_level,
                        "train_seconds": r.get("train_seconds"), "curve": [
                            {k: x.get(k) for k in ("step", "reward", "f1", "valid_format", "loss", "distill_loss")}
                            for x in r["log"]]}
                 for name, r in rows.items()},
    }


def _write(results: Path, config: ExperimentConfig, summary: dict) -> None:
    (results / f"experiment_{config.preset}.json").write_text(json.dumps(summary, indent=1) + "\n")
    (results / f"experiment_{config.preset}.md").write_text(markdown_table(summary))
    plot_curves(summary, results / f"experiment_{config.preset}_curves.png")


def run_experiment(config: ExperimentConfig, kb=None) -> dict:
    """Train every arm from the shared SFT checkpoint and score it; results are rewritten after each arm,
    and an arm whose run and evaluation already exist is read back instead of retrained (rerun = resume)."""
    from .data import load_split, sample_questions
    from .kb import open_kb
    from .models import load_policy
    from .training.trainer import JsonlLog, preset, rl_preset, train_rl, train_sft

    results = Path(config.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    kb = kb or open_kb("memory")
    questions = sample_questions(load_split(config.eval_split), config.eval_limit)
    sft_cfg = preset(config.preset, seed=config.seed)
    started = time.time()
    if not (Path(sft_cfg.out_dir) / "final" / "adapter_config.json").exists():
        train_sft(sft_cfg, kb=kb)
    rows = {}
    sft_eval = results / f"exp_{config.preset}_sft.json"
    if sft_eval.exists():
        report = _load_report(sft_eval)
    else:
        warm = load_policy(sft_cfg.model)
        warm.load_adapter(Path(sft_cfg.out_dir) / "final")
        report = _evaluate(warm, kb, questions, "sft", sft_eval)
        del warm
    rows["sft (warm start)"] = {"report": report, "log": []}
    for arm in config.arms:
        method, rl_over = ARMS[arm]
        cfg = rl_preset(config.preset, method, out_dir=f"runs/exp-{config.preset}-{arm}", seed=config.seed,
                        max_steps=config.steps, init_adapter=str(Path(sft_cfg.out_dir) / "final"), rl=rl_over)
        arm_eval = results / f"exp_{config.preset}_{arm}.json"
        final = Path(cfg.out_dir) / "final" / "adapter_config.json"
        log = JsonlLog(Path(cfg.out_dir) / "log.jsonl")
        if arm_eval.exists() and final.exists():
            rows[arm] = {"report": _load_report(arm_eval), "log": log.read(),
                         "train_seconds": max((r["seconds"] for r in log.read()), default=None)}
            continue
        result = train_rl(cfg, kb=kb)
        policy = load_policy(cfg.model)
        policy.load_adapter(Path(cfg.out_dir) / "final")
        rows[arm] = {"report": _evaluate(policy, kb, questions, arm, arm_eval), "train_seconds": result.seconds,
                     "log": result.log}
        del policy
        _write(results, config, _summary(config, rows, len(questions), started))
    summary = _summary(config, rows, len(questions), started)
    _write(results, config, summary)
    return summary


def markdown_table(summary: dict) -> str:
    """One row per arm: F1 overall and per level, Hits@1, valid format, training time."""
    levels = ("i.i.d.", "compositional", "zero-shot")
    head = ("| arm | F1 | " + " | ".join(f"F1 {lvl}" for lvl in levels) + " | Hits@1 | valid format | train min |\n"
            "|---|---|" + "---|" * len(levels) + "---|---|---|\n")
    lines = []
    for name, arm in summary["arms"].items():
        o, by = arm["overall"], arm["by_level"]
        cells = [f"{o['f1']:.3f}"] + [f"{by.get(lvl, {}).get('f1', float('nan')):.3f}" for lvl in levels]
        minutes = f"{arm['train_seconds'] / 60:.1f}" if arm.get("train_seconds") else "–"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {o['hits@1']:.3f} | {o['valid_format']:.2f} | {minutes} |")
    return (f"# Experiment `{summary['preset']}` ({summary['eval_questions']} {summary['eval_split']} questions, greedy)\n\n"
            + head + "\n".join(lines) + "\n")


def plot_curves(summary: dict, path: Path) -> None:
    """Mean reward and valid-format rate per update for each trained arm."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, arm in summary["arms"].items():
        curve = [c for c in arm["curve"] if c.get("reward") is not None]
        if not curve:
            continue
        steps = [c["step"] for c in curve]
        axes[0].plot(steps, [c["reward"] for c in curve], label=name)
        axes[1].plot(steps, [c["valid_format"] for c in curve], label=name)
    axes[0].set_title("mean reward per update")
    axes[1].set_title("valid-format rate of rollouts")
    for ax in axes:
        ax.set_xlabel("update")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
