"""`gapd-lite …`: the same jobs the notebooks run, from a shell."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from .agent.prompts import TURN_TOKENS
from .cliflags import _flag, add_options, dataclass_options, given, signature_options
from .errors import ConfigError, GapdError
from .outputs import atomic_output, check_output


def _add_kb_flags(p: argparse.ArgumentParser, backend: bool = True) -> None:
    p.add_argument("--kb", metavar="PATH", help="N-Triples(.gz) KB file (default: the bundled Freebase subset)")
    p.add_argument("--kb-endpoint", metavar="URL", help="a SPARQL 1.1 endpoint (Virtuoso with Freebase, Oxigraph, Fuseki)")
    p.add_argument("--kb-timeout", type=float, default=30.0, metavar="S",
                   help="total time per query for --kb-endpoint (connect, headers and body)")
    p.add_argument("--kb-max-mb", type=float, metavar="MB",
                   help="the largest answer --kb-endpoint may send, in MB (default 32); a larger one is an error")
    if backend:
        p.add_argument("--backend", default="memory", choices=("memory", "oxigraph", "rdflib", "http"))


def _open(args, backend: str | None = None):
    from .kb import open_kb
    return open_kb(backend or getattr(args, "backend", "memory"), args.kb, args.kb_endpoint, args.kb_timeout,
                   getattr(args, "kb_max_mb", None))


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

    if args.limit < 0:
        raise ConfigError(f"--limit {args.limit}: give how many answers to print (0 or more)")
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


def _add_semantics_flag(p, what: str) -> None:
    from .logic.temporal import SEMANTICS
    p.add_argument("--semantics", choices=SEMANTICS, default="default",
                   help=f"whose conventions {what} follow: default (the package's), grailqa or webqsp (the official "
                        "queries': topic entities never answers, GrailQA's distinct nodes, WebQSP's LIMIT 1)")


def cmd_convert(args) -> int:
    from .convert import convert_file
    if not args.out:
        counts = convert_file(args.input, sys.stdout, args.semantics)
    else:
        out = check_output(args.out, inputs=(args.input,))
        with atomic_output(out) as f:  # a run that stops early leaves no file that looks complete
            counts = convert_file(args.input, f, args.semantics)
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
        report, bad = verify_backend(questions, kb, progress=not args.quiet, semantics=args.semantics)
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
    if args.out:
        check_output(args.out, (".json",))
    kwargs = given(args, bench_options(args.bench))
    if args.bench == "gpu" and args.out:  # rewritten after each shape: a run cut short keeps its figures
        kwargs["partial_out"] = args.out
    result = bench.BENCHMARKS[args.bench](**kwargs)
    if args.out:
        from .benchio import write_json
        write_json(args.out, result)
        if args.bench == "all":
            Path(args.out).with_suffix(".md").write_text(bench.summary_markdown(result))
    print(json.dumps(result, indent=2))
    return 0


def cmd_train(args) -> int:
    from .training.config import CONFIGS, preset
    from .training.trainer import train

    overrides = given(args, TRAIN_OPTIONS)
    allowed = {f.name for f in dataclasses.fields(CONFIGS[args.method])}
    for name in overrides:
        if name not in allowed:
            owners = sorted(m for m, cls in CONFIGS.items() if name in {f.name for f in dataclasses.fields(cls)})
            raise ConfigError(f"--{_flag(name)} does not apply to --method {args.method}; it is a setting of "
                              f"--method {' and '.join(owners)}")
    config = preset(args.method, args.preset, model=given(args, MODEL_OPTIONS) or None, **overrides)
    check_output(Path(config.out_dir) / "config.json")  # the run folder can be written, before anything loads
    result = train(config, kb=_open(args, "memory"), progress=not args.quiet)
    print(json.dumps({"out_dir": str(result.out_dir), "updates": result.steps, "resumed_from": result.resumed_from,
                      "seconds": round(result.seconds, 1), "last_loss": result.last_loss}, indent=1))
    return 0


def _policy(args):
    from .models import ModelConfig, load_policy, resolve_adapter
    resolve_adapter(args.adapter)  # a missing bundled policy or folder stops here, before the model loads
    return load_policy(ModelConfig(**given(args, MODEL_OPTIONS)), adapter=args.adapter)


def cmd_export_adapter(args) -> int:
    from .policies import bundle
    fields = {}
    for item in args.field or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--field {item!r}: write KEY=VALUE, e.g. --field 'test F1=0.61 (gapd-lite eval --adapter sft --split test)'")
        fields[key.strip()] = value.strip()
    dest = bundle(args.src, args.name, fields)
    print(f"bundled {args.src} as the {args.name} policy in {dest}; load it with --adapter {args.name}")
    return 0


def cmd_eval(args) -> int:
    from .agent.rollout import RolloutConfig
    from .data import load_split, sample_questions
    from .env.kbqa_env import EnvConfig
    from .eval import evaluate, plot_report

    env = EnvConfig(**given(args, ENV_OPTIONS))  # a bad setting stops here, before anything loads
    if args.batch_size < 1 or args.max_new_tokens < 1:
        raise ConfigError("--batch-size and --max-new-tokens must be at least 1")
    if args.out:
        check_output(args.out, (".json",))  # the report; its plot goes beside it as .png
    kb = _open(args)  # fail fast (endpoint down, bad file) before loading a model
    questions = sample_questions(load_split(args.split, check_forms=True), args.limit)
    policy = _policy(args)
    config = RolloutConfig(greedy=True, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens, env=env)
    report = evaluate(policy.model, policy.tokenizer, kb, questions, config, progress=not args.quiet,
                      meta={"model": policy.config.name, "adapter": args.adapter, "split": args.split,
                            "questions": len(questions), "env": dataclasses.asdict(env)})
    if args.out:
        report.save(args.out)
        plot_report({args.label or policy.config.name: report}, Path(args.out).with_suffix(".png"))
    print(json.dumps({"overall": report.overall, "by_level": report.by_level, "misses": report.misses}, indent=1))
    return 0


def cmd_experiment(args) -> int:
    from .experiment import ExperimentConfig, markdown_table, run_experiment
    summary = run_experiment(ExperimentConfig(**given(args, EXPERIMENT_OPTIONS)), kb=_open(args, "memory"))
    print(markdown_table(summary))
    return 0


def cmd_hint_check(args) -> int:
    from .data import load_split, sample_questions
    from .training.hint_check import hint_check

    if args.out:
        check_output(args.out, (".json",))
    kb = _open(args, "memory")
    questions = sample_questions(load_split(args.split), args.limit)
    result = hint_check(_policy(args), kb, questions).to_json()
    print(json.dumps(result, indent=1))
    if args.out:
        from .benchio import write_json
        write_json(args.out, result, indent=1)
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo
    return run_demo(args)




# ---------------------------------------------------------------------------- parser
def _model_options() -> list:
    from .models import ModelConfig
    return dataclass_options(ModelConfig, flags={"name": ("--model",), "seed": ("--model-seed",)})


def _train_options() -> list:
    from .training.config import GAPDConfig, SFTConfig
    seen, out = set(), []
    for cls in (SFTConfig, GAPDConfig):  # every method's fields; cmd_train refuses those of another method
        for o in dataclass_options(cls, skip=("method", "model"), flags={"out_dir": ("--out", "--out-dir")}):
            if o.name not in seen:
                seen.add(o.name)
                out.append(o)
    return out


def _env_options() -> list:
    from .env.kbqa_env import EnvConfig
    return dataclass_options(EnvConfig, flags={"max_turns": ("--max-turns", "--max-steps")})


def _experiment_options() -> list:
    from .experiment import ExperimentConfig
    return dataclass_options(ExperimentConfig)


ADAPTER_HELP = "trained LoRA weights: sft | grpo | gapd (bundled with the package) | none | a folder (RUN/final)"
MODEL_OPTIONS = _model_options()
TRAIN_OPTIONS = _train_options()
ENV_OPTIONS = _env_options()
EXPERIMENT_OPTIONS = _experiment_options()


def bench_options(name: str) -> list:
    """A benchmark's own flags: the keyword parameters of its function."""
    from . import bench
    return signature_options(bench.BENCHMARKS[name], bench.HELP, skip=("partial_out",))


def build_parser() -> argparse.ArgumentParser:
    from . import bench
    from .training.config import METHODS, PRESETS
    from .policies import POLICIES

    parser = argparse.ArgumentParser(prog="gapd-lite", description="GAPD for KBQA: data, logic, agent, training.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="the main job: load the KB, verify, convert and execute questions")
    _add_kb_flags(p, backend=False)
    p.add_argument("--questions", type=int, default=3, help="how many questions to walk through")
    p.add_argument("--model", default="embedded",
                   help="agent for steps 4–5: embedded | tiny | HF id or path | none (skip the model)")
    p.add_argument("--adapter", default="sft",
                   help="trained LoRA weights for steps 4–5: sft | grpo | gapd (bundled) | none | a folder; "
                        "a bundled policy missing from this install runs zero-shot and says how to make it")
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
    _add_semantics_flag(p, "the SPARQL written")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("verify-data", help="check S-expression = SPARQL = actions = stored answers on every backend")
    _add_kb_flags(p, backend=False)
    p.add_argument("--questions", help="a question file (default: the bundled train+dev+test)")
    p.add_argument("--backends", help="comma-separated subset of memory,oxigraph,rdflib,http")
    p.add_argument("--limit", type=int, default=0, help="check only the first N questions")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_semantics_flag(p, "the forms and actions checked against the stored answers")
    p.set_defaults(func=cmd_verify_data)

    presets = "; ".join(f"{m}: {', '.join(n for mm, n in PRESETS if mm == m)}" for m in METHODS)
    p = sub.add_parser("train", help="train a policy: SFT warm start, GRPO or GAPD (every config field is a flag)")
    p.add_argument("--method", default="sft", choices=METHODS)
    p.add_argument("--preset", default="cpu-small", help=f"a named config of the method ({presets}); flags override it")
    add_options(p.add_argument_group("model (ModelConfig)"), MODEL_OPTIONS)
    add_options(p.add_argument_group("run (SFTConfig / GAPDConfig; a flag of another method is an error)"),
                TRAIN_OPTIONS, show_defaults=False)
    p.add_argument("--quiet", action="store_true")
    _add_kb_flags(p, backend=False)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("experiment", help="SFT → GRPO vs GAPD (+ ablations) from one checkpoint → results/")
    add_options(p, EXPERIMENT_OPTIONS)
    _add_kb_flags(p, backend=False)
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("hint-check", help="does GAPD's teacher read its hint? gold-action log-probs with and without it")
    add_options(p.add_argument_group("model (ModelConfig)"), MODEL_OPTIONS)
    p.add_argument("--adapter", help=ADAPTER_HELP)
    p.add_argument("--split", default="dev", help="train | dev | test, or a GrailQA/WebQSP question file")
    p.add_argument("--limit", type=int, default=20, help="questions, spread evenly over the split (0: all)")
    p.add_argument("--out", help="also write the JSON here")
    _add_kb_flags(p, backend=False)
    p.set_defaults(func=cmd_hint_check)

    p = sub.add_parser("eval", help="score an agent on a split (F1, Hits@1, EM, format, steps; by level/function)")
    add_options(p.add_argument_group("model (ModelConfig)"), MODEL_OPTIONS)
    p.add_argument("--adapter", help=ADAPTER_HELP)
    p.add_argument("--split", default="dev", help="train | dev | test, or a GrailQA/WebQSP question file")
    p.add_argument("--limit", type=int, default=0, help="evaluate N questions spread evenly over the split (0: all)")
    p.add_argument("--batch-size", type=int, default=8, help="episodes generated together")
    p.add_argument("--max-new-tokens", type=int, default=TURN_TOKENS,
                   help=f"tokens per turn (default {TURN_TOKENS}: every gold turn of the bundled questions fits)")
    add_options(p.add_argument_group("environment (EnvConfig)"), ENV_OPTIONS)
    p.add_argument("--out", help="write the report json (and a .png plot next to it)")
    p.add_argument("--label", help="name of this run in the plot")
    p.add_argument("--quiet", action="store_true")
    _add_kb_flags(p, backend=False)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("export-adapter", help="bundle a trained adapter into the package as sft | grpo | gapd (bf16 + model card)")
    p.add_argument("src", help="the adapter folder, e.g. runs/sft-cpu-long/final")
    p.add_argument("name", choices=sorted(POLICIES), help="the short name it will load by (--adapter NAME)")
    p.add_argument("--field", action="append", metavar="KEY=VALUE",
                   help="a model card line (repeatable): command, machine, training time, scores and their eval command")
    p.set_defaults(func=cmd_export_adapter)

    p = sub.add_parser("bench", help="benchmarks that print JSON")
    bsub = p.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    for name, fn in bench.BENCHMARKS.items():
        b = bsub.add_parser(name, help=(fn.__doc__ or "").split("\n")[0])
        add_options(b, bench_options(name))
        b.add_argument("--out", help="also write the JSON here" + (" (+ a .md summary next to it)" if name == "all" else ""))
        b.set_defaults(func=cmd_bench)
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
