"""Logical form → standard SPARQL 1.1 in Freebase's `ns:` prefixed form (Virtuoso, Oxigraph, rdflib).

The query means exactly what `execute.py` computes: temporal comparisons and TC are written with
STR/SUBSTR/CONCAT so every engine orders mixed-precision dates alike, ARGMAX keeps ties through a
MAX/MIN sub-select. Ids and relations were validated by the parser and literals are escaped, so no
input can change the query's shape.
"""
from __future__ import annotations

from .actions import NOW
from ..kb.compare import comparison
from ..kb.terms import FB_NS, XSD_NS, Literal
from .execute import TC_NOW, period_bounds, time_pair
from .sexpr import And, Arg, Class, Compare, Const, Count, Entity, Join, Now, SetExpr, TC, parse, steps

PREFIXES = f"PREFIX ns: <{FB_NS}>\nPREFIX xsd: <{XSD_NS}>\n"


def term(value) -> str:
    """A constant in a query: `ns:m.x` for ids, an escaped typed literal otherwise."""
    return value.to_sparql() if isinstance(value, Literal) else f"ns:{value}"


class _Gen:
    def __init__(self) -> None:
        self.n = 0

    def fresh(self, stem: str = "v") -> str:
        self.n += 1
        return f"?{stem}{self.n}"

    def path(self, subj: str, hops, obj: str) -> list[str]:
        """Triple patterns walking `hops` from subj to obj through fresh intermediate variables."""
        lines, cur = [], subj
        for i, (rel, forward) in enumerate(hops):
            nxt = obj if i == len(hops) - 1 else self.fresh("c")
            lines.append(f"{cur} ns:{rel} {nxt} ." if forward else f"{nxt} ns:{rel} {cur} .")
            cur = nxt
        return lines

    def pats(self, node: SetExpr, var: str) -> list[str]:
        """Graph patterns that bind `var` to exactly the members of `node`."""
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
            return self.pats(first, var) + self.pats(second, var)
        if isinstance(node, Count):
            inner = self.fresh()
            body = _indent(self.pats(node.arg, inner))
            return [f"{{ SELECT (COUNT(DISTINCT {inner}) AS {var}) WHERE {{\n{body}\n}} }}"]
        if isinstance(node, Arg):
            agg = "MAX" if node.op == "ARGMAX" else "MIN"
            hops = steps(node.path)
            val, best, inner, inner_val = self.fresh("val"), self.fresh("best"), self.fresh(), self.fresh("val")
            sub = _indent(self.pats(node.arg, inner) + self.path(inner, hops, inner_val))
            # the aggregate first: engines that evaluate joins left to right then run it once
            return ([f"{{ SELECT ({agg}({inner_val}) AS {best}) WHERE {{\n{sub}\n}} }}"]
                    + self.pats(node.arg, var) + self.path(var, hops, val) + [f"FILTER({val} = {best})"])
        if isinstance(node, Compare):
            val = self.fresh("val")
            return self.path(var, steps(node.path), val) + [f"FILTER{comparison(val, node.op, node.value.literal)}"]
        if isinstance(node, TC):
            (rel, _), = steps(node.rel)
            return self.pats(node.arg, var) + self.time_filter(var, rel, NOW if isinstance(node.time, Now) else node.time.literal)
        raise TypeError(node)

    def time_filter(self, var: str, relation: str, time) -> list[str]:
        """The TC filter of execute.time_filter, with dates cut to the stored precision."""
        low, high = period_bounds(time)
        start, end = time_pair(relation)

        def cut(v: str) -> str:
            return f"SUBSTR(STR({v}), 1, 10)"

        def holds(rel: str, sym: str, bound: str) -> str:
            a, b = self.fresh("t"), self.fresh("t")
            test = f'isLiteral({b}) && {cut(b)} {sym} SUBSTR("{bound}", 1, STRLEN({cut(b)}))'
            return f"(NOT EXISTS {{ {var} ns:{rel} {a} }} || EXISTS {{ {var} ns:{rel} {b} . FILTER({test}) }})"

        if start is None:
            a, b = self.fresh("t"), self.fresh("t")
            test = (f'isLiteral({b}) && {cut(b)} <= SUBSTR("{high}", 1, STRLEN({cut(b)})) && '
                    f'{cut(b)} >= SUBSTR("{low}", 1, STRLEN({cut(b)}))')
            return [f"FILTER(NOT EXISTS {{ {var} ns:{relation} {a} }} || EXISTS {{ {var} ns:{relation} {b} . FILTER({test}) }})"]
        return [f"FILTER{holds(start, '<=', high)}", f"FILTER{holds(end, '>=', low)}"]


def _constraint_rank(node: SetExpr) -> int:
    return 2 if isinstance(node, Class) else 1 if isinstance(node, Compare) else 0


def _indent(lines: list[str], by: str = "  ") -> str:
    return "\n".join(by + line for line in "\n".join(lines).split("\n"))


def to_sparql(expr: SetExpr | str) -> str:
    """A SELECT query whose ?x bindings (or ?count for COUNT) are the answers."""
    if isinstance(expr, str):
        expr = parse(expr)
    gen = _Gen()
    if isinstance(expr, Count):
        body = _indent(gen.pats(expr.arg, "?x"))
        return f"{PREFIXES}SELECT (COUNT(DISTINCT ?x) AS ?count) WHERE {{\n{body}\n}}"
    body = _indent(gen.pats(expr, "?x"))
    return f"{PREFIXES}SELECT DISTINCT ?x WHERE {{\n{body}\n}}"


__all__ = ["to_sparql", "comparison", "term", "PREFIXES", "TC_NOW"]
