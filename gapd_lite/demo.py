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
    kb = MemoryKB.load(args.kb)
    stats = kb_stats(kb)
    print(f"[1/3] bundled Freebase subset: {stats.triples:,} triples, {stats.entities:,} entities, "
          f"{stats.relations} relations in {stats.domains} domains, {stats.cvt_classes} CVT kinds "
          f"(loaded in {time.perf_counter() - t0:.1f} s)")

    questions = {split: load_split(split) for split in SPLITS}
    print(f"[2/3] questions: " + ", ".join(f"{s} {len(qs)}" for s, qs in questions.items()))
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
    print(f"\n[3/3] verify on the in-memory backend (all {len(every)} questions; "
          "`gapd-lite verify-data` adds pyoxigraph and rdflib):")
    print(format_table([report]))
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 1 if bad else 0
