"""Literal comparison (lt/le/gt/ge) in Python and as a SPARQL FILTER: one convention for every backend.

It lives in kb/ so that backends answer `compare_all` without importing logic/; `logic.execute` and
`logic.to_sparql` build on the same functions, so forms, actions and queries order values alike.

Temporal values compare as numbers, never as text: a SPARQL expression (`temporal_number_sparql`) reads
year, month, day and time out of the lexical form and folds them into one number, the same number
`temporal_number` computes in Python. So BC years (-0750 before -0375), years past 9999 and mixed
precisions (1998 beside 1998-03-31) order alike on pyoxigraph, rdflib and Virtuoso, whatever each engine
thinks of comparing a gYear with a date. A timezone written on a stored value is ignored by the SPARQL
expression (its wall-clock time counts); values read through `Literal.typed` have none (kb/terms.py).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from .terms import Literal, Term, compare, temporal_key

OPS = {"lt": lambda c: c < 0, "le": lambda c: c <= 0, "gt": lambda c: c > 0, "ge": lambda c: c >= 0}
SPARQL_OP = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
TEMPORAL_IN = "(xsd:date, xsd:gYear, xsd:gYearMonth, xsd:dateTime)"
INT64 = 2 ** 63  # SPARQL stores such as Oxigraph keep xsd:integer in 64 bits


def satisfies(value: Term, op: str, bound: Literal) -> bool:
    """Whether `value op bound` holds as SPARQL orders them (a type mismatch never satisfies)."""
    c = compare(value, bound)
    return c is not None and OPS[op](c)


def temporal_number(lit: Literal, last: bool = False, day_only: bool = False) -> str:
    """The number `temporal_number_sparql` computes for this literal, as decimal text.

    year·10000 + month·100 + day, plus the time of day as a fraction (hhmmss and any fractional seconds
    after the point) unless `day_only`; missing parts are the first instant (month 1, day 1, midnight)
    or, with `last`, the last month and day (31: only the order matters).
    """
    year, month, day, second = temporal_key(lit, last)
    number = Decimal(year * 10000 + month * 100 + day)
    if not day_only and lit.datatype == "dateTime":
        clock = lit.lexical.split("T", 1)[1]
        digits = clock[:2] + clock[3:5] + clock[6:8] + clock[9:]
        number += Decimal("0." + digits)
    return format(number.normalize(), "f")


def is_temporal_sparql(var: str) -> str:
    return f"(isLiteral({var}) && DATATYPE({var}) IN {TEMPORAL_IN})"


def temporal_number_sparql(var: str, last: bool = False, day_only: bool = False) -> str:
    """A SPARQL expression equal to temporal_number(value of var) (for a temporal literal).

    Kept short on purpose: rdflib's parser takes time in proportion to the query's length.
    """
    s = f"STR({var})"
    pad_year, pad_month = ('"-12-31"', '"-31"') if last else ('"-01-01"', '"-01"')
    padded = (f"CONCAT({s}, IF(DATATYPE({var}) = xsd:gYear, {pad_year}, "
              f'IF(DATATYPE({var}) = xsd:gYearMonth, {pad_month}, "")))')
    year = f'xsd:integer(REPLACE({s}, "^(-?[0-9]+).*$", "$1")) * 10000'
    if day_only:
        return f'({year} + xsd:integer(REPLACE({padded}, "^-?[0-9]+-([0-9]+)-([0-9]+).*$", "$1$2")))'
    clock = f'REPLACE({padded}, "^-?[0-9]+-([0-9]+)-([0-9]+)(T([0-9]+):([0-9]+):([0-9]+)([.]([0-9]+))?)?.*$", "$1$2.$4$5$6$8")'
    return f'({year} + xsd:decimal(CONCAT({clock}, "0")))'


def number_sparql(bound: Literal) -> str:
    """A numeric literal for a query; integers past 64 bits as xsd:decimal, which every engine can hold."""
    if bound.datatype == "integer" and abs(int(bound.lexical)) >= INT64:
        return f'"{bound.lexical}.0"^^xsd:decimal' if abs(int(bound.lexical)) < 10 ** 20 else \
            f'"{float(bound.lexical)!r}"^^xsd:double'
    return bound.to_sparql()


def comparison(var: str, op: str, bound: Literal) -> str:
    """A FILTER expression equal to satisfies(var, op, bound)."""
    sym = SPARQL_OP[op]
    if bound.is_temporal:
        return f"({is_temporal_sparql(var)} && {temporal_number_sparql(var)} {sym} {temporal_number(bound)})"
    if bound.is_numeric:
        return f"(isNumeric({var}) && {var} {sym} {number_sparql(bound)})"
    return f"(isLiteral({var}) && {var} {sym} {bound.to_sparql()})"


# ---------------------------------------------------------------------------- ARGMAX / ARGMIN
def ranked(values: Iterable[Term]) -> list[Literal]:
    """The values ARGMAX/ARGMIN rank: the numbers if there are any, else the temporal values.

    One kind at a time, because no engine orders a number against a date (nor do we); strings are not
    ranked. The SPARQL translation computes the same with one MAX/MIN per kind.
    """
    lits = [v for v in values if isinstance(v, Literal)]
    numbers = [v for v in lits if v.is_numeric]
    return numbers or [v for v in lits if v.is_temporal]


def best_of(values: Iterable[Term], op: str) -> Literal | None:
    """The largest (ARGMAX) or smallest (ARGMIN) of the ranked values, or None when none is ranked."""
    pool = ranked(values)
    if not pool:
        return None
    key = (lambda v: float(v.lexical)) if pool[0].is_numeric else temporal_key
    return (max if op.upper() == "ARGMAX" else min)(pool, key=key)


def ties_with(value: Term, best: Literal) -> bool:
    """Whether `value` is of best's kind and equal to it in value (1998 ties 1998-01-01)."""
    if not isinstance(value, Literal) or value.is_numeric != best.is_numeric or value.is_temporal != best.is_temporal:
        return False
    return compare(value, best) == 0
