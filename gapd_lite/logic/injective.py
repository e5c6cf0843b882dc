"""GrailQA's official semantics: every node of the query graph binds a different entity.

The official GrailQA queries end with `FILTER (?x0 != ?x1 && ?x0 != ?x2 && …)` over all their nodes: the
answer, every intermediate variable and every topic entity. Set-at-a-time execution (execute.py) cannot see
that (it forgets which node was bound to what), so this evaluator keeps, for each value a sub-form can take,
the sets of entities its nodes were bound to (only the minimal ones), and joins sub-forms only where those
sets are disjoint. Literals are values, not nodes, and a class is a constraint, not a node.
"""
from __future__ import annotations

from ..errors import ConversionError, GapdError
from ..kb.base import KB, Step
from ..kb.compare import best_of, satisfies, ties_with
from ..kb.terms import Literal, Term
from .sexpr import And, Arg, Class, Compare, Const, Count, Entity, Join, Now, SetExpr, TC, TimeMacro, steps
from .temporal import NOW, time_filter, time_macro_members

Witnesses = dict[Term, list[frozenset[Term]]]
MAX_WITNESSES = 200_000


def _node(term: Term) -> frozenset[Term]:
    return frozenset() if isinstance(term, Literal) else frozenset({term})


class _Injective:
    def __init__(self, kb: KB):
        self.kb = kb
        self.size = 0

    def add(self, out: Witnesses, value: Term, used: frozenset[Term]) -> None:
        """Record one way to reach `value`, dropping ways that use a superset of another's entities."""
        ways = out.setdefault(value, [])
        if any(w <= used for w in ways):
            return
        ways[:] = [w for w in ways if not used <= w]
        ways.append(used)
        self.size += 1
        if self.size > MAX_WITNESSES:
            raise GapdError(f"official GrailQA semantics enumerated over {MAX_WITNESSES:,} bindings for this form; "
                            "use semantics='default' on a KB this large")

    def chains(self, start: Witnesses, hops: tuple[Step, ...]) -> list[tuple[Term, Term, frozenset[Term]]]:
        """(start value, end value, entities used) for every walk along `hops` through new nodes only."""
        frontier = [(v, v, used) for v, ways in start.items() for used in ways]
        for rel, forward in hops:
            nbrs = self.kb.values({cur for _, cur, _ in frontier}, ((rel, forward),))
            frontier = [(s, n, used | _node(n)) for s, cur, used in frontier for n in nbrs.get(cur, ())
                        if isinstance(n, Literal) or n not in used]
        return frontier

    def eval(self, node: SetExpr) -> Witnesses:
        out: Witnesses = {}
        if isinstance(node, Entity):
            self.add(out, node.id, frozenset({node.id}))
        elif isinstance(node, Const):
            self.add(out, node.literal, frozenset())
        elif isinstance(node, Class):
            for m in self.kb.instances(node.name):
                self.add(out, m, _node(m))
        elif isinstance(node, Join):
            back = tuple((rel, not fwd) for rel, fwd in reversed(steps(node.path)))
            for _, x, used in self.chains(self.eval(node.arg), back):
                self.add(out, x, used)
        elif isinstance(node, And):
            out = self.conjunction(node)
        elif isinstance(node, Count):
            self.add(out, Literal(str(len(self.eval(node.arg))), "integer"), frozenset())
        elif isinstance(node, Arg):
            found = self.chains(self.eval(node.arg), steps(node.path))
            best = best_of((v for _, v, _ in found), node.op)
            for m, v, used in found:
                if best is not None and ties_with(v, best):
                    self.add(out, m, used)
        elif isinstance(node, Compare):
            first, fwd = steps(node.path)[0]
            members = {m: [_node(m)] for m in self.kb.having(first, fwd)}
            out = self.compare(members, node)
        elif isinstance(node, (TC, TimeMacro)):
            out = self.time(self.eval(node.arg) if isinstance(node, TC) else
                            {m: [_node(m)] for m in time_macro_members(self.kb, node.relation)}, node)
        else:
            raise ConversionError(f"cannot execute {node!r}")
        return out

    def compare(self, members: Witnesses, node: Compare) -> Witnesses:
        out: Witnesses = {}
        for m, v, used in self.chains(members, steps(node.path)):
            if satisfies(v, node.op, node.value.literal):
                self.add(out, m, used)
        return out

    def time(self, members: Witnesses, node) -> Witnesses:
        rel = node.relation if isinstance(node, TimeMacro) else steps(node.rel)[0][0]
        when = NOW if isinstance(node.time, Now) else node.time.literal
        keep = time_filter(self.kb, members, rel, when)
        return {m: ways for m, ways in members.items() if m in keep}

    def conjunction(self, node: And) -> Witnesses:
        left, right = node.left, node.right
        if isinstance(left, (Class, Compare, TimeMacro)) and not isinstance(right, (Class, Compare, TimeMacro)):
            left, right = right, left
        base = self.eval(left)
        if isinstance(right, Class):
            keep = self.kb.filter_class(base, right.name)
            return {m: ways for m, ways in base.items() if m in keep}
        if isinstance(right, Compare):
            return self.compare(base, right)
        if isinstance(right, TimeMacro):
            return self.time(base, right)
        other = self.eval(right)
        out: Witnesses = {}
        for v in base.keys() & other.keys():
            for a in base[v]:
                for b in other[v]:
                    if not (a & b) - _node(v):
                        self.add(out, v, a | b)
        return out


def execute_injective(node: SetExpr, kb: KB) -> set[Term]:
    """The answer under GrailQA's official semantics (all query-graph nodes distinct)."""
    return set(_Injective(kb).eval(node))
