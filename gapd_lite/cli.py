"""`gapd-lite …`: the same jobs the notebooks run, from a shell."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from .agent.prompts import TURN_TOKENS
from .errors import ConfigError, GapdError


def _add_kb_flags(p: argparse.ArgumentParser, backend: bool = True) -> None:
    p.add_argument("--kb", metavar="PATH", help="N-Triples(.gz) KB file (default: the bundled Freebase subset)")
    p.add_argument("--kb-endpoint", metavar="URL", help="a SPARQL 1.1 endpoint (Virtuoso with Freebase, Oxigraph, Fuseki)")
    p.add_argument("--kb-timeout", type=float, default=30.0, metavar="S", help="per-query timeout for --kb-endpoint")
    if backend:
        p.add_argument("--backend", default="memory", choices=("memory", "oxigraph", "rdflib", "http"))


def _open(args, backend: str | None = None):
    from .kb import open_kb
    return open_kb(backend or getattr(args, "backend", "memory"), args.kb, args.kb_endpoint, args.kb_timeout)


# ---------------------------------------------------------------------------- commands
def cmd_kb_stats(args) -> int:
    from .kb.memory import MemoryKB
    from .kb.stats import kb_stats
    if args.kb_endpoint:
        raise ConfigError("kb-stats counts a local KB file; drop --kb-endpoint (or use --kb PATH)")
    stats = kb_stats(MemoryKB.load(args.kb))
    print(json.dumps(stats.as_dict(), indent=2))
    return 0


def cmd_query(args) -> int:
    from .logic.execute import execute, run_actions, sorted_terms
    from .logic.sexpr import parse
    from .logic.to_actions import gold_steps, to_actions
    from .logic.to_sparql import to_sparql
    from .kb.terms import display

    tree = parse(args.form)
    if args.sparql:
        print(to_sparql(tree))
    if args.no_execute:
        for a in to_actions(tree):
            print(a)
        return 0
    kb = _open(args)
    answers = sorted_terms(execute(tree, kb))
    if args.actions:
        for step in gold_steps(to_actions(tree), kb):
            print(f"{str(step.action):<70} -> {len(step.state)} item(s)")
    names = kb.names([a for a in answers if isinstance(a, str)])
    print(f"{len(answers)} answer(s) on {kb.name}:")
    for a in answers[: args.limit]:
        print("  " + display(a, names))
    if len(answers) > args.limit:
        print(f"  … and {len(answers) - args.limit} more")
    return 0


def cmd_convert(args) -> int:
    from .convert import convert_file
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    try:
        counts = convert_file(args.input, out)
    finally:
        if args.out:
            out.close()
    print(f"converted {counts['ok']} of {counts['total']} record(s); {counts['error']} with an error"
          + (f" (see the 'error' field in {args.out})" if counts["error"] and args.out else ""), file=sys.stderr)
    return 0


def cmd_verify_data(args) -> int:
    from .data import load_questions, load_split, SPLITS
    from .kb import LOCAL_BACKENDS
    from .verify import format_table, verify_backend

    questions = []
    if args.questions:
        questions = load_questions(args.questions)
    else:
        for split in SPLITS:
            questions += load_split(split)
    if args.limit:
        questions = questions[: args.limit]
    backends = args.backends.split(",") if args.backends else list(LOCAL_BACKENDS) + (["http"] if args.kb_endpoint else [])
    reports, problems = [], []
    for name in backends:
        kb = _open(args, name)
        report, bad = verify_backend(questions, kb, progress=not args.quiet)
        reports.append(report)
        problems += bad
        kb.close()
    print(format_table(reports))
    for p in problems[:20]:
        print(f"DISAGREE {p.qid} [{p.backend}/{p.route}] {p.detail}")
    if problems:
        print(f"{len(problems)} disagreement(s)")
        return 1
    print(f"all {len(questions)} questions agree on {', '.join(backends)}")
    return 0


def cmd_bench(args) -> int:
    from . import bench
    result = bench.run(args.what, args)
    print(json.dumps(result, indent=2))
    return 0


def cmd_train(args) -> int:
    from dataclasses import replace

    from .training.trainer import preset, rl_preset, train_rl, train_sft

    overrides = {"out_dir": args.out, "max_steps": args.steps, "max_questions": args.max_questions,
                 "init_adapter": args.init_adapter, "seed": args.seed, "split": args.questions,
                 "max_minutes": args.max_minutes, "lr": args.lr, "function_repeat": args.function_repeat}
    if args.model or args.dtype != "auto":
        base = preset(args.preset) if args.method == "sft" else rl_preset(args.preset, args.method)
        overrides["model"] = replace(base.model, **({"name": args.model} if args.model else {}), dtype=args.dtype)
    if args.method == "sft":
        result = train_sft(preset(args.preset, **overrides), kb=_open(args, "memory"), progress=not args.quiet)
    else:
        rl = {k: v for k, v in {"lam": args.lam, "divergence": args.divergence, "matcher": args.matcher,
                                "lam_schedule": args.lam_schedule, "distill_tokens": args.distill_tokens,
                                "explore": args.explore}.items()
              if v is not None}
        result = train_rl(rl_preset(args.preset, args.method, rl=rl, **overrides), kb=_open(args, "memory"),
                          progress=not args.quiet)
    print(json.dumps({"out_dir": str(result.out_dir), "steps": result.steps, "resumed_from": result.resumed_from,
                      "seconds": round(result.seconds, 1), "last_loss": result.last_loss}, indent=1))
    return 0


def cmd_eval(args) -> int:
    from .agent.rollout import RolloutConfig
    from .data import load_split, sample_questions
    from .env.kbqa_env import env_config
    from .eval import evaluate, plot_report
    from .kb import open_kb
    from .models import ModelConfig, load_policy

    env = env_config(args.env, max_steps=args.max_steps)  # a bad --env stops here, before anything loads
    kb = _open(args)  # fail fast (endpoint down, bad file) before loading a model
    questions = sample_questions(load_split(args.split), args.limit)
    policy = load_policy(ModelConfig(name=args.model, dtype=args.dtype))
    if args.adapter:
        policy.load_adapter(args.adapter)
    config = RolloutConfig(greedy=True, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens, env=env)
    report = evaluate(policy.model, policy.tokenizer, kb, questions, config, progress=not args.quiet,
                      meta={"model": args.model, "adapter": args.adapter, "split": args.split, "questions": len(questions),
                            "env": dataclasses.asdict(env)})
    if args.out:
        report.save(args.out)
        plot_report({args.label or args.model: report}, Path(args.out).with_suffix(".png"))
    print(json.dumps({"overall": report.overall, "by_level": report.by_level, "misses": report.misses}, indent=1))
    return 0


def _add_dtype_flag(p) -> None:
    p.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"),
                   help="model weights (auto: float32 on a CPU, bf16 on CUDA); bfloat16 pays on CPUs with AMX-BF16 "
                        "(recent Xeons), where a batch-8 decode step costs 1.4x a batch-1 step instead of 2.3x")


def _int_list(text: str, flag: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ConfigError(f"{flag} {text!r}: give comma-separated integers, e.g. 0,1") from None


def cmd_experiment(args) -> int:
    from .experiment import ExperimentConfig, markdown_table, run_experiment
    seeds = _int_list(args.seeds, "--seeds") if args.seeds else (args.seed,)
    summary = run_experiment(ExperimentConfig(preset=args.preset, arms=tuple(a for a in args.arms.split(",") if a),
                                              eval_limit=args.eval_limit, seed=args.seed, steps=args.steps,
                                              seeds=seeds, eval_batch=args.eval_batch, sft_minutes=args.sft_minutes,
                                              rl_minutes=args.rl_minutes,
                                              results_dir=args.results_dir, runs_dir=args.runs_dir,
                                              train=not args.no_train),
                             kb=_open(args, "memory"))
    print(markdown_table(summary))
    return 0


def cmd_hint_check(args) -> int:
    from .data import load_split, sample_questions
    from .models import ModelConfig, load_policy
    from .training.hint_check import hint_check

    kb = _open(args, "memory")
    questions = sample_questions(load_split(args.split), args.limit)
    policy = load_policy(ModelConfig(name=args.model))
    if args.adapter:
        policy.load_adapter(args.adapter)
    result = hint_check(policy, kb, questions).to_json()
    print(json.dumps(result, indent=1))
    if args.out:
        from .benchio import write_json
        write_json(args.out, result, indent=1)
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo
    return run_demo(args)


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gapd-lite", description="GAPD for KBQA: data, logic, agent, training.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="the main job: load the KB, verify, convert and execute questions")
    _add_kb_flags(p, backend=False)
    p.add_argument("--questions", type=int, default=3, help="how many questions to walk through")
    p.add_argument("--model", default="embedded",
                   help="agent for steps 4–5: embedded | tiny | HF id or path | none (skip the model)")
    p.add_argument("--adapter", default="runs/sft-cpu-small/final", help="LoRA adapter to load when it exists")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("kb-stats", help="count triples, entities, classes, relations, CVTs of a KB file")
    _add_kb_flags(p, backend=False)
    p.set_defaults(func=cmd_kb_stats)

    p = sub.add_parser("query", help="execute one S-expression (and show its SPARQL / actions)")
    p.add_argument("form", help='e.g. "(AND location.country (JOIN location.country.capital m.0…))"')
    _add_kb_flags(p)
    p.add_argument("--sparql", action="store_true", help="print the SPARQL translation")
    p.add_argument("--actions", action="store_true", help="print the gold actions with the size of each state")
    p.add_argument("--no-execute", action="store_true", help="only convert; do not touch a KB")
    p.add_argument("--limit", type=int, default=20, help="answers to print")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("convert", help="GrailQA/WebQSP json(l) → jsonl with gold actions and SPARQL")
    p.add_argument("input", help="GrailQA json/jsonl or WebQSP json")
    p.add_argument("--out", help="output jsonl (default: stdout)")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("verify-data", help="check S-expression = SPARQL = actions = stored answers on every backend")
    _add_kb_flags(p, backend=False)
    p.add_argument("--questions", help="a question file (default: the bundled train+dev+test)")
    p.add_argument("--backends", help="comma-separated subset of memory,oxigraph,rdflib,http")
    p.add_argument("--limit", type=int, default=0, help="check only the first N questions")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_verify_data)

    p = sub.add_parser("train", help="train a policy (SFT warm start on gold trajectories)")
    p.add_argument("--method", default="sft", choices=("sft", "grpo", "gapd"))
    p.add_argument("--preset", default="cpu-small", help="smoke | cpu-small | gpu-small")
    p.add_argument("--out", help="run folder (default: the preset's); rerunning resumes from its last checkpoint")
    p.add_argument("--steps", type=int, help="override the number of updates")
    p.add_argument("--model", help="embedded | tiny | a Hugging Face id or local path")
    _add_dtype_flag(p)
    p.add_argument("--max-questions", type=int, help="use only the first N training questions")
    p.add_argument("--init-adapter", help="start from a saved adapter folder")
    p.add_argument("--seed", type=int)
    p.add_argument("--max-minutes", type=float, help="wall-clock budget: stop cleanly (checkpoint + adapter) once spent")
    p.add_argument("--lr", type=float, help="override the preset's peak learning rate")
    p.add_argument("--function-repeat", type=int,
                   help="SFT: how often each question with a function (count, argmax, comparison, time) is seen per epoch")
    p.add_argument("--lam", type=float, help="GAPD: distillation weight λ (default 0.5)")
    p.add_argument("--lam-schedule", choices=("constant", "linear_decay", "warmup"))
    p.add_argument("--divergence", choices=("forward_kl", "reverse_kl", "jsd"))
    p.add_argument("--distill-tokens", choices=("all", "until_disagreement"),
                   help="GAPD: distil every action token, or each action up to the teacher's first other choice")
    p.add_argument("--matcher", choices=("mid_anchor", "prefix"))
    p.add_argument("--no-explore", dest="explore", action="store_const", const=False, default=None,
                   help="GAPD: align with the bare gold program, without the looks (get_relations before a first hop, "
                        "get_attributes before argmax/comparisons) the SFT dialogues take")
    p.add_argument("--questions", metavar="FILE", help="train on a GrailQA/WebQSP question file instead of the bundled train split")
    p.add_argument("--quiet", action="store_true")
    _add_kb_flags(p, backend=False)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("experiment", help="SFT → GRPO vs GAPD (+ ablations) from one checkpoint → results/")
    p.add_argument("--preset", default="cpu-small")
    p.add_argument("--arms", default=",".join(("grpo", "gapd", "gapd-prefix", "grpo+sft", "gapd-reverse-kl")))
    p.add_argument("--steps", type=int, help="override the number of RL updates per arm")
    p.add_argument("--eval-limit", type=int, default=120)
    p.add_argument("--eval-batch", type=int, help="episodes evaluated together (default: 64 on a GPU, 8 on a CPU)")
    p.add_argument("--seed", type=int, default=0, help="the seed of the SFT warm start (and of the RL arms without --seeds)")
    p.add_argument("--seeds", help="comma-separated RL seeds, e.g. 0,1: every arm is trained once per seed")
    p.add_argument("--sft-minutes", type=float, help="wall-clock budget of the SFT warm start")
    p.add_argument("--rl-minutes", type=float, help="wall-clock budget of each RL run (the table shows the updates each got)")
    p.add_argument("--results-dir", default="results", help="where the tables, curves and per-arm scores go")
    p.add_argument("--runs-dir", default="runs", help="where each arm trains (<dir>/exp-<preset>-<arm>; a finished run "
                                                      "there is reused, so give a new folder for a new warm start)")
    p.add_argument("--no-train", action="store_true", help="only collect runs already trained and scored into the table")
    _add_kb_flags(p, backend=False)
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("hint-check", help="does GAPD's teacher read its hint? gold-action log-probs with and without it")
    p.add_argument("--model", default="embedded", help="embedded | tiny | a Hugging Face id or local path")
    p.add_argument("--adapter", help="a LoRA adapter folder (e.g. runs/sft-cpu-small/final)")
    p.add_argument("--split", default="dev", help="train | dev | test, or a GrailQA/WebQSP question file")
    p.add_argument("--limit", type=int, default=20, help="questions, spread evenly over the split (0: all)")
    p.add_argument("--out", help="also write the JSON here")
    _add_kb_flags(p, backend=False)
    p.set_defaults(func=cmd_hint_check)

    p = sub.add_parser("eval", help="score an agent on a split (F1, Hits@1, EM, format, steps; by level/function)")
    p.add_argument("--model", default="embedded", help="embedded | tiny | a Hugging Face id or local path")
    p.add_argument("--adapter", help="a LoRA adapter folder (e.g. runs/sft-cpu-small/final)")
    p.add_argument("--split", default="dev", help="train | dev | test, or a GrailQA/WebQSP question file")
    p.add_argument("--limit", type=int, default=0, help="evaluate N questions spread evenly over the split (0: all)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-steps", type=int, default=8)
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="an EnvConfig field, e.g. --env max_classes=0 --env rank_relations=false (repeatable)")
    _add_dtype_flag(p)
    p.add_argument("--max-new-tokens", type=int, default=TURN_TOKENS,
                   help=f"tokens per turn (default {TURN_TOKENS}: every gold turn of the bundled questions fits)")
    p.add_argument("--out", help="write the report json (and a .png plot next to it)")
    p.add_argument("--label", help="name of this run in the plot")
    p.add_argument("--quiet", action="store_true")
    _add_kb_flags(p, backend=False)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="benchmarks that print JSON")
    p.add_argument("what", choices=("kb", "rollout", "step", "ranking", "gpu", "all"),
                   help="kb: per-form execution time, memory vs pyoxigraph vs rdflib; rollout: batched vs one-at-a-time "
                        "generation; step: one GAPD update vs one GRPO update; ranking: where the gold relation sits in "
                        "the relation lists the agent reads; gpu: QLoRA memory and speed (CUDA); "
                        "all: every one of them, one JSON (+ a .md summary next to --out)")
    p.add_argument("--model", help="model for `bench rollout`/`step` (default: embedded)")
    p.add_argument("--adapter", help="LoRA adapter for `bench rollout` (e.g. runs/sft-cpu-small/final)")
    _add_dtype_flag(p)
    _add_kb_flags(p, backend=False)
    p.add_argument("--limit", type=int, default=300, help="questions to time")
    p.add_argument("--repeat", type=int, default=3, help="repetitions per form (best kept)")
    p.add_argument("--no-share-prefix", action="store_true",
                   help="`bench rollout`: prefill the shared system prompt per episode (the old way), for comparison")
    p.add_argument("--no-ragged-prefill", action="store_true",
                   help="`bench rollout`: prefill a turn's observations as one padded batch (the old way), for comparison")
    p.add_argument("--gen-tokens", type=int, default=128, help="`bench gpu`: new tokens per generation probe")
    p.add_argument("--shapes", help="`bench gpu`: comma-separated subset of embedded,qwen2.5-0.5b,qwen2.5-1.5b,qwen2.5-3b")
    p.add_argument("--tokenizer", help="`bench gpu`: tokenizer folder for the random-weight shapes (default: the embedded one)")
    p.add_argument("--static-cache", action="store_true", help="`bench gpu`: also time generation with a static KV cache; `bench rollout`: both paths decode into one")
    p.add_argument("--kv-cache", choices=("growing", "dynamic", "static"), default="growing",
                   help="`bench rollout`: the cache both paths decode into (dynamic: transformers' default, which copies "
                        "the whole cache at each token)")
    p.add_argument("--rollout-repeat", type=int, default=1, help="`bench rollout`: alternate batched and one-at-a-time "
                                                                 "runs N times and keep each path's best")
    p.add_argument("--decode-chunk", type=int, help="`bench rollout`: decode turns in chunks of N tokens, finished "
                                                    "episodes leaving the batch between chunks (0: one call per turn)")
    p.add_argument("--out", help="also write the JSON here")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GapdError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
