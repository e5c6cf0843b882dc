"""Literal comparison (lt/le/gt/ge) in Python and as a SPARQL FILTER: one convention for every backend.

It lives in kb/ so that backends answer `compare_all` without importing logic/; `logic.execute` and
`logic.to_sparql` build on the same two functions, so forms, actions and queries order values alike.
"""
from __future__ import annotations

from .terms import TEMPORAL_PAD, Literal, Term, compare, temporal_key

OPS = {"lt": lambda c: c < 0, "le": lambda c: c <= 0, "gt": lambda c: c > 0, "ge": lambda c: c >= 0}
SPARQL_OP = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
TEMPORAL_IN = "(xsd:date, xsd:gYear, xsd:gYearMonth, xsd:dateTime)"


def satisfies(value: Term, op: str, bound: Literal) -> bool:
    """Whether `value op bound` holds as SPARQL orders them (a type mismatch never satisfies)."""
    c = compare(value, bound)
    return c is not None and OPS[op](c)


def comparison(var: str, op: str, bound: Literal) -> str:
    """A FILTER expression equal to satisfies(var, op, bound)."""
    sym = SPARQL_OP[op]
    if bound.is_temporal:
        padded = f'CONCAT(STR({var}), SUBSTR("{TEMPORAL_PAD}", STRLEN(STR({var})) - 3))'
        return (f"(isLiteral({var}) && DATATYPE({var}) IN {TEMPORAL_IN} && "
                f'{padded} {sym} "{temporal_key(bound)}")')
    if bound.is_numeric:
        return f"(isNumeric({var}) && {var} {sym} {bound.to_sparql()})"
    return f"(isLiteral({var}) && {var} {sym} {bound.to_sparql()})"
