"""verify-data: every question's S-expression, SPARQL and gold actions must reach its stored answers on every backend."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from .data import Question, answer_key
from .errors import GapdError
from .kb.base import KB
from .kb.sparql import SparqlKB
from .logic.execute import answer_of_actions, execute
from .logic.sexpr import parse
from .logic.to_actions import to_actions

ROUTES = ("sexpr", "sparql", "actions")


@dataclass
class Disagreement:
    qid: str
    backend: str
    route: str
    detail: str


@dataclass
class BackendReport:
    """Per backend: how many questions each route answered exactly as stored."""
    backend: str
    checked: int = 0
    ok: dict[str, int] = field(default_factory=lambda: {r: 0 for r in ROUTES})
    ran: dict[str, int] = field(default_factory=lambda: {r: 0 for r in ROUTES})
    seconds: float = 0.0


def _keys(terms) -> frozenset[str]:
    return frozenset(answer_key(t) for t in terms)


def verify_backend(questions: list[Question], kb: KB, progress: bool = True,
                   semantics: str = "default") -> tuple[BackendReport, list[Disagreement]]:
    """Run the three routes of every question on one backend and collect any disagreement.

    `semantics` (logic/execute.py): "default" for the package's own data; "grailqa"/"webqsp" to check
    forms and actions against answers stored by the official queries.
    """
    report, bad = BackendReport(kb.name), []
    start = time.perf_counter()
    for q in tqdm(questions, desc=f"verify on {kb.name}", disable=not progress, leave=False):
        report.checked += 1
        gold = q.answer_set
        if q.s_expression is None:
            bad.append(Disagreement(q.qid, kb.name, "sexpr", "no s_expression"))
            continue
        routes = {}
        try:
            tree = parse(q.s_expression)
            routes["sexpr"] = lambda: execute(tree, kb, semantics=semantics)
            routes["actions"] = lambda: answer_of_actions(kb, to_actions(tree), semantics)
        except GapdError as exc:
            bad.append(Disagreement(q.qid, kb.name, "sexpr", f"does not parse: {exc}"))
            continue
        if isinstance(kb, SparqlKB) and q.sparql_query:
            routes["sparql"] = lambda: kb.run_query(q.sparql_query)
        for route, run in routes.items():
            report.ran[route] += 1
            try:
                got = _keys(run() or ())
            except GapdError as exc:
                bad.append(Disagreement(q.qid, kb.name, route, f"error: {exc}"))
                continue
            if got == gold:
                report.ok[route] += 1
            else:
                missing, extra = sorted(gold - got)[:3], sorted(got - gold)[:3]
                bad.append(Disagreement(q.qid, kb.name, route, f"missing {missing} extra {extra}"))
    report.seconds = time.perf_counter() - start
    return report, bad


def format_table(reports: list[BackendReport]) -> str:
    """A plain-text table: backend × route, as agreed/ran."""
    head = f"{'backend':<10} {'questions':>9} " + " ".join(f"{r:>15}" for r in ROUTES) + f" {'seconds':>8}"
    lines = [head, "-" * len(head)]
    for rep in reports:
        cells = " ".join(f"{(f'{rep.ok[r]}/{rep.ran[r]}' if rep.ran[r] else 'n/a'):>15}" for r in ROUTES)
        lines.append(f"{rep.backend:<10} {rep.checked:>9} {cells} {rep.seconds:>8.1f}")
    return "\n".join(lines)
