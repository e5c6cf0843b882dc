"""The agent's action language: typed actions, their text form, and a parser for untrusted model text.

One action per turn, e.g. ``get_neighbors(m.0f8l9c, ^location.location.containedby)``. Arguments:

* a *node*: a variable ``#k`` bound by an earlier step, an entity id ``m.xxx``, or a literal
  (``1990``, ``4.5``, ``"1958"^^xsd:gYear``, ``"Paris"@en``);
* a *relation*: ``location.country.capital`` walks it forwards, ``^location.country.capital`` backwards;
* a *path* (for attributes): relations joined by ``/``, e.g. ``location.statistical_region.population/measurement_unit.dated_integer.number``;
* a *class*: ``location.country``; a *time*: a year, a date literal or ``NOW``.

The parser never evaluates anything; every problem is an `ActionError` whose message the env shows the agent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from ..errors import ActionError, LiteralError
from ..kb.terms import Literal, is_entity_id, is_schema_id
from .sexpr import parse_literal  # the same literal syntax as the logical forms

Step = tuple[str, bool]


@dataclass(frozen=True)
class Var:
    """`#k`: the entity set bound by the k-th set-producing step of the episode."""
    index: int

    def __str__(self) -> str:
        return f"#{self.index}"


@dataclass(frozen=True)
class RelPath:
    steps: tuple[Step, ...]

    def __str__(self) -> str:
        return "/".join(("" if fwd else "^") + name for name, fwd in self.steps)


NOW = "NOW"
Node = Union[Var, str, Literal]  # str: an entity id
Arg = Union[Var, str, Literal, RelPath]

# name → accepted signatures (tuples of argument kinds) and whether it binds a new variable
_NODE, _REL, _PATH, _CLASS, _LIT, _TIME = "node", "relation", "path", "class", "literal", "time"
SIGNATURES: dict[str, tuple[tuple[str, ...], ...]] = {
    "get_relations": ((_NODE,),),
    "get_neighbors": ((_NODE, _REL),),
    "intersection": ((_NODE, _NODE),),
    "get_attributes": ((_NODE,),),
    "argmax": ((_NODE, _PATH),),
    "argmin": ((_NODE, _PATH),),
    "count": ((_NODE,),),
    "lt": ((_NODE, _PATH, _LIT), (_PATH, _LIT)),
    "le": ((_NODE, _PATH, _LIT), (_PATH, _LIT)),
    "gt": ((_NODE, _PATH, _LIT), (_PATH, _LIT)),
    "ge": ((_NODE, _PATH, _LIT), (_PATH, _LIT)),
    "filter_class": ((_NODE, _CLASS),),
    "get_instances": ((_CLASS,),),
    "time_filter": ((_NODE, _REL, _TIME),),
    "answer": ((_NODE,),),
}
BINDS_VARIABLE = frozenset(SIGNATURES) - {"get_relations", "get_attributes", "answer"}
COMPARISONS = ("lt", "le", "gt", "ge")
_ARG_HELP = {_NODE: "#k, an entity id m.xxx or a literal", _REL: "a relation such as a.b.c or ^a.b.c",
             _PATH: "a relation or a path a.b.c/d.e.f", _CLASS: "a class such as location.country",
             _LIT: "a literal such as 1990, 4.5 or \"1958\"^^xsd:gYear", _TIME: "a year, a date or NOW"}


@dataclass(frozen=True)
class Action:
    name: str
    args: tuple[Arg, ...]

    def __str__(self) -> str:
        return f"{self.name}({', '.join(format_arg(a) for a in self.args)})"

    @property
    def binds(self) -> bool:
        """True when executing it binds a new variable #k."""
        return self.name in BINDS_VARIABLE

    @property
    def inputs(self) -> tuple[Var, ...]:
        """The variables it reads (the edges of the gold program's DAG)."""
        return tuple(a for a in self.args if isinstance(a, Var))

    def rename(self, mapping: dict[int, int]) -> "Action":
        """The same action with variables renumbered (e.g. into a student's own names)."""
        return Action(self.name, tuple(Var(mapping[a.index]) if isinstance(a, Var) else a for a in self.args))


def format_arg(arg: Arg) -> str:
    if isinstance(arg, Literal):
        return arg.to_action()
    return str(arg)


# ---------------------------------------------------------------------------- parsing untrusted text
_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z_0-9]*)\s*\((.*)\)\s*;?\s*$", re.S)
_VAR = re.compile(r"^#(\d{1,4})$")
_YEAR = re.compile(r"^-?\d+$")  # an integer year, BC ones included (canonical -375 for -0375)
MAX_ACTION_CHARS = 1000


def parse_action(text: str) -> Action:
    """Parse one action call; raises ActionError with a message meant for the agent."""
    if not isinstance(text, str):
        raise ActionError("an action must be text such as get_relations(m.0abc)")
    if len(text) > MAX_ACTION_CHARS:
        raise ActionError(f"action is {len(text)} characters long; write one short call (≤ {MAX_ACTION_CHARS})")
    m = _CALL.match(text)
    if not m:
        raise ActionError(f"could not read {_clip(text)!r} as an action; write one call such as get_relations(m.0abc)")
    name, body = m.group(1), m.group(2)
    if name not in SIGNATURES:
        raise ActionError(f"unknown action {name!r}; available: {', '.join(SIGNATURES)}")
    raw_args = _split_args(body)
    signatures = SIGNATURES[name]
    fitting = [sig for sig in signatures if len(sig) == len(raw_args)]
    if not fitting:
        shapes = " or ".join(f"{len(s)} ({', '.join(s)})" for s in signatures)
        raise ActionError(f"{name} takes {shapes} argument(s), got {len(raw_args)}")
    errors = []
    for sig in fitting:
        try:
            return Action(name, tuple(_parse_arg(kind, raw) for kind, raw in zip(sig, raw_args)))
        except ActionError as exc:
            errors.append(str(exc))
    raise ActionError(f"{name}: {errors[0]}")


def _split_args(body: str) -> list[str]:
    args, buf, quoted, i = [], [], False, 0
    while i < len(body):
        ch = body[i]
        if quoted and ch == "\\" and i + 1 < len(body):
            buf.append(body[i:i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            args.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
        i += 1
    if quoted:
        raise ActionError("unterminated string: close the double quote")
    last = "".join(buf).strip()
    if last or args:
        args.append(last)
    if any(a == "" for a in args):
        raise ActionError("empty argument: remove the extra comma")
    return args


def _parse_arg(kind: str, raw: str) -> Arg:
    if kind == _NODE:
        return parse_node(raw)
    if kind == _REL:
        path = parse_path(raw)
        if len(path.steps) != 1:
            raise ActionError(f"expected one relation, got the path {raw!r}; take one hop per step")
        return path
    if kind == _PATH:
        return parse_path(raw)
    if kind == _CLASS:
        name = _strip_quotes(raw)
        if not is_schema_id(name):
            raise ActionError(f"{_clip(raw)!r} is not a class; expected {_ARG_HELP[_CLASS]}")
        return name
    if kind == _LIT:
        return parse_literal_arg(raw)
    if kind == _TIME:
        if raw.strip().upper() == NOW:
            return NOW
        lit = parse_literal_arg(raw)
        if not (lit.is_temporal or (lit.datatype == "integer" and _YEAR.match(lit.lexical))):
            raise ActionError(f"{_clip(raw)!r} is not a time; expected {_ARG_HELP[_TIME]}")
        return lit
    raise AssertionError(kind)


def parse_node(raw: str) -> Node:
    text = raw.strip()
    m = _VAR.match(text)
    if m:
        return Var(int(m.group(1)))
    if is_entity_id(text):
        return text
    try:
        return parse_literal_arg(text)
    except ActionError:
        raise ActionError(f"{_clip(raw)!r} is not a node; expected {_ARG_HELP[_NODE]}") from None


def parse_path(raw: str) -> RelPath:
    text = _strip_quotes(raw)
    parts = text.split("/")
    steps = []
    for part in parts:
        part = part.strip()
        forward = not part.startswith("^")
        name = part.lstrip("^").strip()
        if not is_schema_id(name):
            raise ActionError(f"{_clip(raw)!r} is not a relation; expected {_ARG_HELP[_PATH]}")
        steps.append((name, forward))
    return RelPath(tuple(steps))


def parse_literal_arg(raw: str) -> Literal:
    text = raw.strip()
    text = re.sub(r"\^\^<([^<>\s]+)>$", r"^^\1", text)
    try:
        return parse_literal(text)
    except LiteralError as exc:
        raise ActionError(f"{_clip(raw)!r} is not a literal ({exc}); expected {_ARG_HELP[_LIT]}") from None


def _strip_quotes(raw: str) -> str:
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1].strip()
    return text


def _clip(text: str, n: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= n else text[:n] + "…"
