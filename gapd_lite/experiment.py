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
    "gapd-advantage": ("gapd", {"lam": 0.5, "guidance": "advantage"}),  # the token signal as advantage shaping
}
DEFAULT_ARMS = ("grpo", "gapd", "gapd-prefix", "grpo+sft", "gapd-advantage")
PAIR = ("gapd", "grpo")  # the paired comparison written to results/gapd_vs_grpo.json
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
    eval_limit: int = h("questions scored (0: the whole split); with eval_sample=stratified every question with a "
                        "function is kept and plain ones fill the rest, spread evenly", 300)
    eval_sample: str = h("stratified (every function question, then plain ones) or even (spread over the split)",
                         "stratified", ("stratified", "even"))
    focus: str = h("the RL arms' training questions: sparse (functions a warm start rarely solves, plus as many "
                   "plain ones) or all", "sparse", ("sparse", "all"))
    heldout_every: int = h("every N updates each RL arm logs its held-out gold-action log-prob (0: never)", 5)
    warm_start: str | None = h("an adapter (folder or bundled name) every RL arm starts from; None: train the SFT "
                               "preset first", None)
    results_dir: str = h("where the tables, curves and per-arm scores go", "results")
    runs_dir: str = h("each arm trains in <runs_dir>/exp-<preset>-<arm> (a finished one there is reused)", "runs")
    seed: int = h("the SFT warm start's seed (and the RL seed when `seeds` is not given)", 0)
    num_updates: int | None = h("override the RL preset's number of updates", None)
    seeds: tuple[int, ...] | None = h("comma-separated RL seeds: every arm is trained once per seed from the same "
                                      "warm start (the same seeds for every arm: paired)", (0, 1, 2))
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

    return [{k: x.get(k) for k in ("step", "reward", "f1", "valid_format", "loss", "distill_loss",
                                   "zero_advantage_groups", "heldout_gold_logp")}
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
    from .data import load_split
    from .eval import load_report
    from .kb import open_kb
    from .models import load_policy, resolve_adapter
    from .training.config import preset
    from .training.loop import JsonlLog, update_records
    from .training.trainer import train_rl, train_sft

    results = Path(config.results_dir)
    check_output(results / f"experiment_{config.preset}.json")  # writable, before hours of training
    results.mkdir(parents=True, exist_ok=True)
    kb = kb or open_kb("memory")
    questions = eval_questions(load_split(config.eval_split), config.eval_limit, config.eval_sample)
    sft_cfg = preset("sft", config.preset, seed=config.seed, max_minutes=config.sft_minutes)
    started = time.time()
    warm_final = resolve_adapter(config.warm_start) if config.warm_start else Path(sft_cfg.out_dir) / "final"
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
                         focus=config.focus, heldout_every=config.heldout_every, **rl_over)
            arm_eval = results / f"exp_{config.preset}_{tag}.json"
            final = Path(cfg.out_dir) / "final" / "adapter_config.json"
            if arm_eval.exists() and final.exists():
                log = JsonlLog(Path(cfg.out_dir) / "log.jsonl").read()
                rows.setdefault(arm, {})[seed] = {
                    "report": load_report(arm_eval), "log": log, "episodes": episodes(cfg, len(update_records(log))),
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
                "train_seconds": result.seconds, "log": result.log, "episodes": episodes(cfg, result.steps)}
            del policy
            _write(results, config, _summary(config, rows, len(questions), started))
    summary = _summary(config, rows, len(questions), started)
    _write(results, config, summary)
    first, second = PAIR
    if all(len(rows.get(arm, {})) == len(config.rl_seeds) for arm in PAIR):
        write_paired(results, paired_comparison(rows, questions, config), f"{first}_vs_{second}")
    return summary


def episodes(cfg, updates: int) -> int:
    """Sampled episodes a run of `updates` took: the compute the arms are matched on."""
    return updates * cfg.batch_size * cfg.grad_accum * cfg.group_size


def eval_questions(questions: list, limit: int, sample: str) -> list:
    """The scored questions: all (limit 0), spread evenly, or stratified (every question with a function, then
    plain ones spread evenly to fill `limit`), in split order."""
    from .data import sample_questions

    if limit <= 0 or limit >= len(questions) or sample == "even":
        return sample_questions(questions, limit)
    hard = [q for q in questions if q.function not in (None, "none")]
    if len(hard) >= limit:  # too few places for every function question: spread over them
        return sample_questions(hard, limit)
    plain = sample_questions([q for q in questions if q.function in (None, "none")], limit - len(hard))
    keep = {q.qid for q in hard + plain}
    return [q for q in questions if q.qid in keep]


def paired_comparison(rows: dict, questions: list, config: ExperimentConfig) -> dict:
    """GAPD − GRPO on the same questions and seeds: per arm means with intervals, the paired difference per
    slice (all, functions, each level and function) and an exact test on exact match."""
    from .paired import arm_scores, compare

    qids = [q.qid for q in questions]
    arms = {name: arm_scores([rows[name][seed]["report"] for seed in config.rl_seeds], qids)
            for name in rows if name in ARMS and len(rows[name]) == len(config.rl_seeds)}
    out = compare(arms, *PAIR, [q.level for q in questions], [q.function for q in questions], list(config.rl_seeds))
    episodes = {name: sum(r.get("episodes", 0) for r in rows[name].values()) for name in arms}
    return {"preset": config.preset, "focus": config.focus, "eval_split": config.eval_split,
            "sampled_episodes_per_arm": episodes, **out}


def paired_markdown(result: dict, name: str) -> str:
    """One row per slice: each arm's mean F1 [95% CI], the paired difference [95% CI], the exact-match test."""
    first, second = name.split("_vs_")
    diff = result[f"diff_{first}_minus_{second}"]
    head = (f"# {first} − {second}: paired, {result['n_questions']} {result['eval_split']} questions, seeds "
            f"{result['seeds']}\n\n| slice | n | {first} F1 | {second} F1 | {first} − {second} [95% CI] | "
            "solved only by each (EM) | p |\n|---|---|---|---|---|---|---|\n")
    rows = []
    for s, d in diff.items():
        a, b = (result["arms"][arm]["slices"][s] for arm in (first, second))
        t = d["exact_match_test"]
        rows.append(f"| {s} | {d['n']} | {a['mean']:.3f} [{a['ci95'][0]:.3f}, {a['ci95'][1]:.3f}] | "
                    f"{b['mean']:.3f} [{b['ci95'][0]:.3f}, {b['ci95'][1]:.3f}] | {d['mean']:+.3f} "
                    f"[{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}] | {t['only_first']} / {t['only_second']} | "
                    f"{t['p_value']:.3g} |")
    return head + "\n".join(rows) + "\n"


def write_paired(results: Path, result: dict, name: str) -> None:
    """results/<name>.json, .md and .png (the paired difference per slice with its interval)."""
    import matplotlib.pyplot as plt

    write_text(results / f"{name}.json", json.dumps(result, indent=1) + "\n")
    write_text(results / f"{name}.md", paired_markdown(result, name))
    first, second = name.split("_vs_")
    diff = result[f"diff_{first}_minus_{second}"]
    names = list(diff)
    means = [diff[s]["mean"] for s in names]
    err = [[m - diff[s]["ci95"][0] for s, m in zip(names, means)], [diff[s]["ci95"][1] - m for s, m in zip(names, means)]]
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(names) + 1))
    ax.errorbar(means, range(len(names)), xerr=err, fmt="o", capsize=3)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(range(len(names)), [f"{s} (n={diff[s]['n']})" for s in names])
    ax.invert_yaxis()
    ax.set_xlabel(f"F1: {first} − {second} (mean over seeds, 95% bootstrap CI over questions)")
    fig.tight_layout()
    fig.savefig(results / f"{name}.png", dpi=120)
    plt.close(fig)


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
