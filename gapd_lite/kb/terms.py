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
TYPE_ALIASES = {"datetime": "dateTime"}  # official WebQSP queries write xsd:datetime
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_TINY = 1.401298464324817e-45  # the smallest positive (subnormal) single-precision float
DEFAULT_TZ_MINUTES = -8 * 60  # the zone a timezone-less value is read in (see canonical_temporal)

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
        datatype = TYPE_ALIASES.get(datatype, datatype)
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
            mantissa = re.split(r"[eE]", lexical.strip())[0]
            if (value == 0 and re.search(r"[1-9]", mantissa)) or (
                    datatype in FLOAT_TYPES and value != 0 and abs(value) < FLOAT32_TINY / 2):
                raise LiteralError(f"{lexical!r} is too close to 0 for xsd:{datatype} (it would read as 0.0); "
                                   "write 0 or a larger value")
            if datatype in FLOAT_TYPES:
                if abs(value) > FLOAT32_MAX:
                    raise LiteralError(f"{lexical!r} is out of range for xsd:float (at most ±3.4e38, single "
                                       "precision); write it as xsd:double")
                return Literal(float32_lexical(value), "float")
            return Literal(repr(value), "double")
        if datatype in TEMPORAL_TYPES:
            if datatype == "dateTime" and _TEMPORAL_RE["date"].match(lexical):
                # official WebQSP queries write "2009-12-31"^^xsd:dateTime; Virtuoso reads it as midnight
                date = _TEMPORAL_RE["date"].match(lexical)
                lexical = lexical[: date.end(3)] + "T00:00:00" + (date.group(4) or "")
            match = _TEMPORAL_RE[datatype].match(lexical)
            example = {"gYear": "1990", "gYearMonth": "1990-05", "date": "1990-05-01",
                       "dateTime": "1990-05-01T12:00:00"}[datatype]
            if not match:
                raise LiteralError(f"{lexical!r} is not a valid xsd:{datatype}; write e.g. {example}")
            problem = _calendar_problem(datatype, match)
            if problem:
                raise LiteralError(f"{lexical!r} is not a valid xsd:{datatype}: {problem}")
            return Literal(canonical_temporal(datatype, match), datatype)
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
        """Action-language spelling: integers and floats bare (they read back so), other types with an xsd: suffix."""
        if self.datatype in ("integer", "float"):
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


def is_leap(year: int) -> bool:
    """Proleptic Gregorian leap years, year 0 included (XSD 1.1 counts 0000 as 1 BCE)."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    return 29 if month == 2 and is_leap(year) else (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]


def _calendar_problem(datatype: str, match: re.Match) -> str | None:
    """Why the matched value is no date of the calendar (month 13, 2015-02-30, 25:00), or None."""
    groups = match.groups()
    year = int(groups[0])
    if datatype != "gYear" and not 1 <= int(groups[1]) <= 12:
        return f"month {groups[1]} does not exist (01-12)"
    if datatype in ("date", "dateTime") and not 1 <= int(groups[2]) <= days_in_month(year, int(groups[1])):
        return f"{year:04d}-{groups[1]} has {days_in_month(year, int(groups[1]))} days, not {int(groups[2])}"
    if datatype == "dateTime":
        h, m, sec = int(groups[3]), int(groups[4]), float(groups[5])
        if m > 59 or sec >= 60 or h > 24 or (h == 24 and (m or sec)):
            return f"{groups[3]}:{groups[4]}:{groups[5]} is not a time of day (00:00:00-23:59:59, or 24:00:00)"
    tz = groups[-1]
    if tz and tz != "Z" and (int(tz[1:3]) > 14 or int(tz[4:6]) > 59):
        return f"timezone {tz} is out of range (-14:00..+14:00)"
    return None


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year, negative ones included)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


def _year_text(year: int) -> str:
    return f"-{-year:04d}" if year < 0 else f"{year:04d}"


def canonical_temporal(datatype: str, match: re.Match) -> str:
    """The lexical form with its timezone resolved the way Virtuoso over the Freebase dump sees it.

    Freebase's values carry no timezone, and Virtuoso reads a timezone-less value in the server's zone;
    the GrailQA/WebQSP servers run at -08:00, which is why official GrailQA queries write `-08:00` on their
    date literals. So a dateTime with a zone is moved to its -08:00 wall-clock time and written without one
    (`2007-08-11T23:48:45Z` → `2007-08-11T15:48:45`), and a date, gYear or gYearMonth keeps its calendar
    value with the zone dropped (`2002-07-08:00` → `2002-07`). `24:00:00` becomes the next day's 00:00:00.
    """
    groups = match.groups()
    tz = groups[-1]
    text = match.group(0)[: len(match.group(0)) - len(tz or "")]
    if datatype != "dateTime" or (not tz and int(groups[3]) != 24):
        return text
    year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
    frac = groups[6] or ""
    seconds = int(groups[3]) * 3600 + int(groups[4]) * 60 + int(float(groups[5]))
    offset = 0 if not tz or tz == "Z" else (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 60 + int(tz[4:6])) * 60
    shift = 0 if tz is None else DEFAULT_TZ_MINUTES * 60 - offset
    total = _days_from_civil(year, month, day) * 86400 + seconds + shift
    days, secs = divmod(total, 86400)
    y, m, d = _civil_from_days(days)
    return f"{_year_text(y)}-{m:02d}-{d:02d}T{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}{frac}"


TemporalKey = tuple[int, int, int, float]


def temporal_key(lit: Literal, last: bool = False) -> TemporalKey:
    """(year, month, day, second of the day): the value's first instant, or its last with `last`.

    Compared as numbers, never as text, so BC years order right (-0750 before -0375) and years past 9999
    too. Mixed precisions compare by their first instant (1998 is 1998-01-01T00:00:00); the SPARQL we emit
    computes the same number (kb/compare.py: temporal_number), so every engine orders them alike.
    """
    match = _TEMPORAL_RE[lit.datatype].match(lit.lexical)
    groups = match.groups()
    year = int(groups[0])
    month = int(groups[1]) if lit.datatype != "gYear" else (12 if last else 1)
    day = int(groups[2]) if lit.datatype in ("date", "dateTime") else (31 if last else 1)
    if lit.datatype == "dateTime":
        second = int(groups[3]) * 3600 + int(groups[4]) * 60 + float(groups[5])
    else:
        second = 86400.0 if last else 0.0
    return year, month, day, second


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
