"""KB terms: Freebase ids and typed literals, with one canonical form every backend agrees on."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Union

from ..errors import LiteralError

FB_NS = "http://rdf.freebase.com/ns/"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

ENTITY_RE = re.compile(r"^[mg]\.[0-9a-z_]+$")
SCHEMA_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)+$")
LANG_RE = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")

INTEGER_TYPES = frozenset({"integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                           "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong",
                           "unsignedShort", "unsignedByte"})
FLOAT_TYPES = frozenset({"float"})
DOUBLE_TYPES = frozenset({"double", "decimal"})
TEMPORAL_TYPES = frozenset({"date", "gYear", "gYearMonth", "dateTime"})
KNOWN_TYPES = INTEGER_TYPES | FLOAT_TYPES | DOUBLE_TYPES | TEMPORAL_TYPES | {"string", "boolean"}
NUMERIC_TYPES = ("integer", "float", "double")

_TZ = r"(Z|[+-]\d{2}:\d{2})?"
_TEMPORAL_RE = {
    "gYear": re.compile(rf"^(-?\d{{4,}}){_TZ}$"),
    "gYearMonth": re.compile(rf"^(-?\d{{4,}})-(\d{{2}}){_TZ}$"),
    "date": re.compile(rf"^(-?\d{{4,}})-(\d{{2}})-(\d{{2}}){_TZ}$"),
    "dateTime": re.compile(rf"^(-?\d{{4,}})-(\d{{2}})-(\d{{2}})T(\d{{2}}):(\d{{2}}):(\d{{2}}(\.\d+)?){_TZ}$"),
}
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?(INF|inf)$|^NaN$")


@dataclass(frozen=True, order=False)
class Literal:
    """An RDF literal in canonical form: integer/float families collapse to `integer`/`float`."""

    lexical: str
    datatype: str = "string"  # a local name in the XSD namespace
    lang: str | None = None

    @staticmethod
    def typed(lexical: str, datatype: str = "string", lang: str | None = None) -> "Literal":
        """Validate and canonicalise, so equal values from any backend compare equal."""
        lexical = str(lexical)
        if datatype.startswith(XSD_NS):
            datatype = datatype[len(XSD_NS):]
        if datatype == RDF_LANGSTRING:
            datatype = "string"
        if datatype not in KNOWN_TYPES:
            raise LiteralError(f"unsupported literal datatype {datatype!r}; use one of: "
                               + ", ".join(sorted(KNOWN_TYPES)))
        if lang is not None:
            if datatype != "string" or not LANG_RE.match(lang):
                raise LiteralError(f"bad language tag {lang!r} on literal {lexical!r}; use e.g. @en on a string")
            return Literal(lexical, "string", lang.lower())
        if datatype in INTEGER_TYPES:
            if not _INT_RE.match(lexical.strip()):
                raise LiteralError(f"{lexical!r} is not an integer; write e.g. 42^^xsd:integer")
            if len(lexical.strip().lstrip("+-")) > 4000:  # Python's int() refuses more than 4,300 digits
                raise LiteralError(f"an integer of {len(lexical.strip()):,} digits is out of range (at most 4,000)")
            return Literal(str(int(lexical)), "integer")
        if datatype in FLOAT_TYPES or datatype in DOUBLE_TYPES:
            if not _FLOAT_RE.match(lexical.strip()):
                raise LiteralError(f"{lexical!r} is not a number; write e.g. 270.0^^xsd:float")
            value = float(lexical)
            if not math.isfinite(value):
                raise LiteralError(f"{lexical!r} is not a finite number; NaN and INF are not supported")
            if datatype in FLOAT_TYPES:
                return Literal(float32_lexical(value), "float")
            return Literal(repr(value), "double")
        if datatype in TEMPORAL_TYPES:
            match = _TEMPORAL_RE[datatype].match(lexical)
            if not match or not _valid_calendar(datatype, match):
                example = {"gYear": "1990", "gYearMonth": "1990-05", "date": "1990-05-01",
                           "dateTime": "1990-05-01T12:00:00"}[datatype]
                raise LiteralError(f"{lexical!r} is not a valid xsd:{datatype}; write e.g. {example}")
            return Literal(lexical, datatype)
        if datatype == "boolean":
            low = lexical.strip().lower()
            if low not in ("true", "false", "1", "0"):
                raise LiteralError(f"{lexical!r} is not a boolean; write true or false")
            return Literal("true" if low in ("true", "1") else "false", "boolean")
        return Literal(lexical, "string")

    # ---- properties -------------------------------------------------------------------------
    @property
    def is_numeric(self) -> bool:
        return self.datatype in NUMERIC_TYPES

    @property
    def is_temporal(self) -> bool:
        return self.datatype in TEMPORAL_TYPES

    @property
    def value(self) -> float | str:
        """The number for numeric literals, the lexical form otherwise."""
        return float(self.lexical) if self.is_numeric else self.lexical

    def sort_key(self) -> tuple:
        """A total order: numbers by value, then temporal values by time, then strings."""
        if self.is_numeric:
            return (0, "", float(self.lexical))
        if self.is_temporal:
            return (1, "", temporal_key(self))
        return (2, self.datatype, self.lexical)

    # ---- formatting -------------------------------------------------------------------------
    def to_sexpr(self) -> str:
        """GrailQA spelling: `1990^^http://www.w3.org/2001/XMLSchema#gYear`, `"Paris"@en`."""
        if self.datatype == "string":
            return quote(self.lexical) + (f"@{self.lang}" if self.lang else "")
        return f"{self.lexical}^^{XSD_NS}{self.datatype}"

    def to_action(self) -> str:
        """Action-language spelling: numbers bare, other types with a short xsd: suffix."""
        if self.is_numeric:
            return self.lexical
        if self.datatype == "string":
            return quote(self.lexical) + (f"@{self.lang}" if self.lang else "")
        return f'"{self.lexical}"^^xsd:{self.datatype}'

    def to_sparql(self) -> str:
        """SPARQL spelling with the xsd: prefix (escaped; safe to put in a query)."""
        if self.datatype == "string":
            return quote(self.lexical) + (f"@{self.lang}" if self.lang else "")
        return f"{quote(self.lexical)}^^xsd:{self.datatype}"

    def to_ntriples(self) -> str:
        if self.datatype == "string":
            return quote(self.lexical) + (f"@{self.lang}" if self.lang else "")
        return f"{quote(self.lexical)}^^<{XSD_NS}{self.datatype}>"

    def __str__(self) -> str:
        return self.lexical


def float32_lexical(value: float) -> str:
    """The shortest decimal that reads back as the same 32-bit float (xsd:float is single precision).

    SPARQL stores such as Oxigraph keep xsd:float as f32 and print it this way, so writing it so
    everywhere makes `"44.74100000000001"^^xsd:float` and `"44.741"^^xsd:float` the same term.
    """
    import numpy as np

    single = np.float32(value)
    if single != 0 and not 1e-4 <= abs(single) < 1e16:
        return np.format_float_scientific(single, unique=True, trim="0")
    return np.format_float_positional(single, unique=True, trim="0")


Term = Union[str, Literal]
"""An entity or class id (a Freebase local name such as ``m.0f8l9c``) or a literal."""


def _valid_calendar(datatype: str, match: re.Match) -> bool:
    groups = match.groups()
    if datatype in ("gYearMonth", "date", "dateTime") and not 1 <= int(groups[1]) <= 12:
        return False
    if datatype in ("date", "dateTime") and not 1 <= int(groups[2]) <= 31:
        return False
    if datatype == "dateTime" and (int(groups[3]) > 24 or int(groups[4]) > 59 or float(groups[5]) >= 61):
        return False
    return True


TEMPORAL_PAD = "-01-01T00:00:00"


def temporal_key(lit: Literal) -> str:
    """The lexical form padded to a dateTime (1990 → 1990-01-01T00:00:00): chronological order by string.

    Mixed-precision Freebase dates (gYear beside date) compare by their first instant; the SPARQL we
    emit computes the very same string with CONCAT/SUBSTR, so every backend orders them alike.
    """
    text = lit.lexical
    return text + TEMPORAL_PAD[max(len(text) - 4, 0):]


def compare(a: Term, b: Term) -> int | None:
    """-1/0/1 as SPARQL's `<` and `=` order them, or None where SPARQL raises a type error."""
    if not (isinstance(a, Literal) and isinstance(b, Literal)):
        return None
    if a.is_numeric and b.is_numeric:
        x, y = float(a.lexical), float(b.lexical)
    elif a.is_temporal and b.is_temporal:
        x, y = temporal_key(a), temporal_key(b)
    elif a.datatype == b.datatype == "string" and a.lang == b.lang:
        x, y = a.lexical, b.lexical
    else:
        return None
    return (x > y) - (x < y)


def term_sort_key(term: Term) -> tuple:
    """Deterministic order over mixed entity/literal sets (entities first)."""
    if isinstance(term, Literal):
        return (1,) + term.sort_key()
    return (0, term)


def quote(text: str) -> str:
    """A double-quoted string with the escapes N-Triples, SPARQL and our S-expressions share."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


_UNESCAPE = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t", "'": "'"}


def unquote(body: str) -> str:
    """Inverse of `quote` for the text between the quotes; raises LiteralError on a bad escape."""
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            if i + 1 >= len(body) or body[i + 1] not in _UNESCAPE:
                raise LiteralError(f"bad escape in string literal {body!r}; use \\\\ \\\" \\n \\r or \\t")
            out.append(_UNESCAPE[body[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def is_entity_id(text: str) -> bool:
    """A Freebase machine id (m./g.), the only node ids the agent may name."""
    return bool(ENTITY_RE.match(text))


def is_schema_id(text: str) -> bool:
    """A dotted Freebase schema id (relation or class) that is safe to splice as `ns:` prefixed name."""
    return bool(SCHEMA_ID_RE.match(text)) and not is_entity_id(text) and len(text) <= 200


def iri_to_term(iri: str) -> str:
    """A Freebase IRI to its local name; other IRIs stay as `<iri>` so they never pass for ids."""
    return iri[len(FB_NS):] if iri.startswith(FB_NS) else f"<{iri}>"


def display(term: Term, names: dict[str, str] | None = None) -> str:
    """A short human-readable rendering: an entity's name with its id, a literal's value."""
    if isinstance(term, Literal):
        return term.lexical
    if names and term in names:
        return f"{names[term]} ({term})"
    return term
