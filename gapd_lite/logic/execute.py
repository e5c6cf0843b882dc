"""Reference semantics: S-expressions and actions executed on any KB through the same operators.

Both the logical form and its gold action sequence go through the functions below, so "S-expression
= actions" holds by construction where the operators agree; the SPARQL translation (to_sparql.py) is
written to mean exactly the same and `verify-data` checks all three on every backend.

Conventions (documented once, shared with the SPARQL translation):
* comparisons follow SPARQL: numbers by value; temporal values (date, gYear, gYearMonth, dateTime)
  chronologically by their first instant (`temporal_key`); other mixes never satisfy a comparison;
* ARGMAX/ARGMIN keep every member tied at the best value;
* TC keeps a member whose start is not after the period and whose end is not before it (a missing
  start or end does not exclude it); NOW is `TC_NOW`, the date WebQSP uses for its Freebase snapshot.
"""
from __future__ import annotations

from typing import Iterable, Union

from ..errors import ActionError, ConversionError, UnknownTermError
from ..kb.base import KB, Step, compare_filter
from ..kb.terms import Literal, Term, compare, term_sort_key
from .actions import NOW, Action, RelPath, Var
from .sexpr import (And, Arg, Class, Compare, Const, Count, Entity, Join, Now, SetExpr, TC, classes, entities,
                    relations, steps)

TC_NOW = "2015-08-10"
TC_PAIRS = (("from", "to"), ("from_date", "to_date"), ("start_date", "end_date"),
            ("start_time", "end_time"), ("begin_date", "end_date"), ("date_started", "date_ended"))

BOOKKEEPING = ("type.", "freebase.")  # schema relations get_relations leaves out (still usable)


# ---------------------------------------------------------------------------- shared operators
def argbest(kb: KB, members: Iterable[Term], path: tuple[Step, ...], op: str) -> set[Term]:
    """ARGMAX/ARGMIN: every member whose value along `path` is the best one (ties kept)."""
    vals = kb.values(members, path)
    ordered = [v for vs in vals.values() for v in vs if isinstance(v, Literal)]
    if not ordered:
        return set()
    best = (max if op.upper() == "ARGMAX" else min)(ordered, key=lambda v: v.sort_key())
    return {m for m, vs in vals.items() if any(compare(v, best) == 0 or v == best for v in vs)}


def period_bounds(time: Union[Literal, str]) -> tuple[str, str]:
    """(first day, last day) of the period a TC names, as YYYY-MM-DD strings."""
    if time == NOW or isinstance(time, Now):
        return TC_NOW, TC_NOW
    text = time.lexical
    if time.datatype == "integer" or time.datatype == "gYear":
        year = text.lstrip("+")
        return f"{year}-01-01", f"{year}-12-31"
    if time.datatype == "gYearMonth":
        return f"{text[:7]}-01", f"{text[:7]}-31"
    return text[:10], text[:10]


def _prefix_le(value: Term, bound: str) -> bool:
    if not isinstance(value, Literal):
        return False
    s = value.lexical[:10]
    return s <= bound[:len(s)]


def _prefix_ge(value: Term, bound: str) -> bool:
    if not isinstance(value, Literal):
        return False
    s = value.lexical[:10]
    return s >= bound[:len(s)]


def time_pair(relation: str) -> tuple[str | None, str | None]:
    """(start relation, end relation) of a TC relation: `….from` pairs with `….to`, and so on."""
    for start, end in TC_PAIRS:
        if relation.endswith("." + start):
            return relation, relation[: -len(start)] + end
        if relation.endswith("." + end):
            return relation[: -len(end)] + start, relation
    return None, None


def time_filter(kb: KB, members: Iterable[Term], relation: str, time: Union[Literal, str]) -> set[Term]:
    """TC: members whose [start, end] (from the relation pair) overlaps the period; a point otherwise.

    Dates compare as strings cut to the stored precision (1990 vs 1990-05-01 compares 1990 with 1990),
    exactly as the SPARQL translation does with SUBSTR/STRLEN.
    """
    members = set(members)
    low, high = period_bounds(time)
    start, end = time_pair(relation)
    if start is None:
        vals = kb.values(members, ((relation, True),))
        return {m for m in members if m not in vals or any(_prefix_le(v, high) and _prefix_ge(v, low) for v in vals[m])}
    starts = kb.values(members, ((start, True),))
    ends = kb.values(members, ((end, True),))
    keep = set()
    for m in members:
        if m in starts and not any(_prefix_le(v, high) for v in starts[m]):
            continue
        if m in ends and not any(_prefix_ge(v, low) for v in ends[m]):
            continue
        keep.add(m)
    return keep


def count_literal(members: Iterable[Term]) -> Literal:
    return Literal(str(len(set(members))), "integer")


# ---------------------------------------------------------------------------- S-expressions
def unknown_terms(node: SetExpr, kb: KB) -> list[str]:
    """Entities, relations and classes of the form that the KB has never heard of."""
    missing = []
    for kind, names in (("entity", entities(node)), ("relation", relations(node)), ("class", classes(node))):
        for name in dict.fromkeys(names):
            if not kb.knows(name, kind):
                missing.append(f"{kind} {name}")
    return missing


def execute(node: SetExpr, kb: KB, check: bool = True) -> frozenset[Term]:
    """The answer set of a parsed logical form (COUNT gives one integer literal).

    With `check`, a form naming an unknown entity, relation or class raises UnknownTermError
    instead of silently answering the empty set.
    """
    if check:
        missing = unknown_terms(node, kb)
        if missing:
            raise UnknownTermError(f"not in the KB ({kb.name}): {', '.join(missing)}. Check the spelling, or "
                                   "find ids with `gapd-lite kb-stats` / get_relations.")
    return frozenset(_eval(node, kb))


def _eval(node: SetExpr, kb: KB) -> set[Term]:
    if isinstance(node, Entity):
        return {node.id}
    if isinstance(node, Const):
        return {node.literal}
    if isinstance(node, Class):
        return kb.instances(node.name)
    if isinstance(node, Join):
        return kb.walk_back(_eval(node.arg, kb), steps(node.path))
    if isinstance(node, And):
        return _eval_and(node, kb)
    if isinstance(node, Count):
        return {count_literal(_eval(node.arg, kb))}
    if isinstance(node, Arg):
        return argbest(kb, _eval(node.arg, kb), steps(node.path), node.op)
    if isinstance(node, Compare):
        return kb.compare_all(steps(node.path), node.op, node.value.literal)
    if isinstance(node, TC):
        rel = steps(node.rel)
        if len(rel) != 1 or not rel[0][1]:
            raise ConversionError("TC needs a single forward relation such as government.government_position_held.from")
        time = NOW if isinstance(node.time, Now) else node.time.literal
        return time_filter(kb, _eval(node.arg, kb), rel[0][0], time)
    raise ConversionError(f"cannot execute {node!r}")


def _eval_and(node: And, kb: KB) -> set[Term]:
    """Intersect, but filter instead of enumerating a class or a bare comparative when the other side is anchored."""
    left, right = node.left, node.right
    if _is_filter(left) and not _is_filter(right):
        left, right = right, left
    if _is_filter(right) and not (isinstance(left, Class) and isinstance(right, Compare)):
        members = _eval(left, kb)
        if isinstance(right, Class):
            return kb.filter_class(members, right.name)
        return compare_filter(kb, members, steps(right.path), right.op, right.value.literal)
    if isinstance(left, Class) and isinstance(right, Compare):
        return kb.filter_class(_eval(right, kb), left.name)
    return _eval(left, kb) & _eval(right, kb)


def _is_filter(node: SetExpr) -> bool:
    return isinstance(node, (Class, Compare))


# ---------------------------------------------------------------------------- actions
def resolve(arg, bindings: list[frozenset[Term]]) -> set[Term]:
    """The entity set a node argument stands for: a bound variable, one entity, or one literal."""
    if isinstance(arg, Var):
        if arg.index >= len(bindings):
            have = ", ".join(f"#{i}" for i in range(len(bindings))) or "none yet"
            raise ActionError(f"variable #{arg.index} is not defined (defined: {have})")
        return set(bindings[arg.index])
    return {arg}


def run_action(kb: KB, action: Action, bindings: list[frozenset[Term]]) -> Union[frozenset[Term], list[str]]:
    """Execute one action: a new entity set for set-producing actions, a relation list for the lookups."""
    name, args = action.name, action.args
    if name == "get_relations":
        out, inc = kb.relations_of(resolve(args[0], bindings))
        shown = lambda rels: sorted(r for r in rels if not r.startswith(BOOKKEEPING))  # noqa: E731
        return shown(out) + ["^" + r for r in shown(inc)]
    if name == "get_attributes":
        members = resolve(args[0], bindings)
        out, _ = kb.relations_of(members)
        attrs = []
        for rel in sorted(out):
            vals = kb.values(members, ((rel, True),))
            if any(isinstance(v, Literal) and (v.is_numeric or v.is_temporal) for vs in vals.values() for v in vs):
                attrs.append(rel)
        return attrs
    if name == "get_neighbors":
        (rel, fwd), = args[1].steps
        result = kb.follow(resolve(args[0], bindings), rel, fwd)
    elif name == "intersection":
        result = resolve(args[0], bindings) & resolve(args[1], bindings)
    elif name in ("argmax", "argmin"):
        result = argbest(kb, resolve(args[0], bindings), args[1].steps, name)
    elif name == "count":
        result = {count_literal(resolve(args[0], bindings))}
    elif name in ("lt", "le", "gt", "ge"):
        if len(args) == 2:
            result = kb.compare_all(args[0].steps, name, args[1])
        else:
            result = compare_filter(kb, resolve(args[0], bindings), args[1].steps, name, args[2])
    elif name == "filter_class":
        result = kb.filter_class(resolve(args[0], bindings), args[1])
    elif name == "get_instances":
        result = kb.instances(args[0])
    elif name == "time_filter":
        (rel, fwd), = args[1].steps
        if not fwd:
            raise ActionError("time_filter needs a forward relation such as government.government_position_held.from")
        result = time_filter(kb, resolve(args[0], bindings), rel, args[2])
    elif name == "answer":
        result = resolve(args[0], bindings)
    else:
        raise ActionError(f"unknown action {name!r}")
    return frozenset(result)


def run_actions(kb: KB, actions: Iterable[Action]) -> tuple[list[frozenset[Term]], frozenset[Term] | None]:
    """Run a whole action sequence: (state bound by each variable, answer set or None)."""
    bindings: list[frozenset[Term]] = []
    answer = None
    for action in actions:
        result = run_action(kb, action, bindings)
        if action.name == "answer":
            answer = result
        elif action.binds:
            bindings.append(result)
    return bindings, answer


def sorted_terms(terms: Iterable[Term]) -> list[Term]:
    return sorted(terms, key=term_sort_key)
