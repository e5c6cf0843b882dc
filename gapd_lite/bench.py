"""Benchmarks that print JSON (timings live here, never in tests)."""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

from tqdm.auto import tqdm

from .errors import ConfigError


def machine() -> dict:
    """Where a figure was measured."""
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        import torch
        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def _best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_kb(limit: int = 300, repeat: int = 3, kb_path=None) -> dict:
    """Per-form execution time: the in-memory executor vs the SPARQL translation on pyoxigraph and on rdflib."""
    from .data import SPLITS, load_split
    from .kb.memory import MemoryKB
    from .kb.sparql import OxigraphKB, RdflibKB
    from .logic.execute import execute
    from .logic.sexpr import parse
    from .logic.to_sparql import to_sparql

    questions = [q for split in SPLITS for q in load_split(split)]
    step = max(1, len(questions) // limit)
    questions = questions[::step][:limit]
    loads, kbs = {}, {}
    for name, cls in (("memory", MemoryKB.load), ("oxigraph", OxigraphKB), ("rdflib", RdflibKB)):
        t0 = time.perf_counter()
        kbs[name] = cls(kb_path)
        loads[name] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in kbs}
    for q in tqdm(questions, desc="bench kb", leave=False):
        tree = parse(q.s_expression)
        sparql = to_sparql(tree)
        times["memory"].append(_best_of(lambda: execute(tree, kbs["memory"], check=False), repeat))
        times["oxigraph"].append(_best_of(lambda: kbs["oxigraph"].run_query(sparql), repeat))
        times["rdflib"].append(_best_of(lambda: kbs["rdflib"].run_query(sparql), repeat))
    per_form = {name: {"mean_ms": 1e3 * statistics.fmean(ts), "median_ms": 1e3 * statistics.median(ts),
                       "total_s": sum(ts), "load_s": loads[name]} for name, ts in times.items()}
    ratios = [r / m for r, m in zip(times["rdflib"], times["memory"]) if m > 0]
    ox_ratios = [o / m for o, m in zip(times["oxigraph"], times["memory"]) if m > 0]
    return {
        "benchmark": "kb", "forms": len(questions), "repeat": repeat, "machine": machine(), "per_form": per_form,
        "rdflib_over_memory": {"median_of_ratios": statistics.median(ratios),
                               "ratio_of_totals": sum(times["rdflib"]) / sum(times["memory"])},
        "oxigraph_over_memory": {"median_of_ratios": statistics.median(ox_ratios),
                                 "ratio_of_totals": sum(times["oxigraph"]) / sum(times["memory"])},
        "goal": "memory >= 50x faster than rdflib per form",
        "goal_met": statistics.median(ratios) >= 50,
    }


def bench_rollout(questions: int = 8, max_new_tokens: int = 64, max_steps: int = 3, model: str = "embedded") -> dict:
    """Batched rollouts (batch 8) vs one episode at a time: same model, same questions, greedy, one run."""
    from .agent.rollout import RolloutConfig, rollout
    from .data import load_split, sample_questions
    from .env.kbqa_env import EnvConfig
    from .kb import open_kb
    from .models import ModelConfig, load_policy

    policy = load_policy(ModelConfig(name=model))
    kb = open_kb("memory")
    qs = sample_questions(load_split("dev"), questions)
    env = EnvConfig(max_steps=max_steps)
    rollout(policy.model, policy.tokenizer, kb, qs[:1], RolloutConfig(greedy=True, max_new_tokens=8, env=env), progress=False)
    timings, outputs = {}, {}
    for name, batch in (("batched", 8), ("one_at_a_time", 1)):
        t0 = time.perf_counter()
        trajs = rollout(policy.model, policy.tokenizer, kb, qs, RolloutConfig(
            greedy=True, batch_size=batch, max_new_tokens=max_new_tokens, env=env), progress=False)
        timings[name] = time.perf_counter() - t0
        outputs[name] = trajs
    tokens = {k: sum(t.generated_tokens for t in v) for k, v in outputs.items()}
    same = all(a.rendered.ids == b.rendered.ids for a, b in zip(outputs["batched"], outputs["one_at_a_time"]))
    return {"benchmark": "rollout", "model": model, "questions": len(qs), "max_new_tokens": max_new_tokens,
            "max_steps": max_steps, "machine": machine(), "seconds": timings, "generated_tokens": tokens,
            "tokens_per_s": {k: tokens[k] / timings[k] for k in timings},
            "speedup": timings["one_at_a_time"] / timings["batched"], "identical_trajectories": same,
            "goal": ">= 3.5x at batch 8 on 2 CPU cores", "goal_met": timings["one_at_a_time"] / timings["batched"] >= 3.5}


def gold_batch(policy, kb, questions: int = 4, group_size: int = 2):
    """A fixed batch: G copies of each question's gold dialogue (every step has an action to distil)."""
    import torch

    from .agent.gold import gold_episode, task_for
    from .agent.render import render_dialogue
    from .agent.rollout import Trajectory
    from .data import load_split, sample_questions
    from .logic.sexpr import parse
    from .logic.to_actions import gold_steps, to_actions
    from .training.losses import group_advantages
    from .training.rl import Batch

    trajs, gold = [], []
    for q in sample_questions(load_split("dev"), questions):
        gold.append(gold_steps(to_actions(parse(q.s_expression)), kb))
        turns, env = gold_episode(q, kb)
        for g in range(group_size):
            rendered = render_dialogue(policy.tokenizer, task_for(q, kb), turns)
            trajs.append(Trajectory(task_for(q, kb), rendered, env.history, env.answer, q, g))
    rewards = torch.tensor([float(i % 2) for i in range(len(trajs))])
    return Batch(trajs, rewards, group_advantages(rewards, group_size), gold)


def bench_step(model: str = "embedded", questions: int = 4, group_size: int = 2, repeat: int = 2) -> dict:
    """One GAPD update vs one GRPO update (forward, backward, optimiser step) on the same batch and model."""
    import torch

    from .kb import open_kb
    from .models import ModelConfig, load_policy
    from .training.rl import RLSettings, rl_update_loss

    policy = load_policy(ModelConfig(name=model))
    kb = open_kb("memory")
    batch = gold_batch(policy, kb, questions, group_size)
    optimizer = torch.optim.AdamW([p for p in policy.model.parameters() if p.requires_grad], lr=1e-6)
    variants = {"grpo": (RLSettings(group_size=group_size), 0.0),
                "gapd": (RLSettings(group_size=group_size, lam=0.5), 0.5),
                "gapd_naive_teacher": (RLSettings(group_size=group_size, lam=0.5, teacher_cache=False), 0.5)}
    policy.model.train()

    def update(settings, lam):
        t0 = time.perf_counter()
        loss, stats = rl_update_loss(policy, batch, settings, lam)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - t0, stats

    update(*variants["grpo"])  # warm-up: allocator and kernels
    times = {k: [] for k in variants}
    match = []
    for _ in range(repeat):
        for name, (settings, lam) in variants.items():
            seconds, stats = update(settings, lam)
            times[name].append(seconds)
            if name == "gapd":
                match.append(stats["match_s"] / seconds)
    best = {k: min(v) for k, v in times.items()}
    tokens = sum(len(t.rendered.ids) for t in batch.trajectories)
    return {"benchmark": "step", "model": model, "trajectories": len(batch.trajectories), "tokens": tokens,
            "action_steps": sum(1 for t in batch.trajectories for s in t.rendered.action_spans if s),
            "machine": machine(), "seconds": best, "gapd_over_grpo": best["gapd"] / best["grpo"],
            "naive_teacher_over_grpo": best["gapd_naive_teacher"] / best["grpo"],
            "matching_share_of_gapd_step": max(match), "goal": "gapd/grpo <= 1.25, matching <= 2% of the step",
            "goal_met": best["gapd"] / best["grpo"] <= 1.25 and max(match) <= 0.02}


def run(what: str, args) -> dict:
    if what == "kb":
        if args.limit < 1 or args.repeat < 1:
            raise ConfigError("--limit and --repeat must be at least 1")
        result = bench_kb(args.limit, args.repeat, args.kb)
    elif what == "rollout":
        result = bench_rollout(model=getattr(args, "model", None) or "embedded")
    elif what == "step":
        result = bench_step(model=getattr(args, "model", None) or "embedded")
    else:
        raise ConfigError(f"unknown benchmark {what!r}")
    if getattr(args, "out", None):
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result
