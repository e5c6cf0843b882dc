"""Action conversion (GAPD piece 1): a logical form becomes the gold action sequence an agent could type.

Each set-producing action binds the next variable `#k`; executed in order, the actions give the gold
intermediate states that mid-anchor matching compares the student's states with.
"""
from __future__ import annotations

from dataclasses import dataclass

from .actions import NOW, Action, Node, RelPath, Var
from ..kb.base import KB
from ..kb.terms import Term
from .execute import run_action
from ..errors import ConversionError
from .sexpr import (And, Arg, Class, Compare, Const, Count, Entity, Join, Now, SetExpr, TC, TimeMacro, check_depth,
                    parse, steps)


class _Compiler:
    def __init__(self) -> None:
        self.actions: list[Action] = []
        self.n_vars = 0

    def emit(self, name: str, *args) -> Var:
        self.actions.append(Action(name, tuple(args)))
        var = Var(self.n_vars)
        self.n_vars += 1
        return var

    def node(self, expr: SetExpr) -> Node:
        """A node argument for `expr`: constants stand for themselves, everything else becomes a variable."""
        if isinstance(expr, Entity):
            return expr.id
        if isinstance(expr, Const):
            return expr.literal
        return self.var(expr)

    def var(self, expr: SetExpr) -> Var:
        if isinstance(expr, (Entity, Const)):
            raise AssertionError("constants are nodes, not variables")
        if isinstance(expr, Class):
            return self.emit("get_instances", expr.name)
        if isinstance(expr, Join):
            src: Node = self.node(expr.arg)
            for rel, forward in reversed(steps(expr.path)):
                src = self.emit("get_neighbors", src, RelPath(((rel, not forward),)))
            return src if isinstance(src, Var) else self.emit("intersection", src, src)
        if isinstance(expr, And):
            return self.conjunction(expr)
        if isinstance(expr, Count):
            return self.emit("count", self.node(expr.arg))
        if isinstance(expr, Arg):
            return self.emit(expr.op.lower(), self.node(expr.arg), RelPath(steps(expr.path)))
        if isinstance(expr, Compare):
            return self.emit(expr.op, RelPath(steps(expr.path)), expr.value.literal)
        if isinstance(expr, TC):
            time = NOW if isinstance(expr.time, Now) else expr.time.literal
            return self.emit("time_filter", self.node(expr.arg), RelPath(steps(expr.rel)), time)
        if isinstance(expr, TimeMacro):
            raise ConversionError(f"{expr.relation} constrains a set and cannot stand alone: write "
                                  f"(AND (JOIN {expr.relation} YEAR) set)")
        raise AssertionError(expr)

    def conjunction(self, expr: And) -> Var:
        """Mirror execute._eval_and: filter by a class or comparative when the other side is anchored."""
        left, right = expr.left, expr.right
        is_filter = lambda e: isinstance(e, (Class, Compare, TimeMacro))  # noqa: E731
        if is_filter(left) and not is_filter(right):
            left, right = right, left
        if is_filter(right) and isinstance(left, Class) and isinstance(right, Compare):
            left, right = right, left
        if is_filter(right):
            base = self.node(left)
            if isinstance(right, Class):
                return self.emit("filter_class", base, right.name)
            if isinstance(right, TimeMacro):  # an action the agent can write: time_filter(#k, T.time_macro, 2015)
                time = NOW if isinstance(right.time, Now) else right.time.literal
                return self.emit("time_filter", base, RelPath(((right.relation, True),)), time)
            return self.emit(right.op, base, RelPath(steps(right.path)), right.value.literal)
        return self.emit("intersection", self.node(left), self.node(right))


def to_actions(expr: SetExpr | str) -> list[Action]:
    """The gold action sequence for a logical form, ending with `answer(#k)`."""
    if isinstance(expr, str):
        expr = parse(expr)
    check_depth(expr)
    compiler = _Compiler()
    result = compiler.node(expr)
    compiler.actions.append(Action("answer", (result,)))
    return compiler.actions


ATTRIBUTE_ACTIONS = ("argmax", "argmin", "lt", "le", "gt", "ge", "time_filter")  # act on an attribute of a set


def exploration_for(action: Action) -> Action | None:
    """The look an agent takes before `action` so it copies the name it then uses rather than recalls it:
    `get_relations(e)` before a hop from topic entity e, `get_attributes(#k)` before ranking, comparing or
    time-filtering set #k on an attribute; None for every other action."""
    src = action.args[0] if action.args else None
    if action.name == "get_neighbors" and isinstance(src, str):
        return Action("get_relations", (src,))
    if action.name in ATTRIBUTE_ACTIONS and isinstance(src, Var):
        return Action("get_attributes", (src,))
    return None


def explore_first(actions: list[Action]) -> list[Action]:
    """Each action preceded by its `exploration_for` the first time that look is needed (the gold agent's
    dialogues, so SFT teaches looking before naming a relation or attribute)."""
    out, seen = [], set()
    for action in actions:
        look = exploration_for(action)
        if look is not None and look not in seen:
            out.append(look)
            seen.add(look)
        out.append(action)
    return out


@dataclass(frozen=True)
class GoldStep:
    """One gold action, the variable it binds (None for answer) and the entity set it produces."""
    action: Action
    var: int | None
    state: frozenset[Term]


def gold_steps(actions: list[Action], kb: KB) -> list[GoldStep]:
    """Execute the gold actions in order, keeping each intermediate state."""
    out, bindings = [], []
    for action in actions:
        state = run_action(kb, action, bindings)
        var = None
        if action.binds:
            var = len(bindings)
            bindings.append(state)
        out.append(GoldStep(action, var, frozenset(state)))
    return out
