"""GrailQA / WebQSP S-expressions: parse to a typed tree, print back exactly.

Grammar (GrailQA, Gu et al. 2021, plus the WebQSP variants of public preprocessing)::

    set   := ENTITY | LITERAL | CLASS
           | (JOIN path set) | (AND set set) | (COUNT set)
           | (ARGMAX set path) | (ARGMIN set path)
           | (lt path LITERAL) | (le ...) | (gt ...) | (ge ...)
           | (TC set RELATION time)               time := YEAR | LITERAL | NOW
           | (JOIN TYPE.time_macro time)          WebQSP preprocessing: CVTs of TYPE whose period overlaps time
    path  := RELATION | (R path) | (JOIN path path)
    ENTITY  := m.xxx | g.xxx
    LITERAL := lexical^^http://www.w3.org/2001/XMLSchema#type | "text"[@lang | ^^type] | 42 | 4.5

`(JOIN r X)` is every subject s with r(s, x) for some x in X; `(JOIN (R r) X)` follows r forwards.
`time_macro` is a virtual relation (logic/temporal.py); its year may be written `2015^^…#date` as the public
WebQSP preprocessing (RnG-KBQA, ChatKBQA) writes it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Union

from ..errors import LiteralError, SExprError
from ..kb.terms import XSD_NS, Literal, is_entity_id, is_schema_id, unquote

COMPARATIVES = ("lt", "le", "gt", "ge")
MAX_DEPTH = 100  # deepest nesting accepted: real GrailQA/WebQSP forms stay under 10, and the tree functions recurse
OPERATORS = ("AND", "JOIN", "R", "COUNT", "ARGMAX", "ARGMIN", "TC") + COMPARATIVES
FUNCTION_OF = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}


# ---------------------------------------------------------------------------- the typed tree
@dataclass(frozen=True)
class Rel:
    """A relation step, read forwards (subject → object)."""
    name: str


@dataclass(frozen=True)
class Rev:
    """`(R path)`: the path read backwards."""
    path: "Path"


@dataclass(frozen=True)
class Chain:
    """`(JOIN p q)` in a relation position: p then q (GrailQA's ARGMAX over a CVT hop)."""
    first: "Path"
    second: "Path"


Path = Union[Rel, Rev, Chain]


@dataclass(frozen=True)
class Entity:
    id: str


@dataclass(frozen=True)
class Const:
    literal: Literal
    raw: str = field(default="", compare=False)  # the spelling it was parsed from, for exact round trips


@dataclass(frozen=True)
class Class:
    name: str


@dataclass(frozen=True)
class Join:
    path: Path
    arg: "SetExpr"


@dataclass(frozen=True)
class And:
    left: "SetExpr"
    right: "SetExpr"


@dataclass(frozen=True)
class Count:
    arg: "SetExpr"


@dataclass(frozen=True)
class Arg:
    op: str  # ARGMAX | ARGMIN
    arg: "SetExpr"
    path: Path


@dataclass(frozen=True)
class Compare:
    op: str  # lt | le | gt | ge
    path: Path
    value: Const


@dataclass(frozen=True)
class Now:
    raw: str = field(default="NOW", compare=False)


@dataclass(frozen=True)
class TC:
    arg: "SetExpr"
    rel: Path
    time: Union[Const, Now]


@dataclass(frozen=True)
class TimeMacro:
    """`(JOIN people.marriage.time_macro 2015^^…#date)`: the CVTs whose own from/to period overlaps the time."""
    relation: str  # <cvt type>.time_macro
    time: Union[Const, Now]


SetExpr = Union[Entity, Const, Class, Join, And, Count, Arg, Compare, TC, TimeMacro]


def steps(path: Path) -> tuple[tuple[str, bool], ...]:
    """Flatten a path into (relation, forward?) hops, in the order they are walked from the subject."""
    if isinstance(path, Rel):
        return ((path.name, True),)
    if isinstance(path, Rev):
        return tuple((name, not fwd) for name, fwd in reversed(steps(path.path)))
    return steps(path.first) + steps(path.second)


# ---------------------------------------------------------------------------- tokenizer
@dataclass(frozen=True)
class _Tok:
    text: str
    pos: int
    quoted: bool = False


_ATOM_END = re.compile(r"[\s()]")


def _tokenize(text: str) -> list[_Tok]:
    toks, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            toks.append(_Tok(ch, i))
            i += 1
        elif ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise SExprError("unterminated string literal: add the closing double quote", text, i)
            m = _ATOM_END.search(text, j + 1)
            end = m.start() if m else n
            toks.append(_Tok(text[i:end], i, quoted=True))
            i = end
        else:
            m = _ATOM_END.search(text, i)
            end = m.start() if m else n
            toks.append(_Tok(text[i:end], i))
            i = end
    return toks


@dataclass
class _List:
    items: list
    pos: int


def _read(text: str) -> Union[_List, _Tok]:
    toks = _tokenize(text)
    if not toks:
        raise SExprError("empty logical form: expected something like (AND class (JOIN relation m.xxx))", text, 0)
    stack: list[_List] = []
    top = None
    for tok in toks:
        if tok.text == "(" and not tok.quoted:
            if len(stack) == MAX_DEPTH:
                raise SExprError(_too_deep(f"more than {MAX_DEPTH}"), text, tok.pos)
            stack.append(_List([], tok.pos))
        elif tok.text == ")" and not tok.quoted:
            if not stack:
                raise SExprError("unbalanced ')': remove it or add a matching '('", text, tok.pos)
            done = stack.pop()
            if stack:
                stack[-1].items.append(done)
            elif top is None:
                top = done
            else:
                raise SExprError("more than one expression: wrap them in (AND ...) or remove the extra", text, done.pos)
        elif stack:
            stack[-1].items.append(tok)
        elif top is None and len(toks) == 1:
            top = tok
        else:
            raise SExprError(f"unexpected {tok.text!r} outside parentheses", text, tok.pos)
    if stack:
        raise SExprError(f"unbalanced '(': {len(stack)} closing parenthes{'is' if len(stack) == 1 else 'es'} "
                         "missing (is the form truncated?)", text, stack[-1].pos)
    return top


def _too_deep(levels: str) -> str:
    return (f"logical form nested {levels} levels deep; at most {MAX_DEPTH} are supported (real forms stay under 10)")


def depth(node) -> int:
    """Nesting depth of a tree (an atom 0, each operator one more), computed without recursion."""
    best, todo = 0, [(node, 0)]
    while todo:
        item, level = todo.pop()
        parts = _parts(item)
        if parts:
            best = max(best, level + 1)
            todo.extend((part, level + 1) for part in parts)
    return best


def _parts(node) -> tuple:
    if isinstance(node, (Join, Compare)):
        return (node.path, node.arg if isinstance(node, Join) else node.value)
    if isinstance(node, And):
        return (node.left, node.right)
    if isinstance(node, Count):
        return (node.arg,)
    if isinstance(node, Arg):
        return (node.arg, node.path)
    if isinstance(node, TC):
        return (node.arg, node.rel, node.time)
    if isinstance(node, Rev):
        return (node.path,)
    if isinstance(node, Chain):
        return (node.first, node.second)
    return ()


def check_depth(node) -> None:
    """Raise SExprError for a tree nested deeper than MAX_DEPTH (one built in code rather than parsed)."""
    levels = depth(node)
    if levels > MAX_DEPTH:
        raise SExprError(_too_deep(f"{levels:,}"))


# ---------------------------------------------------------------------------- literals
_BARE_INT = re.compile(r"^[+-]?\d+$")
_BARE_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$")
_YEAR = re.compile(r"^-?\d{4,}$")
TIME_MACRO_SUFFIX = ".time_macro"
_LANG_TAIL = re.compile(r"^@([a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*)$")


def parse_literal(token: str) -> Literal:
    """A GrailQA literal token (`1990^^http://…#gYear`, `"x"@en`, `42`) to a canonical Literal."""
    if token.startswith('"'):
        end = 1
        while end < len(token) and token[end] != '"':
            end += 2 if token[end] == "\\" else 1
        body, tail = unquote(token[1:end]), token[end + 1:]
        if not tail:
            return Literal.typed(body)
        if tail.startswith("^^"):
            return Literal.typed(body, _datatype(tail[2:]))
        m = _LANG_TAIL.match(tail)
        if m:
            return Literal.typed(body, "string", m.group(1))
        raise LiteralError(f"unexpected {tail!r} after string literal; use \"text\"@en or \"text\"^^xsd:type")
    if "^^" in token:
        lexical, dtype = token.split("^^", 1)
        return Literal.typed(lexical, _datatype(dtype))
    if _BARE_INT.match(token):
        return Literal.typed(token, "integer")
    if _BARE_FLOAT.match(token):
        return Literal.typed(token, "float")
    raise LiteralError(f"{token!r} is not a literal")


def _datatype(spec: str) -> str:
    spec = spec.strip("<>")
    for prefix in (XSD_NS, "xsd:"):
        if spec.startswith(prefix):
            return spec[len(prefix):]
    raise LiteralError(f"unknown datatype {spec!r}; use {XSD_NS}TYPE or xsd:TYPE")


def _looks_literal(tok: _Tok) -> bool:
    t = tok.text
    return tok.quoted or "^^" in t or bool(_BARE_INT.match(t) or _BARE_FLOAT.match(t))


# ---------------------------------------------------------------------------- tree → typed nodes
class _Builder:
    def __init__(self, text: str):
        self.text = text

    def err(self, msg: str, node) -> SExprError:
        return SExprError(msg, self.text, node.pos)

    def head(self, lst: _List) -> str:
        if not lst.items:
            raise self.err("empty parentheses '()': expected an operator such as AND, JOIN, COUNT", lst)
        op = lst.items[0]
        if isinstance(op, _List):
            raise self.err("an operator must come first in a list, found a nested list", op)
        if op.text not in OPERATORS:
            hint = next((o for o in OPERATORS if o.lower() == op.text.lower()), None)
            known = ", ".join(OPERATORS)
            raise self.err(f"unknown operator {op.text!r}" + (f"; did you mean {hint}?" if hint else f"; known: {known}"), op)
        return op.text

    def arity(self, lst: _List, op: str, n: int, what: str) -> None:
        if len(lst.items) - 1 != n:
            raise self.err(f"{op} takes {n} argument{'s' * (n != 1)} ({what}), got {len(lst.items) - 1}", lst)

    def set_expr(self, node) -> SetExpr:
        if isinstance(node, _Tok):
            return self.atom(node)
        op = self.head(node)
        items = node.items
        if op == "JOIN":
            self.arity(node, op, 2, "relation, set")
            path = self.path(items[1])
            if isinstance(path, Rel) and path.name.endswith(TIME_MACRO_SUFFIX):
                return TimeMacro(path.name, self.macro_time(items[2]))
            return Join(path, self.set_expr(items[2]))
        if op == "AND":
            self.arity(node, op, 2, "set, set")
            return And(self.set_expr(items[1]), self.set_expr(items[2]))
        if op == "COUNT":
            self.arity(node, op, 1, "set")
            return Count(self.set_expr(items[1]))
        if op in ("ARGMAX", "ARGMIN"):
            self.arity(node, op, 2, "set, relation")
            return Arg(op, self.set_expr(items[1]), self.path(items[2]))
        if op in COMPARATIVES:
            self.arity(node, op, 2, "relation, literal")
            return Compare(op, self.path(items[1]), self.const(items[2], f"the value compared by {op}"))
        if op == "TC":
            self.arity(node, op, 3, "set, relation, year or NOW")
            time = items[3]
            if isinstance(time, _Tok) and time.text == "NOW":
                when: Union[Const, Now] = Now(time.text)
            else:
                when = self.const(time, "the time of TC (a year, a date or NOW)")
                if not (when.literal.is_temporal or when.literal.datatype == "integer"):
                    raise self.err("TC needs a year, a date or NOW", time)
            return TC(self.set_expr(items[1]), self.path(items[2]), when)
        raise self.err(f"{op} cannot stand where a set is expected; (R relation) belongs in a relation position", node)

    def macro_time(self, node) -> Union[Const, Now]:
        """The time of a time_macro: a year (also `2015^^…#date`, as WebQSP preprocessing types it), a date or NOW."""
        if isinstance(node, _Tok) and node.text == "NOW":
            return Now(node.text)
        if isinstance(node, _Tok) and "^^" in node.text and not node.quoted:
            lexical, dtype = node.text.split("^^", 1)
            if _YEAR.match(lexical) and dtype.strip("<>").endswith(("#date", "#dateTime", ":date", ":dateTime")):
                return Const(Literal.typed(lexical, "gYear"), node.text)
        when = self.const(node, "the time of a time_macro (a year, a date or NOW)")
        if not (when.literal.is_temporal or when.literal.datatype == "integer"):
            raise self.err("a time_macro needs a year, a date or NOW", node)
        return when

    def atom(self, tok: _Tok) -> SetExpr:
        if _looks_literal(tok):
            return self.const(tok, "a literal")
        if is_entity_id(tok.text):
            return Entity(tok.text)
        if is_schema_id(tok.text):
            return Class(tok.text)
        if tok.text in OPERATORS:
            raise self.err(f"operator {tok.text} must be written inside parentheses: ({tok.text} ...)", tok)
        raise self.err(f"{tok.text!r} is not an entity id (m.xxx / g.xxx), a class, or a typed literal", tok)

    def const(self, node, what: str) -> Const:
        if not isinstance(node, _Tok) or not _looks_literal(node):
            raise self.err(f"expected {what}, e.g. 1990^^{XSD_NS}gYear", node)
        try:
            return Const(parse_literal(node.text), node.text)
        except LiteralError as exc:
            raise self.err(str(exc), node) from None

    def path(self, node) -> Path:
        if isinstance(node, _Tok):
            if is_schema_id(node.text):
                return Rel(node.text)
            raise self.err(f"{node.text!r} is not a relation id such as location.country.capital", node)
        op = self.head(node)
        if op == "R":
            self.arity(node, op, 1, "relation")
            return Rev(self.path(node.items[1]))
        if op == "JOIN":
            self.arity(node, op, 2, "relation, relation")
            return Chain(self.path(node.items[1]), self.path(node.items[2]))
        raise self.err(f"{op} cannot stand where a relation is expected; use a relation, (R relation) or "
                       "(JOIN relation relation)", node)


def parse(text: str) -> SetExpr:
    """Parse a logical form; raises SExprError naming the problem and its position."""
    if not isinstance(text, str):
        raise SExprError(f"a logical form must be a string, got {type(text).__name__}")
    return _Builder(text).set_expr(_read(text))


# ---------------------------------------------------------------------------- printing
def to_sexpr(node: Union[SetExpr, Path, Now]) -> str:
    """The canonical GrailQA spelling; `to_sexpr(parse(s)) == s` for forms written that way."""
    if isinstance(node, Rel):
        return node.name
    if isinstance(node, Rev):
        return f"(R {to_sexpr(node.path)})"
    if isinstance(node, Chain):
        return f"(JOIN {to_sexpr(node.first)} {to_sexpr(node.second)})"
    if isinstance(node, Entity):
        return node.id
    if isinstance(node, Class):
        return node.name
    if isinstance(node, Const):
        return node.raw or node.literal.to_sexpr()
    if isinstance(node, Now):
        return node.raw or "NOW"
    if isinstance(node, Join):
        return f"(JOIN {to_sexpr(node.path)} {to_sexpr(node.arg)})"
    if isinstance(node, And):
        return f"(AND {to_sexpr(node.left)} {to_sexpr(node.right)})"
    if isinstance(node, Count):
        return f"(COUNT {to_sexpr(node.arg)})"
    if isinstance(node, Arg):
        return f"({node.op} {to_sexpr(node.arg)} {to_sexpr(node.path)})"
    if isinstance(node, Compare):
        return f"({node.op} {to_sexpr(node.path)} {to_sexpr(node.value)})"
    if isinstance(node, TC):
        return f"(TC {to_sexpr(node.arg)} {to_sexpr(node.rel)} {to_sexpr(node.time)})"
    if isinstance(node, TimeMacro):
        return f"(JOIN {node.relation} {to_sexpr(node.time)})"
    raise TypeError(f"not an S-expression node: {node!r}")


# ---------------------------------------------------------------------------- inspection
def children(node: SetExpr) -> tuple[SetExpr, ...]:
    if isinstance(node, (Join, Count, Arg, TC)):
        return (node.arg,)
    if isinstance(node, And):
        return (node.left, node.right)
    return ()


def walk(node: SetExpr) -> Iterator[SetExpr]:
    """Every set node, parents before children."""
    yield node
    for child in children(node):
        yield from walk(child)


def paths_of(node: SetExpr) -> tuple[Path, ...]:
    if isinstance(node, (Join, Arg, Compare)):
        return (node.path,)
    if isinstance(node, TC):
        return (node.rel,)
    return ()


def relations(node: SetExpr) -> list[str]:
    """Relations in the order they appear in the printed form (with repeats)."""
    if isinstance(node, (Join, Compare)):
        head = [name for name, _ in _in_text_order(node.path)]
        return head + (relations(node.arg) if isinstance(node, Join) else [])
    if isinstance(node, (Arg, TC)):
        path = node.path if isinstance(node, Arg) else node.rel
        return relations(node.arg) + [name for name, _ in _in_text_order(path)]
    if isinstance(node, TimeMacro):
        return [node.relation]
    return [name for child in children(node) for name in relations(child)]


def _in_text_order(path: Path) -> list[tuple[str, bool]]:
    if isinstance(path, Rel):
        return [(path.name, True)]
    if isinstance(path, Rev):
        return _in_text_order(path.path)
    return _in_text_order(path.first) + _in_text_order(path.second)


def entities(node: SetExpr) -> list[str]:
    return [n.id for n in walk(node) if isinstance(n, Entity)]


def classes(node: SetExpr) -> list[str]:
    return [n.name for n in walk(node) if isinstance(n, Class)]


def function_of(node: SetExpr) -> str:
    """GrailQA's `function` field: none, count, argmax, argmin, <, <=, >, >= (and TC for WebQSP)."""
    if isinstance(node, Count):
        return "count"
    for n in walk(node):
        if isinstance(n, Arg):
            return n.op.lower()
        if isinstance(n, Compare):
            return FUNCTION_OF[n.op]
        if isinstance(n, (TC, TimeMacro)):
            return "TC"
    return "none"


def num_edges(node: SetExpr) -> int:
    """Relation hops in the query graph (GrailQA's num_edge)."""
    return len(relations(node))
