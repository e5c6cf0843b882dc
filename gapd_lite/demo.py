"""The main job on the embedded defaults: what `make demo` / `gapd-lite demo` shows."""
from __future__ import annotations

import time

from .data import SPLITS, answer_key, load_split
from .kb.memory import MemoryKB
from .kb.stats import kb_stats
from .kb.terms import display
from .logic.execute import execute, sorted_terms
from .logic.sexpr import function_of, parse
from .logic.to_actions import gold_steps, to_actions
from .verify import format_table, verify_backend


def _show_states(kb, steps, width: int = 4) -> None:
    for step in steps:
        names = kb.names([t for t in step.state if isinstance(t, str)])
        sample = ", ".join(display(t, names) for t in sorted_terms(step.state)[:width])
        more = f" … (+{len(step.state) - width})" if len(step.state) > width else ""
        label = f"#{step.var} = " if step.var is not None else "      "
        print(f"    {label}{str(step.action):<72} → {{{sample}{more}}}")


def run_demo(args) -> int:
    t0 = time.perf_counter()
    if getattr(args, "kb_endpoint", None):
        from .kb import open_kb
        kb = open_kb("http", endpoint=args.kb_endpoint, timeout=args.kb_timeout)
        print(f"[1/5] SPARQL endpoint {args.kb_endpoint}: answering (the bundled questions need it to serve "
              "the bundled KB, e.g. `oxigraph serve`)")
    else:
        kb = MemoryKB.load(args.kb)
        stats = kb_stats(kb)
        print(f"[1/5] bundled Freebase subset: {stats.triples:,} triples, {stats.entities:,} entities, "
              f"{stats.relations} relations in {stats.domains} domains, {stats.cvt_classes} CVT kinds "
              f"(loaded in {time.perf_counter() - t0:.1f} s)")

    questions = {split: load_split(split) for split in SPLITS}
    print(f"[2/5] questions: " + ", ".join(f"{s} {len(qs)}" for s, qs in questions.items()))
    shown, seen = 0, set()
    for q in questions["dev"]:
        fn = function_of(parse(q.s_expression))
        if fn in seen or shown >= args.questions:
            continue
        seen.add(fn)
        shown += 1
        tree = parse(q.s_expression)
        print(f"\n  Q ({q.level}, {fn}): {q.question}\n  S-expression: {q.s_expression}\n  gold actions → gold states:")
        _show_states(kb, gold_steps(to_actions(tree), kb))
        got = execute(tree, kb)
        ok = frozenset(answer_key(t) for t in got) == q.answer_set
        print(f"  answers match the stored ones: {ok}")

    every = [q for qs in questions.values() for q in qs]
    report, bad = verify_backend(every, kb, progress=False)
    print(f"\n[3/5] verify on the {kb.name} backend (all {len(every)} questions; "
          "`gapd-lite verify-data` adds pyoxigraph and rdflib):")
    print(format_table([report]))
    if args.model != "none":
        q = questions["dev"][0]
        policy = agent_episode(kb, q, args.model, args.adapter)
        one_gapd_update(kb, q, policy)
    print(f"\ndone in {time.perf_counter() - t0:.1f} s")
    return 1 if bad else 0


def agent_episode(kb, question, model: str, adapter: str | None):
    """[4/5] the model plays one episode through the environment (greedy); returns the policy for step 5."""
    from .agent.rollout import RolloutConfig, rollout
    from .env.kbqa_env import EnvConfig
    from .errors import ConfigError
    from .models import ModelConfig, adapter_model_config, load_policy, resolve_adapter
    from .training.rewards import f1

    t0 = time.perf_counter()
    try:
        path, missing = resolve_adapter(adapter), ""
    except ConfigError as exc:  # the demo still runs, zero-shot, and says how to get the adapter
        path, missing = None, f": {exc}"
    trained_on = adapter_model_config(path) if path is not None else None
    if trained_on is not None and trained_on.name != model:  # e.g. --model tiny with the bundled sft policy
        path, missing = None, f": the adapter {adapter} was trained on --model {trained_on.name}"
    policy = load_policy(ModelConfig(name=model), adapter=path)
    if path is not None:
        source = f"{model} + adapter {adapter}"
    else:
        source = f"{model} (no adapter: zero-shot{missing or '; `--adapter sft` loads the bundled SFT policy'})"
    print(f"\n[4/5] one agent episode — {source}, loaded in {time.perf_counter() - t0:.1f} s")
    print(f"  Q: {question.question}")
    t1 = time.perf_counter()
    traj = rollout(policy.model, policy.tokenizer, kb, [question],
                   RolloutConfig(greedy=True, env=EnvConfig(max_turns=5)), progress=False)[0]
    for step in traj.steps:
        action = str(step.action) if step.action is not None else "(no valid action)"
        print(f"    {action:<60} → {step.observation[:90]}")
    print(f"  answer F1 {f1(traj.answer, question.answer_set):.2f} after {len(traj.steps)} step(s), "
          f"{traj.generated_tokens} generated tokens, {time.perf_counter() - t1:.1f} s")
    return policy


def one_gapd_update(kb, question, policy, group_size: int = 2) -> None:
    """[5/5] one GAPD update: G sampled rollouts, rewards, mid-anchor alignment, GRPO + λ·distillation, one step."""
    import torch

    from .anchors import MidAnchorMatcher, align_trajectory
    from .training.config import GAPDConfig
    from .training.gapd import gapd_update, sample_batch
    from .training.loop import Part, step_once

    cfg = GAPDConfig(group_size=group_size, lam=0.5, max_new_tokens=48, max_turns=3)
    batch = sample_batch(policy, kb, [question], cfg, seed=0)
    print(f"\n[5/5] one GAPD update on {group_size} sampled rollouts of the same question "
          f"(rewards {[round(r, 2) for r in batch.rewards.tolist()]}, rollouts {batch.rollout_seconds:.1f} s)")
    for step, al in zip(batch.trajectories[0].steps, align_trajectory(MidAnchorMatcher(), batch.gold[0],
                                                                       batch.trajectories[0].steps)):
        wrote = str(step.action) if step.action is not None else "(unparsed)"
        print(f"    student wrote {wrote[:48]:<48} aligned gold action: {al.action}")
    params = [p for p in policy.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    policy.model.train()
    loss, stats = step_once(optimizer, [Part(*gapd_update(policy, batch, cfg, cfg.lam))])
    print(f"  loss {loss:.4f} = GRPO {stats['grpo_loss']:.4f} + λ={cfg.lam} × distillation "
          f"{stats['distill_loss']:.4f} over {stats['action_tokens']:.0f} action tokens")
