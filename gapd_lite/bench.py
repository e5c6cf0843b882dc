"""Benchmarks that print JSON (timings live here, never in tests)."""
from __future__ import annotations

import re
import statistics
import time

from tqdm.auto import tqdm

from .benchio import machine
from .errors import ConfigError


def _alternating(names: list[str], repeat: int, desc: str):
    """Each variant once per round, `repeat` rounds, so that a slow spell of the machine hits all of them alike;
    a progress bar counts the runs (a rollout benchmark takes minutes)."""
    with tqdm(total=repeat * len(names), desc=desc, unit="run") as bar:
        for _ in range(repeat):
            for name in names:
                bar.set_postfix_str(name)
                yield name
                bar.update()


def _best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


class DecoderClock:
    """Seconds the decoder spends on prefill (several new tokens per row) and on decode (one), via forward hooks.

    What is left of a run's wall time (the vocabulary head, sampling, generate's bookkeeping, the env) is "other".
    """

    def __init__(self, model):
        from .models import base_model
        self.decoder = base_model(model).get_decoder()
        self.seconds = {"prefill": 0.0, "decode": 0.0}
        self._start, self._hooks = 0.0, []

    def __enter__(self) -> "DecoderClock":
        def start(module, args, kwargs):
            self._start = time.perf_counter()

        def stop(module, args, kwargs, out):
            ids = kwargs.get("input_ids") if kwargs.get("input_ids") is not None else kwargs.get("inputs_embeds")
            ids = ids if ids is not None else args[0]
            self.seconds["decode" if ids.shape[1] == 1 else "prefill"] += time.perf_counter() - self._start

        self._hooks = [self.decoder.register_forward_pre_hook(start, with_kwargs=True),
                       self.decoder.register_forward_hook(stop, with_kwargs=True)]
        return self

    def __exit__(self, *exc) -> None:
        for hook in self._hooks:
            hook.remove()


def bench_kb(limit: int = 300, repeat: int = 3, kb_path=None, endpoint: str | None = None, timeout: float = 30.0) -> dict:
    """Per-form execution time: the in-memory executor vs the SPARQL translation on pyoxigraph and on rdflib
    (and on a SPARQL endpoint serving the same KB, when one is given)."""
    if limit < 1 or repeat < 1:
        raise ConfigError("--limit and --repeat must be at least 1")
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
    if endpoint:
        from .kb.sparql import HttpKB
        kbs["http"], loads["http"] = HttpKB(endpoint, timeout=timeout), 0.0
    times: dict[str, list[float]] = {name: [] for name in kbs}
    for q in tqdm(questions, desc="bench kb", leave=False):
        tree = parse(q.s_expression)
        sparql = to_sparql(tree)
        times["memory"].append(_best_of(lambda: execute(tree, kbs["memory"], check=False), repeat))
        times["oxigraph"].append(_best_of(lambda: kbs["oxigraph"].run_query(sparql), repeat))
        times["rdflib"].append(_best_of(lambda: kbs["rdflib"].run_query(sparql), repeat))
        if "http" in kbs:
            times["http"].append(_best_of(lambda: kbs["http"].run_query(sparql), repeat))
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


def bench_rollout(questions: int = 8, max_new_tokens: int = 64, max_turns: int = 3, model: str = "embedded",
                  adapter: str | None = None, share_prefix: bool = True, ragged_prefill: bool = True,
                  kv_cache: str = "growing", decode_chunk: int | None = None, repeat: int = 1,
                  dtype: str = "auto") -> dict:
    """Batched rollouts (batch 8) vs one episode at a time: same model, same questions, greedy; the best of
    `repeat` alternating runs of each (this machine's speed drifts by ~10% between minutes)."""
    from .agent.rollout import RolloutConfig, rollout, shared_prefix_len
    from .data import load_split, sample_questions
    from .env.kbqa_env import EnvConfig
    from .kb import open_kb
    from .models import ModelConfig, load_policy

    policy = load_policy(ModelConfig(name=model, dtype=dtype))
    if adapter:
        policy.load_adapter(adapter)
    kb = open_kb("memory")
    qs = sample_questions(load_split("dev"), questions)
    env = EnvConfig(max_turns=max_turns)
    rollout(policy.model, policy.tokenizer, kb, qs[:1], RolloutConfig(greedy=True, max_new_tokens=8, env=env), progress=False)
    configs = {name: RolloutConfig(greedy=True, batch_size=batch, max_new_tokens=max_new_tokens, env=env,
                                   share_prefix=share_prefix, ragged_prefill=ragged_prefill, kv_cache=kv_cache,
                                   **({} if decode_chunk is None else {"decode_chunk": decode_chunk}))
               for name, batch in (("batched", 8), ("one_at_a_time", 1))}
    runs: dict[str, list[float]] = {name: [] for name in configs}
    outputs, split = {}, {}
    for name in _alternating(list(configs), repeat, "bench rollout"):
        with DecoderClock(policy.model) as clock:
            t0 = time.perf_counter()
            outputs[name] = rollout(policy.model, policy.tokenizer, kb, qs, configs[name], progress=False)
            runs[name].append(time.perf_counter() - t0)
        if runs[name][-1] == min(runs[name]):  # where the best run's time went
            split[name] = {**clock.seconds, "other": runs[name][-1] - sum(clock.seconds.values())}
    timings = {name: min(ts) for name, ts in runs.items()}
    tokens = {k: sum(t.generated_tokens for t in v) for k, v in outputs.items()}
    same = all(a.rendered.ids == b.rendered.ids for a, b in zip(outputs["batched"], outputs["one_at_a_time"]))
    trajs = outputs["batched"]
    shared = shared_prefix_len([t.rendered.ids for t in trajs]) if share_prefix else 0
    # tokens read in (question, observations; the shared system prompt once): prefill is compute-bound on a CPU,
    # so batching does not make it cheaper, and its share of the time caps the speed-up
    prefilled = sum(len(t.rendered.ids) - t.generated_tokens for t in trajs) - shared * (len(trajs) - 1)
    return {"benchmark": "rollout", "model": model, "adapter": adapter, "dtype": str(policy.model.dtype).removeprefix("torch."),
            "questions": len(qs), "max_new_tokens": max_new_tokens,
            "max_turns": max_turns, "shared_prefix_prefilled_once": share_prefix,
            "ragged_prefill": ragged_prefill, "kv_cache": kv_cache,
            "decode_chunk": configs["batched"].decode_chunk, "machine": machine(), "repeat": repeat, "seconds": timings, "seconds_each_run": runs,
            "generated_tokens": tokens, "prefilled_tokens": prefilled,
            # decoder time by kind: batching shares decode steps, not the compute-bound prefill
            "seconds_split": split,
            "decode_speedup": split["one_at_a_time"]["decode"] / split["batched"]["decode"],
            "tokens_per_s": {k: tokens[k] / timings[k] for k in timings},
            "speedup": timings["one_at_a_time"] / timings["batched"], "identical_trajectories": same,
            "goal": ">= 3.5x at batch 8 on 2 CPU cores", "goal_met": timings["one_at_a_time"] / timings["batched"] >= 3.5}


def bench_eval(questions: int = 80, adapter: str | None = "sft", model: str = "embedded", batch_size: int = 8,
               fast_batch_size: int = 32, fast_dtype: str = "bfloat16", max_turns: int = 8) -> dict:
    """Evaluation as it runs today (float32 LoRA policy, batch 8) against the fastest path the package offers
    (the adapter merged into a `fast_dtype` copy, `fast_batch_size` episodes together), on the same dev
    questions, in one run: questions per minute, F1 and valid format of each."""
    from .agent.rollout import RolloutConfig
    from .data import load_split, sample_questions
    from .env.kbqa_env import EnvConfig
    from .eval import evaluate
    from .kb import open_kb
    from .models import MergedGenerator, ModelConfig, load_policy

    policy = load_policy(ModelConfig(name=model), adapter=adapter)
    kb = open_kb("memory")
    qs = sample_questions(load_split("dev"), questions)
    env = EnvConfig(max_turns=max_turns)
    paths = {"baseline": (policy.model, RolloutConfig(greedy=True, batch_size=batch_size, env=env)),
             "fast": (MergedGenerator(policy, fast_dtype).model, RolloutConfig(greedy=True, batch_size=fast_batch_size, env=env))}
    out = {}
    for name, (m, config) in paths.items():
        t0 = time.perf_counter()
        report = evaluate(m, policy.tokenizer, kb, qs, config, progress=True)
        out[name] = (time.perf_counter() - t0, report.overall)
    qpm = {k: 60 * len(qs) / sec for k, (sec, _) in out.items()}
    f1 = {k: o["f1"] for k, (_, o) in out.items()}
    return {"benchmark": "eval", "model": model, "adapter": adapter, "questions": len(qs), "machine": machine(),
            "baseline": {"dtype": str(policy.model.dtype).removeprefix("torch."), "batch_size": batch_size,
                         "lora": "unmerged"},
            "fast": {"dtype": fast_dtype, "batch_size": fast_batch_size, "lora": "merged"},
            "seconds": {k: sec for k, (sec, _) in out.items()}, "questions_per_minute": qpm,
            "speedup": qpm["fast"] / qpm["baseline"], "f1": f1,
            "valid_format": {k: o["valid_format"] for k, (_, o) in out.items()},
            "goal": "speedup >= 4x with |dF1| <= 0.02",
            "goal_met": qpm["fast"] / qpm["baseline"] >= 4 and abs(f1["fast"] - f1["baseline"]) <= 0.02}


def bench_rl(questions: int = 2, group_size: int = 4, updates: int = 2, adapter: str | None = "sft",
             model: str = "embedded", fast_dtype: str = "bfloat16", fast_rollout_batch: int = 16) -> dict:
    """Sampled episodes per minute of whole GAPD updates (rollouts + the update + the optimizer step): the
    cpu-small preset as it runs today (rollouts from the float32 LoRA policy, 8 at a time) against rollouts from a
    merged `fast_dtype` copy synced to the policy each update, `fast_rollout_batch` at a time. The update itself
    is the same fast path in both (equal to the reference: tests/test_rl.py); the same questions and seeds."""
    from dataclasses import replace

    import torch

    from .data import load_split
    from .kb import open_kb
    from .models import MergedGenerator, ModelConfig, load_policy
    from .training.config import preset
    from .training.gapd import sample_batch
    from .training.gapd_fast import fast_update_parts
    from .training.loop import step_once

    kb = open_kb("memory")
    qs = load_split("train")[:questions * updates]
    cfg = replace(preset("gapd", "cpu-small"), group_size=group_size)
    paths = {"baseline": (cfg, None), "fast": (replace(cfg, rollout_batch=fast_rollout_batch), fast_dtype)}
    out = {}
    for name, (c, dtype) in paths.items():
        policy = load_policy(ModelConfig(name=model, lora_dropout=0.0), adapter=adapter)
        optimizer = torch.optim.AdamW([p for p in policy.model.parameters() if p.requires_grad], lr=c.lr)
        generator = MergedGenerator(policy, dtype) if dtype else None
        t0, n, rollout_s = time.perf_counter(), 0, 0.0
        for u in range(updates):
            if generator is not None:
                generator.sync(policy)
            batch = sample_batch(policy, kb, qs[u * questions:(u + 1) * questions], c, seed=u, generator=generator)
            policy.model.train()
            step_once(optimizer, fast_update_parts(policy, batch, c, c.lam))
            n, rollout_s = n + len(batch.trajectories), rollout_s + batch.rollout_seconds
        seconds = time.perf_counter() - t0
        out[name] = {"seconds": seconds, "episodes": n, "rollout_seconds": rollout_s,
                     "episodes_per_minute": 60 * n / seconds}
        del policy, generator
    speedup = out["fast"]["episodes_per_minute"] / out["baseline"]["episodes_per_minute"]
    return {"benchmark": "rl", "model": model, "adapter": adapter, "questions_per_update": questions,
            "group_size": group_size, "updates": updates, "machine": machine(), **out,
            "fast_path": {"rollouts": f"merged {fast_dtype} copy", "rollout_batch": fast_rollout_batch},
            "speedup": speedup, "goal": "speedup >= 3x", "goal_met": speedup >= 3}


def bench_ranking(splits: tuple[str, ...] = ("train", "dev", "test"), kb_path=None) -> dict:
    """Where the gold relation sits in the list `get_relations` shows before the gold hop, in the KB's
    (alphabetical) order and ranked by question overlap (env/relevance.py); and whether the classes listed with a
    set include the class the gold `filter_class` keeps. Not a timing: a quality check."""
    from .agent.gold import gold_episode
    from .data import load_split
    from .logic.actions import Var
    from .env.kbqa_env import CLASSES, EnvConfig
    from .env.relevance import rank_relations
    from .kb.memory import MemoryKB
    from .logic.execute import run_action

    kb = MemoryKB.load(kb_path)
    per_split = {}
    for split in splits:
        ranks: dict[str, list[int]] = {"alphabetical": [], "ranked": []}
        classes: list[int] = []  # where a gold filter_class's class sits among the classes listed with its input
        for q in load_split(split):
            _, env = gold_episode(q, kb, EnvConfig(max_turns=64, rank_relations=False))
            bound = {rec.var: rec.observation for rec in env.history if rec.var is not None}
            for rec in env.history:
                if rec.action is not None and rec.action.name == "filter_class" and isinstance(rec.action.args[0], Var):
                    listed = re.search(re.escape(CLASSES) + r"\[(.*)\]$", bound[rec.action.args[0].index])
                    shown = listed.group(1).split(", ") if listed else []
                    gold = str(rec.action.args[1])
                    classes.append(shown.index(gold) if gold in shown else 100)
            for rec, nxt in zip(env.history, env.history[1:]):
                if rec.action is None or rec.action.name != "get_relations" or nxt.action is None \
                        or nxt.action.name != "get_neighbors" or nxt.action.args[0] != rec.action.args[0]:
                    continue
                rels, gold = run_action(kb, rec.action, list(rec.states)), str(nxt.action.args[1])
                if gold in rels:
                    ranks["alphabetical"].append(rels.index(gold))
                    ranks["ranked"].append(rank_relations(rels, q.question).index(gold))
        per_split[split] = {order: {"lists": len(r), "top1": _share(r, 1), "top3": _share(r, 3), "top5": _share(r, 5),
                                    "median_rank": statistics.median(r) + 1 if r else None}
                            for order, r in ranks.items()}
        per_split[split]["classes"] = {"steps": len(classes), "listed": _share(classes, 100), "first": _share(classes, 1),
                                       "top3": _share(classes, 3)}
    return {"benchmark": "ranking", "machine": machine(), "splits": per_split}


def _share(ranks: list[int], k: int) -> float:
    return round(sum(r < k for r in ranks) / len(ranks), 4) if ranks else 0.0


def gold_batch(policy, kb, questions: int = 4, group_size: int = 2, max_tokens: int | None = None):
    """A fixed batch: G copies of each question's gold dialogue (every step has an action to distil),
    cut to `max_tokens` when given."""
    import torch

    from dataclasses import replace

    from .agent.gold import gold_trajectory
    from .agent.render import truncate
    from .data import load_split, sample_questions
    from .training.gapd import Batch, gold_programs
    from .training.losses import group_advantages

    chosen = sample_questions(load_split("dev"), questions)
    gold = [program for program in gold_programs(chosen, kb) for _ in range(group_size)]
    trajs = []
    for q in chosen:
        traj = gold_trajectory(policy.tokenizer, q, kb)
        if max_tokens:
            traj = replace(traj, rendered=truncate(traj.rendered, max_tokens))
        trajs += [replace(traj, sample=g) for g in range(group_size)]  # the losses only read the rendered ids
    rewards = torch.tensor([float(i % 2) for i in range(len(trajs))])
    return Batch(trajs, rewards, group_advantages(rewards, group_size), gold)


def bench_step(model: str = "embedded", questions: int = 2, group_size: int = 2, repeat: int = 2,
               max_tokens: int = 512) -> dict:
    """One GAPD update vs one GRPO update (forward, backward, optimiser step) on the same batch and model
    (batch 4 × 512 tokens by default: the shape the naive version was measured at); also GAPD with the teacher
    one step at a time and with full teacher forwards (no prefix reuse)."""
    import torch

    from .kb import open_kb
    from .models import ModelConfig, load_policy
    from .training.config import GAPDConfig
    from .training.gapd_fast import fast_update_parts
    from .training.loop import step_once

    policy = load_policy(ModelConfig(name=model))
    kb = open_kb("memory")
    batch = gold_batch(policy, kb, questions, group_size, max_tokens)
    optimizer = torch.optim.AdamW([p for p in policy.model.parameters() if p.requires_grad], lr=1e-6)
    variants = {"grpo": GAPDConfig(method="grpo", group_size=group_size, lam=0.0),
                "gapd": GAPDConfig(group_size=group_size, lam=0.5),
                "gapd_teacher_step_by_step": GAPDConfig(group_size=group_size, lam=0.5, teacher_batch=1),
                "gapd_naive_teacher": GAPDConfig(group_size=group_size, lam=0.5, teacher_cache=False)}
    policy.model.train()

    def update(cfg):
        t0 = time.perf_counter()
        _, stats = step_once(optimizer, fast_update_parts(policy, batch, cfg, cfg.lam))
        return time.perf_counter() - t0, stats

    update(variants["grpo"])  # warm-up: allocator and kernels
    times = {k: [] for k in variants}
    for name in _alternating(list(variants), repeat, "bench step"):
        seconds, _ = update(variants[name])
        times[name].append(seconds)
    best = {k: min(v) for k, v in times.items()}
    tokens = sum(len(t.rendered.ids) for t in batch.trajectories)
    return {"benchmark": "step", "model": model, "trajectories": len(batch.trajectories), "tokens": tokens,
            "max_tokens": max_tokens,
            "action_steps": sum(1 for t in batch.trajectories for s in t.rendered.action_spans if s),
            "machine": machine(), "seconds": best, "gapd_over_grpo": best["gapd"] / best["grpo"],
            "naive_teacher_over_grpo": best["gapd_naive_teacher"] / best["grpo"],
            "step_by_step_teacher_over_grpo": best["gapd_teacher_step_by_step"] / best["grpo"],
            "goal": "gapd/grpo <= 1.25", "goal_met": best["gapd"] / best["grpo"] <= 1.25}


def bench_all() -> dict:
    """kb, rollout and step (and gpu when CUDA is there) in one JSON, plus a markdown summary."""
    import torch

    from .gpu_bench import bench_gpu

    parts = {"kb": bench_kb(), "rollout": bench_rollout(), "step": bench_step()}
    if torch.cuda.is_available():
        parts["gpu"] = bench_gpu()
    else:
        parts["gpu"] = {"skipped": "no CUDA device: run `gapd-lite bench gpu` (or benchmarks/gpu_check.sh) on a GPU"}
    return {"benchmark": "all", "machine": machine(), **parts}


def summary_markdown(result: dict) -> str:
    """The headline figure of each benchmark, one table row each."""
    rows = []
    kb = result.get("kb")
    if kb:
        med = {k: v["median_ms"] for k, v in kb["per_form"].items()}
        rows.append(("kb", f"median per form: memory {med['memory']:.4f} ms, oxigraph {med['oxigraph']:.3f} ms, rdflib "
                           f"{med['rdflib']:.2f} ms; rdflib/memory {kb['rdflib_over_memory']['median_of_ratios']:.0f}×",
                     kb["goal"], kb["goal_met"]))
    ro = result.get("rollout")
    if ro:
        rows.append(("rollout", f"batch 8 {ro['seconds']['batched']:.1f} s vs one at a time "
                                f"{ro['seconds']['one_at_a_time']:.1f} s: {ro['speedup']:.2f}× (identical: "
                                f"{ro['identical_trajectories']})", ro["goal"], ro["goal_met"]))
    st = result.get("step")
    if st:
        rows.append(("step", f"GAPD/GRPO update time {st['gapd_over_grpo']:.2f}× (naive teacher "
                             f"{st['naive_teacher_over_grpo']:.2f}×, step-by-step teacher "
                             f"{st.get('step_by_step_teacher_over_grpo', float('nan')):.2f}×)"
                             "", st["goal"], st["goal_met"]))
    gpu = result.get("gpu")
    if gpu and "skipped" not in gpu:
        rows.append(("gpu", "; ".join(f"{r['shape']}: peak {r['peak_gb']:.2f} GB" if "peak_gb" in r
                                     else f"{r['shape']}: {r.get('error', 'no figure')}" for r in gpu.get("updates", [])),
                     gpu.get("goal", ""), gpu.get("goal_met", "")))
    elif gpu:
        rows.append(("gpu", gpu["skipped"], "", ""))
    m = result.get("machine", {})
    head = (f"# gapd-lite benchmarks\n\nMachine: {m.get('cpus')} CPUs, {m.get('platform')}, Python {m.get('python')}, "
            f"torch {m.get('torch')}" + (f", GPU {m['gpu']}" if m.get("gpu") else "") + "\n\n"
            "| benchmark | figure | goal | met |\n|---|---|---|---|\n")
    return head + "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows) + "\n"


def _gpu(shapes: tuple[str, ...] = ("embedded", "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b"), tokens: int = 1024,
         lora_r: int = 16, gen_tokens: int = 128, tokenizer: str | None = None, static_cache: bool = False,
         partial_out: str | None = None) -> dict:
    """`gpu_bench.bench_gpu` (imported only when run: it needs CUDA); its parameters spelled out, since the CLI
    builds `bench gpu`'s flags from this signature."""
    from .gpu_bench import bench_gpu
    return bench_gpu(shapes, tokens, lora_r, gen_tokens, partial_out, tokenizer, static_cache)


BENCHMARKS = {"kb": bench_kb, "rollout": bench_rollout, "eval": bench_eval, "rl": bench_rl, "step": bench_step, "ranking": bench_ranking, "gpu": _gpu,
              "all": bench_all}
HELP = {
    "limit": "questions whose forms are timed", "repeat": "repetitions per measurement (the best is kept)",
    "kb_path": "N-Triples(.gz) KB file (default: the bundled Freebase subset)",
    "endpoint": "also time a SPARQL 1.1 endpoint at this URL", "timeout": "per-query timeout of the endpoint (s)",
    "questions": "dev questions", "max_new_tokens": "tokens per turn", "max_turns": "turns per episode",
    "model": "embedded | tiny | a Hugging Face id or local path", "adapter": "trained LoRA weights: sft | grpo | gapd (bundled) | none | a folder",
    "share_prefix": "prefill the system prompt every episode shares once", "ragged_prefill":
    "prefill each episode's new tokens on its own (no pads)", "kv_cache": "growing | dynamic | static",
    "decode_chunk": "decode in chunks of N tokens, finished episodes leaving the batch (0: one call per turn)",
    "dtype": "auto | float32 | bfloat16 | float16", "splits": "comma-separated splits",
    "group_size": "G trajectories per question", "max_tokens": "tokens per trajectory",
    "shapes": "comma-separated subset of embedded,qwen2.5-0.5b,qwen2.5-1.5b,qwen2.5-3b", "tokens": "tokens per update",
    "lora_r": "LoRA rank", "gen_tokens": "new tokens per generation probe",
    "tokenizer": "tokenizer folder for the random-weight shapes (default: the embedded one)",
    "static_cache": "also time generation with a static KV cache",
    "batch_size": "episodes generated together on the baseline path", "fast_batch_size": "... on the fast path",
    "fast_dtype": "weights of the fast path's merged copy (bfloat16 pays on CPUs with AMX-BF16)",
    "updates": "whole updates timed per path", "fast_rollout_batch": "episodes generated together on the fast path",
}
