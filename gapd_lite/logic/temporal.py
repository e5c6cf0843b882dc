"""Time constraints: WebQSP's TC and `time_macro`, and the semantics settings they depend on.

* `(TC set relation time)`: members whose period overlaps the time; the period comes from the relation
  pair (`….from` with `….to`, …); a relation without a partner is a point in time.
* `(JOIN <cvt type>.time_macro YEAR)`, as the public WebQSP S-expression preprocessing (RnG-KBQA,
  ChatKBQA) writes a time constraint on a CVT: a virtual relation named after the CVT type, the year typed
  as xsd:date. It means the same overlap test on the type's own start/end relations, which that
  preprocessing reads off the official query (`TIME_MACRO_PAIRS`); for a type not in the table, the values
  of every start relation of `TC_PAIRS` (….from, ….start_date, …) are its starts and those of every end
  relation its ends.
* A missing start or end does not exclude a member; NOW is `TC_NOW`, the date WebQSP uses for its snapshot.

Default semantics compare at the stored precision (a start of 2009 is not after any day of 2009; an end of
2009 is not before any day of 2009). The official WebQSP queries cast each value to a dateTime and compare
its first instant with the period's first and last day at midnight (`instant`); the preprocessing also writes
a NOW constraint as the year 2015, so with semantics="webqsp" a time_macro of 2015 means NOW.
"""
from __future__ import annotations

from typing import Iterable, Union

from ..errors import ConfigError
from ..kb.base import KB
from ..kb.terms import Literal, Term, days_in_month, temporal_key

SEMANTICS = ("default", "grailqa", "webqsp")
TC_NOW = "2015-08-10"
NOW = "NOW"
TIME_MACRO = ".time_macro"
TC_PAIRS = (("from", "to"), ("from_date", "to_date"), ("start_date", "end_date"),
            ("start_time", "end_time"), ("begin_date", "end_date"), ("date_started", "date_ended"))
# (start, end) relation suffixes per CVT type, as the official WebQSP queries that time_macro forms come from
# write them (some in the swapped order the official query uses); facts of the public preprocessing.
TIME_MACRO_PAIRS = {
    "american_football.football_historical_coach_position": ("from", "to"), "architecture.ownership": ("start_date", "end_date"),
    "award.award_honor": ("year", "year"), "business.employment_tenure": ("from", "to"), "business.sponsorship": ("from", "to"),
    "celebrities.romantic_relationship": ("start_date", "end_date"), "chemistry.chemical_element": ("discovery_date", "discovery_date"),
    "film.film": ("initial_release_date", "initial_release_date"), "government.government_position_held": ("from", "to"),
    "law.invention": ("date_of_invention", "date_of_invention"), "law.judicial_tenure": ("from_date", "to_date"),
    "organization.organization_relationship": ("to", "from"), "people.marriage": ("from", "to"),
    "people.place_lived": ("end_date", "start_date"), "sports.sports_team_coach_tenure": ("from", "to"),
    "sports.sports_team_roster": ("from", "to"), "sports.team_venue_relationship": ("from", "to"),
    "time.event": ("start_date", "end_date"), "tv.regular_tv_appearance": ("from", "to"), "tv.tv_network_duration": ("from", "to"),
}


def check_semantics(semantics: str) -> str:
    """The setting itself, or a ConfigError naming the choices."""
    if semantics not in SEMANTICS:
        raise ConfigError(f"semantics={semantics!r}: use one of {', '.join(SEMANTICS)} (default: the package's; "
                          "grailqa/webqsp: the official queries' conventions)")
    return semantics


def is_time_macro(relation: str) -> bool:
    return relation.endswith(TIME_MACRO) and relation.count(".") >= 2


def time_pair(relation: str) -> tuple[str | None, str | None]:
    """(start relation, end relation) of a TC relation: `….from` pairs with `….to`, and so on."""
    for start, end in TC_PAIRS:
        if relation.endswith("." + start):
            return relation, relation[: -len(start)] + end
        if relation.endswith("." + end):
            return relation[: -len(end)] + start, relation
    return None, None


def time_relations(relation: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(start relations, end relations) a TC or time_macro relation tests; the same ones: a point in time."""
    if is_time_macro(relation):
        cvt = relation[: -len(TIME_MACRO)]
        if cvt in TIME_MACRO_PAIRS:
            start, end = TIME_MACRO_PAIRS[cvt]
            return (f"{cvt}.{start}",), (f"{cvt}.{end}",)
        return (tuple(dict.fromkeys(f"{cvt}.{start}" for start, _ in TC_PAIRS)),
                tuple(dict.fromkeys(f"{cvt}.{end}" for _, end in TC_PAIRS)))
    start, end = time_pair(relation)
    return ((relation,), (relation,)) if start is None else ((start,), (end,))


def time_macro_of(relation: str) -> str | None:
    """`people.marriage.time_macro` for `people.marriage.from` (any start or end relation of a CVT type), else None."""
    cvt, _, suffix = relation.rpartition(".")
    if cvt.count(".") != 1:
        return None
    named = TIME_MACRO_PAIRS.get(cvt, ())
    if suffix in named or any(suffix in pair for pair in TC_PAIRS):
        return cvt + TIME_MACRO
    return None


def _values(kb: KB, members: set[Term], relations: tuple[str, ...]) -> dict[Term, set[Term]]:
    out: dict[Term, set[Term]] = {}
    for rel in relations:
        for m, vals in kb.values(members, ((rel, True),)).items():
            out.setdefault(m, set()).update(vals)
    return out


def _date(year: int, month: int, day: int) -> Literal:
    text = f"-{-year:04d}" if year < 0 else f"{year:04d}"
    return Literal(f"{text}-{month:02d}-{day:02d}", "date")


def period_bounds(time: Union[Literal, str], relation: str = "", semantics: str = "default") -> tuple[Literal, Literal]:
    """(first day, last day) of the period a TC or time_macro names, as xsd:date literals."""
    if time == NOW or (semantics == "webqsp" and is_time_macro(relation) and isinstance(time, Literal)
                       and time.datatype in ("gYear", "integer") and int(time.lexical) == int(TC_NOW[:4])):
        now = Literal(TC_NOW, "date")
        return now, now
    if time.datatype == "integer":
        year = int(time.lexical)
        return _date(year, 1, 1), _date(year, 12, 31)
    year, month, day, _ = temporal_key(time)
    if time.datatype == "gYear":
        return _date(year, 1, 1), _date(year, 12, 31)
    if time.datatype == "gYearMonth":
        return _date(year, month, 1), _date(year, month, days_in_month(year, month))
    return _date(year, month, day), _date(year, month, day)


def starts_by(value: Term, high: Literal, instant: bool) -> bool:
    """A start value not after the period's last day (at its own precision, or its first instant)."""
    if not (isinstance(value, Literal) and value.is_temporal):
        return False
    return temporal_key(value) <= temporal_key(high) if instant else temporal_key(value)[:3] <= temporal_key(high)[:3]


def ends_by(value: Term, low: Literal, instant: bool) -> bool:
    """An end value not before the period's first day (at its own precision, or its first instant)."""
    if not (isinstance(value, Literal) and value.is_temporal):
        return False
    if instant:
        return temporal_key(value) >= temporal_key(low)
    return temporal_key(value, last=True)[:3] >= temporal_key(low)[:3]


def time_filter(kb: KB, members: Iterable[Term], relation: str, time: Union[Literal, str],
                semantics: str = "default") -> set[Term]:
    """TC / time_macro: the members whose period overlaps the time (see the module docstring)."""
    keep = set(members)
    low, high = period_bounds(time, relation, semantics)
    instant = semantics == "webqsp"
    start_rels, end_rels = time_relations(relation)
    if start_rels == end_rels:
        vals = _values(kb, keep, start_rels)
        return {m for m in keep if m not in vals
                or any(starts_by(v, high, instant) and ends_by(v, low, instant) for v in vals[m])}
    starts, ends = _values(kb, keep, start_rels), _values(kb, keep, end_rels)
    return {m for m in keep if (m not in starts or any(starts_by(v, high, instant) for v in starts[m]))
            and (m not in ends or any(ends_by(v, low, instant) for v in ends[m]))}


def time_macro_members(kb: KB, relation: str) -> set[Term]:
    """Everything a bare time_macro ranges over: the subjects of any of its time relations."""
    out: set[Term] = set()
    for rel in dict.fromkeys(sum(time_relations(relation), ())):
        out |= kb.having(rel)
    return out
