"""Logical form → standard SPARQL 1.1 in Freebase's `ns:` prefixed form (Virtuoso, Oxigraph, rdflib).

The query means exactly what `execute.py` computes under the same `semantics`, on every engine:
temporal values are compared as numbers computed from their lexical form (kb/compare.py), never by an
engine's own ordering of mixed date types or by string order; ARGMAX/ARGMIN take one MAX/MIN sub-select
per kind of value (numbers, else temporal values) and keep ties; TC and time_macro test their start/end
relations with FILTER (NOT) EXISTS. With semantics="grailqa" every node of the query graph is kept distinct
(`FILTER(!sameTerm(…))`, as the official GrailQA queries do); with "webqsp" topic entities are filtered out
of the answer, only untagged or English literals kept, and a top-level ARGMAX/ARGMIN answers
`ORDER BY … ?x LIMIT 1`. Ids and relations were validated by the parser and literals are escaped, so no
input can change the query's shape.
"""
from __future__ import annotations

from itertools import combinations

from .actions import NOW
from ..kb.compare import comparison, is_temporal_sparql, temporal_number, temporal_number_sparql
from ..kb.terms import FB_NS, XSD_NS, Literal
from .sexpr import (And, Arg, Class, Compare, Const, Count, Entity, Join, Now, SetExpr, TC, TimeMacro, check_depth,
                    entities, parse, steps)
from .temporal import TC_NOW, check_semantics, period_bounds, time_relations

PREFIXES = f"PREFIX ns: <{FB_NS}>\nPREFIX xsd: <{XSD_NS}>\n"
ENGLISH = "FILTER(!isLiteral(?x) || LANG(?x) = \"\" || LANGMATCHES(LANG(?x), \"en\"))"


def term(value) -> str:
    """A constant in a query: `ns:m.x` for ids, an escaped typed literal otherwise."""
    return value.to_sparql() if isinstance(value, Literal) else f"ns:{value}"


class _Gen:
    def __init__(self, semantics: str = "default") -> None:
        self.n = 0
        self.semantics = semantics
        self.scopes: list[list[str]] = [[]]  # query-graph nodes per (sub-)query, for GrailQA's distinctness

    def fresh(self, stem: str = "v") -> str:
        self.n += 1
        return f"?{stem}{self.n}"

    def node(self, name: str) -> None:
        """Record a query-graph node: a variable once, an entity constant at each occurrence."""
        scope = self.scopes[-1]
        if name.startswith("ns:") or (name.startswith("?") and name not in scope):  # literals are values, not nodes
            scope.append(name)

    def distinct(self) -> list[str]:
        """GrailQA's FILTER keeping the nodes of the current scope pairwise different (literals are values)."""
        tests = []
        for a, b in combinations(self.scopes[-1], 2):
            if a.startswith("?") or b.startswith("?"):
                var, other = (a, b) if a.startswith("?") else (b, a)
                tests.append(f"(isLiteral({var}) || !sameTerm({var}, {other}))")
            elif a == b:
                tests.append("false")  # the same topic entity twice: two nodes cannot both be it
        return [f"FILTER({' && '.join(tests)})"] if tests and self.semantics == "grailqa" else []

    def sub_select(self, head: str, body: list[str]) -> list[str]:
        return [f"{{ SELECT {head} WHERE {{\n{_indent(body)}\n}} }}"]

    def path(self, subj: str, hops, obj: str, value_end: bool = False) -> list[str]:
        """Triple patterns walking `hops` from subj to obj through fresh intermediate variables."""
        lines, cur = [], subj
        for i, (rel, forward) in enumerate(hops):
            nxt = obj if i == len(hops) - 1 else self.fresh("c")
            if nxt != obj or not value_end:
                self.node(nxt)
            lines.append(f"{cur} ns:{rel} {nxt} ." if forward else f"{nxt} ns:{rel} {cur} .")
            cur = nxt
        return lines

    def pats(self, node: SetExpr, var: str) -> list[str]:
        """Graph patterns that bind `var` to exactly the members of `node`."""
        if not isinstance(node, Const):
            self.node(var)
        if isinstance(node, (Entity, Const)):
            value = node.id if isinstance(node, Entity) else node.literal
            return [f"VALUES {var} {{ {term(value)} }}"]
        if isinstance(node, Class):
            return [f"{var} ns:type.object.type ns:{node.name} ."]
        if isinstance(node, Join):
            if isinstance(node.arg, (Entity, Const)):
                target = term(node.arg.id if isinstance(node.arg, Entity) else node.arg.literal)
                return self.path(var, steps(node.path), target)
            inner = self.fresh()
            return self.pats(node.arg, inner) + self.path(var, steps(node.path), inner)
        if isinstance(node, And):
            # anchored side first, class and comparison constraints last: engines that join
            # patterns in the order written (rdflib) then start from the few bindings
            first, second = sorted((node.left, node.right), key=_constraint_rank)
            if isinstance(second, Class) and not isinstance(first, Class):
                # a class constraint in a group of its own: a join evaluated once `var` is bound
                # (rdflib would otherwise start its BGP from the whole class and multiply it out)
                return self.pats(first, var) + [f"{{ {var} ns:type.object.type ns:{second.name} . }}"]
            if isinstance(second, TimeMacro) and not isinstance(first, TimeMacro):
                return self.pats(first, var) + self.time_filter(var, second.relation, _when(second.time))
            return self.pats(first, var) + self.pats(second, var)
        if isinstance(node, Count):
            inner = self.fresh()
            self.scopes.append([])
            body = self.pats(node.arg, inner)
            body += self.distinct()
            self.scopes.pop()
            return self.sub_select(f"(COUNT(DISTINCT {inner}) AS {var})", body)
        if isinstance(node, Arg):
            return self.argbest(node, var)
        if isinstance(node, Compare):
            val = self.fresh("val")
            return (self.path(var, steps(node.path), val, value_end=True)
                    + [f"FILTER{comparison(val, node.op, node.value.literal)}"])
        if isinstance(node, TC):
            (rel, _), = steps(node.rel)
            return self.pats(node.arg, var) + self.time_filter(var, rel, _when(node.time))
        if isinstance(node, TimeMacro):
            rels = "|".join(f"ns:{rel}" for rel in dict.fromkeys(sum(time_relations(node.relation), ())))
            return [f"{var} {rels} {self.fresh('t')} ."] + self.time_filter(var, node.relation, _when(node.time))
        raise TypeError(node)

    def argbest(self, node: Arg, var: str) -> list[str]:
        """ARGMAX/ARGMIN: the best number if there is one, else the best temporal value; ties kept."""
        agg = "MAX" if node.op == "ARGMAX" else "MIN"
        hops = steps(node.path)
        best_n, best_t = self.fresh("best"), self.fresh("best")
        subs = []
        for best, kind, of in ((best_n, "isNumeric({v})", "{v}"), (best_t, is_temporal_sparql("{v}"),
                                                                    temporal_number_sparql("{v}"))):
            inner, inner_val = self.fresh(), self.fresh("val")
            self.scopes.append([])
            body = self.pats(node.arg, inner) + self.path(inner, hops, inner_val, value_end=True)
            body += self.distinct() + [f"FILTER({kind.format(v=inner_val)})"]
            self.scopes.pop()
            subs += self.sub_select(f"({agg}({of.format(v=inner_val)}) AS {best})", body)
        val = self.fresh("val")
        wins = (f"FILTER(IF(BOUND({best_n}), isNumeric({val}) && {val} = {best_n}, "
                f"{is_temporal_sparql(val)} && {temporal_number_sparql(val)} = {best_t}))")
        # the aggregates first: engines that evaluate joins left to right then run them once
        return subs + self.pats(node.arg, var) + self.path(var, hops, val, value_end=True) + [wins]

    def time_filter(self, var: str, relation: str, time) -> list[str]:
        """The TC / time_macro filter of temporal.time_filter, value by value as numbers."""
        low, high = period_bounds(time, relation, self.semantics)
        instant = self.semantics == "webqsp"
        day_only = not instant

        def starts_by(v: str) -> str:
            return (f"{is_temporal_sparql(v)} && {temporal_number_sparql(v, day_only=day_only)} <= "
                    f"{temporal_number(high, day_only=day_only)}")

        def ends_by(v: str) -> str:
            return (f"{is_temporal_sparql(v)} && {temporal_number_sparql(v, last=not instant, day_only=day_only)} >= "
                    f"{temporal_number(low, day_only=day_only)}")

        def holds(rels: tuple[str, ...], test) -> str:
            a, b = self.fresh("t"), self.fresh("t")
            path = "|".join(f"ns:{rel}" for rel in rels)  # one relation, or the alternatives of a time_macro
            return f"FILTER(NOT EXISTS {{ {var} {path} {a} }} || EXISTS {{ {var} {path} {b} . FILTER({test(b)}) }})"

        start_rels, end_rels = time_relations(relation)
        if start_rels == end_rels:
            return [holds(start_rels, lambda b: f"{starts_by(b)} && {ends_by(b)}")]
        return [holds(start_rels, starts_by), holds(end_rels, ends_by)]


def _when(time):
    return NOW if isinstance(time, Now) else time.literal


def _constraint_rank(node: SetExpr) -> int:
    return 2 if isinstance(node, (Class, TimeMacro)) else 1 if isinstance(node, Compare) else 0


def _indent(lines: list[str], by: str = "  ") -> str:
    return "\n".join(by + line for line in "\n".join(lines).split("\n"))


def to_sparql(expr: SetExpr | str, semantics: str = "default") -> str:
    """A SELECT query whose ?x bindings (or ?count for COUNT) are the answers under `semantics`."""
    if isinstance(expr, str):
        expr = parse(expr)
    check_depth(expr)
    check_semantics(semantics)
    gen = _Gen(semantics)
    top = expr.arg if isinstance(expr, Count) else expr
    webqsp_arg = semantics == "webqsp" and isinstance(expr, Arg)  # COUNT counts every filtered member
    lines = gen.pats(top.arg if webqsp_arg else top, "?x")
    if semantics == "webqsp":
        lines += [f"FILTER(!sameTerm(?x, ns:{e}))" for e in dict.fromkeys(entities(expr))] + [ENGLISH]
    if webqsp_arg:
        val = gen.fresh("val")
        lines += gen.path("?x", steps(top.path), val, value_end=True)
        lines.append(f"FILTER(isNumeric({val}) || {is_temporal_sparql(val)})")
    lines += gen.distinct()
    body = _indent(lines)
    if isinstance(expr, Count):
        return f"{PREFIXES}SELECT (COUNT(DISTINCT ?x) AS ?count) WHERE {{\n{body}\n}}"
    if webqsp_arg:
        # ORDER BY … LIMIT 1 as the official WebQSP query; numbers before dates, ties by id
        key = f"IF(isNumeric({val}), {val}, {temporal_number_sparql(val)})"
        order = f"DESC({key})" if top.op == "ARGMAX" else f"ASC({key})"
        return (f"{PREFIXES}SELECT DISTINCT ?x WHERE {{\n{body}\n}}\n"
                f"ORDER BY ASC(IF(isNumeric({val}), 0, 1)) {order} ASC(?x)\nLIMIT 1")
    return f"{PREFIXES}SELECT DISTINCT ?x WHERE {{\n{body}\n}}"


__all__ = ["to_sparql", "comparison", "term", "PREFIXES", "TC_NOW"]
