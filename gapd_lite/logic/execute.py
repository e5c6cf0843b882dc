"""Reference semantics: S-expressions and actions executed on any KB through the same operators.

Both the logical form and its gold action sequence go through the functions below, so "S-expression
= actions" holds by construction where the operators agree; the SPARQL translation (to_sparql.py) is
written to mean exactly the same and `verify-data` checks all three on every backend.

Conventions (documented once, shared with the SPARQL translation):
* comparisons follow SPARQL: numbers by value; temporal values (date, gYear, gYearMonth, dateTime)
  chronologically by their first instant, as numbers (BC years included); other mixes never satisfy;
* ARGMAX/ARGMIN rank the numbers along the path, or the temporal values when there are no numbers, and
  keep every member tied at the best value;
* TC and time_macro: logic/temporal.py.

`semantics` selects whose conventions hold (`temporal.SEMANTICS`):
* "default": the above, for training and for the package's own data: every answer the form's meaning
  implies, deterministic (ties kept) and the same on every route;
* "grailqa": the official GrailQA queries: all query-graph nodes (answer, intermediate nodes, topic
  entities) bind different entities (logic/injective.py), so topic entities are never answers;
* "webqsp": the official WebQSP queries: topic entities are never answers, only untagged or English
  literals are, a top-level ARGMAX/ARGMIN answers one member (`ORDER BY … LIMIT 1`; of tied members the
  first in id order, where Virtuoso's pick is undefined), TC/time_macro compare first instants, and a
  time_macro of 2015 means NOW (temporal.py). Use these two when scoring against official answers.
"""
from __future__ import annotations

from typing import Iterable, Union

from ..errors import ActionError, ConversionError, UnknownTermError
from ..kb.base import KB, Step, compare_filter
from ..kb.compare import best_of, ties_with
from ..kb.terms import Literal, Term, term_sort_key
from .actions import NOW, Action, RelPath, Var
from .injective import execute_injective
from .sexpr import (And, Arg, Chain, Class, Compare, Const, Count, Entity, Join, Now, Path, Rel, Rev, SetExpr, TC,
                    TimeMacro, check_depth, classes, entities, relations, steps)
from .temporal import (SEMANTICS, TC_NOW, TC_PAIRS, check_semantics, is_time_macro, period_bounds, time_filter,
                       time_macro_members, time_macro_of, time_pair)

BOOKKEEPING = ("type.", "freebase.")  # schema relations get_relations leaves out (still usable)
__all__ = ["SEMANTICS", "TC_NOW", "TC_PAIRS", "period_bounds", "time_pair", "time_filter", "execute", "run_action",
           "run_actions", "argbest", "answer_of_actions", "form_of_actions"]


# ---------------------------------------------------------------------------- shared operators
def argbest(kb: KB, members: Iterable[Term], path: tuple[Step, ...], op: str) -> set[Term]:
    """ARGMAX/ARGMIN: every member whose value along `path` is the best one (ties kept)."""
    vals = kb.values(members, path)
    best = best_of((v for vs in vals.values() for v in vs), op)
    if best is None:
        return set()
    return {m for m, vs in vals.items() if any(ties_with(v, best) for v in vs)}


def count_literal(members: Iterable[Term]) -> Literal:
    return Literal(str(len(set(members))), "integer")


# ---------------------------------------------------------------------------- S-expressions
def unknown_terms(node: SetExpr, kb: KB) -> list[str]:
    """Entities, relations and classes of the form that the KB has never heard of."""
    missing = []
    for kind, names in (("entity", entities(node)), ("relation", relations(node)), ("class", classes(node))):
        for name in dict.fromkeys(names):
            if kind == "relation" and is_time_macro(name):
                continue  # a virtual relation (logic/temporal.py)
            if not kb.knows(name, kind):
                missing.append(f"{kind} {name}")
    return missing


def execute(node: SetExpr, kb: KB, check: bool = True, semantics: str = "default") -> frozenset[Term]:
    """The answer set of a parsed logical form (COUNT gives one integer literal) under `semantics`.

    With `check`, a form naming an unknown entity, relation or class raises UnknownTermError
    instead of silently answering the empty set.
    """
    check_depth(node)
    check_semantics(semantics)
    if check:
        missing = unknown_terms(node, kb)
        if missing:
            raise UnknownTermError(f"not in the KB ({kb.name}): {', '.join(missing)}. Check the spelling, or "
                                   "find ids with `gapd-lite kb-stats` / get_relations.")
    if semantics == "grailqa":
        return frozenset(execute_injective(node, kb))
    if semantics == "webqsp":
        return frozenset(_webqsp(node, kb))
    return frozenset(_eval(node, kb))


def _webqsp(node: SetExpr, kb: KB) -> set[Term]:
    """The official WebQSP query's answer: topic entities and non-English literals left out, one ARGMAX member."""
    topic = set(entities(node))
    keep = lambda ms: {m for m in ms if m not in topic and not _foreign(m)}  # noqa: E731
    if isinstance(node, Count):  # COUNT(DISTINCT ?x) over the filtered rows
        return {count_literal(keep(_eval(node.arg, kb, "webqsp")))}
    if isinstance(node, Arg):
        best = argbest(kb, keep(_eval(node.arg, kb, "webqsp")), steps(node.path), node.op)
        return set(sorted(best, key=term_sort_key)[:1])
    return keep(_eval(node, kb, "webqsp"))


def _foreign(term: Term) -> bool:
    """A literal tagged with a language other than English (`langMatches(lang(?x), 'en')` fails)."""
    return isinstance(term, Literal) and bool(term.lang) and not (term.lang == "en" or term.lang.startswith("en-"))


def _eval(node: SetExpr, kb: KB, semantics: str = "default") -> set[Term]:
    if isinstance(node, Entity):
        return {node.id}
    if isinstance(node, Const):
        return {node.literal}
    if isinstance(node, Class):
        return kb.instances(node.name)
    if isinstance(node, Join):
        return kb.walk_back(_eval(node.arg, kb, semantics), steps(node.path))
    if isinstance(node, And):
        return _eval_and(node, kb, semantics)
    if isinstance(node, Count):
        return {count_literal(_eval(node.arg, kb, semantics))}
    if isinstance(node, Arg):
        return argbest(kb, _eval(node.arg, kb, semantics), steps(node.path), node.op)
    if isinstance(node, Compare):
        return kb.compare_all(steps(node.path), node.op, node.value.literal)
    if isinstance(node, TC):
        rel = steps(node.rel)
        if len(rel) != 1 or not rel[0][1]:
            raise ConversionError("TC needs a single forward relation such as government.government_position_held.from")
        time = NOW if isinstance(node.time, Now) else node.time.literal
        return time_filter(kb, _eval(node.arg, kb, semantics), rel[0][0], time, semantics)
    if isinstance(node, TimeMacro):
        return _time_macro(node, kb, time_macro_members(kb, node.relation), semantics)
    raise ConversionError(f"cannot execute {node!r}")


def _time_macro(node: TimeMacro, kb: KB, members: Iterable[Term], semantics: str) -> set[Term]:
    return time_filter(kb, members, node.relation, NOW if isinstance(node.time, Now) else node.time.literal, semantics)


def _eval_and(node: And, kb: KB, semantics: str = "default") -> set[Term]:
    """Intersect, but filter instead of enumerating a class or a bare comparative when the other side is anchored."""
    left, right = node.left, node.right
    if _is_filter(left) and not _is_filter(right):
        left, right = right, left
    if _is_filter(right) and not (isinstance(left, Class) and isinstance(right, Compare)):
        members = _eval(left, kb, semantics)
        if isinstance(right, Class):
            return kb.filter_class(members, right.name)
        if isinstance(right, TimeMacro):
            return _time_macro(right, kb, members, semantics)
        return compare_filter(kb, members, steps(right.path), right.op, right.value.literal)
    if isinstance(left, Class) and isinstance(right, Compare):
        return kb.filter_class(_eval(right, kb, semantics), left.name)
    return _eval(left, kb, semantics) & _eval(right, kb, semantics)


def _is_filter(node: SetExpr) -> bool:
    return isinstance(node, (Class, Compare, TimeMacro))


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
        # the virtual time_macro of a CVT with a start or end date, so that time_filter can name it
        return attrs + sorted({m for m in map(time_macro_of, attrs) if m} - set(attrs))
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
            raise ActionError("time_filter needs a forward relation such as government.government_position_held.from "
                              "or people.marriage.time_macro")
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


# ---------------------------------------------------------------------------- official answers of actions
def _path_of(steps_: tuple[Step, ...]) -> Path:
    hops = [Rel(name) if fwd else Rev(Rel(name)) for name, fwd in steps_]
    path = hops[-1]
    for hop in reversed(hops[:-1]):
        path = Chain(hop, path)
    return path


def form_of_actions(actions: Iterable[Action]) -> SetExpr:
    """The logical form an action program spells (the inverse of to_actions), ending at its answer."""
    forms: list[SetExpr] = []

    def node(arg) -> SetExpr:
        if isinstance(arg, Var):
            if arg.index >= len(forms):
                raise ActionError(f"variable #{arg.index} is not defined")
            return forms[arg.index]
        return Const(arg) if isinstance(arg, Literal) else Entity(arg)

    for action in actions:
        name, args = action.name, action.args
        if name == "answer":
            return node(args[0])
        if not action.binds:
            continue
        if name == "get_instances":
            form: SetExpr = Class(args[0])
        elif name == "get_neighbors":
            (rel, fwd), = args[1].steps
            form = Join(Rev(Rel(rel)) if fwd else Rel(rel), node(args[0]))
        elif name == "intersection":
            a, b = node(args[0]), node(args[1])
            form = a if a == b else And(a, b)
        elif name == "filter_class":
            form = And(node(args[0]), Class(args[1]))
        elif name in ("argmax", "argmin"):
            form = Arg(name.upper(), node(args[0]), _path_of(args[1].steps))
        elif name == "count":
            form = Count(node(args[0]))
        elif name in ("lt", "le", "gt", "ge"):
            path, bound = (args[0], args[1]) if len(args) == 2 else (args[1], args[2])
            form = Compare(name, _path_of(path.steps), Const(bound))
            if len(args) == 3:
                form = And(node(args[0]), form)
        elif name == "time_filter":
            (rel, _), = args[1].steps
            when = Now() if args[2] == NOW else Const(args[2])
            form = (And(TimeMacro(rel, when), node(args[0])) if is_time_macro(rel)
                    else TC(node(args[0]), Rel(rel), when))
        else:
            raise ActionError(f"unknown action {name!r}")
        forms.append(form)
    raise ActionError("the program has no answer(...) step")


def answer_of_actions(kb: KB, actions: Iterable[Action], semantics: str = "default") -> frozenset[Term]:
    """The answer of an action program under `semantics`: the official answer of the form it spells."""
    actions = list(actions)
    if check_semantics(semantics) == "default":
        return run_actions(kb, actions)[1] or frozenset()
    return execute(form_of_actions(actions), kb, check=False, semantics=semantics)
