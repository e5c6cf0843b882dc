"""Build the bundled question sets (GrailQA format) from template families over logical-form shapes.

    python data_samples/build_questions.py          # writes data_samples/questions/{train,dev,test}.json

Every question is written by this script: a family fixes a logical-form shape (1–3 hops, CVT hops,
class constraints, COUNT, ARGMAX/ARGMIN, lt/le/gt/ge, TC) and several wordings; instances are drawn
from the bundled KB and kept only when their logical form executes to a small, non-empty answer set.
Levels follow GrailQA: a dev/test question is *zero-shot* if it uses a relation or class that no
training question uses, *compositional* if all its schema items are seen but its logical-form
template (entities and literals abstracted) is not, and *i.i.d.* otherwise. Deterministic (seeded).
"""
from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from gapd_lite.data import Question, answers_from_terms, save_questions  # noqa: E402
from gapd_lite.kb.memory import MemoryKB  # noqa: E402
from gapd_lite.kb.terms import Literal  # noqa: E402
from gapd_lite.logic.execute import execute  # noqa: E402
from gapd_lite.logic.sexpr import (classes, function_of, num_edges, parse, relations)  # noqa: E402
from gapd_lite.logic.to_sparql import to_sparql  # noqa: E402

SEED = 20261127
XSD = "^^http://www.w3.org/2001/XMLSchema#"
OUT_DIR = HERE / "questions"


def lit(value, dtype: str) -> str:
    return f"{value}{XSD}{dtype}"


def qstr(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Instance:
    sexpr: str
    slots: dict


@dataclass(frozen=True)
class Family:
    """A logical-form shape with its wordings; `holdout` keeps it out of training (compositional/zero-shot)."""
    name: str
    make: Callable[["Ctx"], Iterable[Instance]]
    wordings: tuple[str, ...]
    holdout: str | None = None
    cap: int = 50
    max_answers: int = 25


class Ctx:
    """The KB plus the lookups templates need (unambiguous names, members of a class)."""

    def __init__(self, kb: MemoryKB):
        self.kb = kb
        names = kb.fwd["type.object.name"]
        self.name = {e: sorted(v, key=lambda n: (n.lang != "en", n.lexical))[0].lexical for e, v in names.items()}
        self.name_count = Counter(n.lower() for n in self.name.values())

    def members(self, cls: str) -> list[str]:
        """Members of `cls` whose name is unique in the KB (so the question text is unambiguous)."""
        return sorted(e for e in self.kb.instances(cls) if e in self.name and self.name_count[self.name[e].lower()] == 1)

    def one(self, e: str, rel: str) -> list:
        return sorted(self.kb.follow([e], rel), key=str)


# ---------------------------------------------------------------------------- shapes
def per_entity(cls: str, form: str, slot: str = "e", need: str | None = None) -> Callable[[Ctx], Iterator[Instance]]:
    """One instance per unambiguously named member of `cls` (optionally only those having `need`)."""
    def make(ctx: Ctx) -> Iterator[Instance]:
        for e in ctx.members(cls):
            if need and not ctx.kb.follow([e], need):
                continue
            yield Instance(form.format(e=e), {slot: ctx.name[e]})
    return make


def per_literal(cls: str, rel: str, form: str, dtype: str | None) -> Callable[[Ctx], Iterator[Instance]]:
    """One instance per value of an attribute (`{v}` in the form, the value in the text)."""
    def make(ctx: Ctx) -> Iterator[Instance]:
        for e in ctx.members(cls):
            for v in ctx.one(e, rel):
                if isinstance(v, Literal):
                    value = qstr(v.lexical) if dtype is None else lit(v.lexical, dtype)
                    yield Instance(form.format(v=value), {"v": v.lexical})
    return make


def pairs(cls_a: str, cls_b: str, form: str, limit: int = 400) -> Callable[[Ctx], Iterator[Instance]]:
    """Instances over two entities (an AND of two constraints)."""
    def make(ctx: Ctx) -> Iterator[Instance]:
        rng = random.Random(SEED)
        a_list, b_list = ctx.members(cls_a), ctx.members(cls_b)
        combos = [(a, b) for a in a_list for b in b_list if a != b]
        rng.shuffle(combos)
        for a, b in combos[:limit * 20]:
            yield Instance(form.format(a=a, b=b), {"a": ctx.name[a], "b": ctx.name[b]})
    return make


def per_entity_and_values(cls: str, values: Iterable, form: str, fmt: Callable = str) -> Callable[[Ctx], Iterator[Instance]]:
    """An entity crossed with a few thresholds/years (comparatives, TC, dated CVTs)."""
    def make(ctx: Ctx) -> Iterator[Instance]:
        for e in ctx.members(cls):
            for v in values:
                yield Instance(form.format(e=e, v=v), {"e": ctx.name[e], "v": fmt(v)})
    return make


def constants(forms: Iterable[tuple[str, dict]]) -> Callable[[Ctx], Iterator[Instance]]:
    def make(ctx: Ctx) -> Iterator[Instance]:
        for form, slots in forms:
            yield Instance(form, slots)
    return make


# shared pieces of logical forms
POP = "(JOIN location.statistical_region.population measurement_unit.dated_integer.number)"
LIFE = "(JOIN location.statistical_region.life_expectancy measurement_unit.dated_float.number)"
MASS = "(JOIN chemistry.chemical_element.atomic_mass chemistry.atomic_mass.mass)"
HELD = "government.politician.government_positions_held"
OFFICE = "government.government_position_held.office_position_or_title"
BORN_IN = "(JOIN (R people.person.place_of_birth) {e})"
MEMBER_OF = "organization.organization_member.member_of"
MEMBERSHIP_ORG = "organization.organization_membership.organization"
GAPMINDER_YEARS = (1952, 1967, 1977, 1987, 1997, 2007)


def km2(v: int) -> str:
    return f"{v:,}"


def millions(v: int) -> str:
    return f"{v // 1_000_000} million"


FAMILIES: list[Family] = [
    # ---------------------------------------------------------------- one hop, entity answers
    Family("capital_of", per_entity("location.country", "(AND location.citytown (JOIN (R location.country.capital) {e}))", need="location.country.capital"),
           ("what is the capital of {e}?", "which city is the capital of {e}?", "name the capital city of {e}.", "{e} has which city as its capital?")),
    Family("country_of_capital", per_entity("location.citytown", "(AND location.country (JOIN location.country.capital {e}))"),
           ("{e} is the capital of which country?", "which country has {e} as its capital?", "of which country is {e} the capital?")),
    Family("currency_of", per_entity("location.country", "(AND finance.currency (JOIN (R location.country.currency_used) {e}))", need="location.country.currency_used"),
           ("what currency is used in {e}?", "which currency does {e} use?", "what is the official currency of {e}?")),
    Family("countries_using_currency", per_entity("finance.currency", "(AND location.country (JOIN location.country.currency_used {e}))", need="finance.currency.countries_used"),
           ("which countries use the {e}?", "the {e} is the currency of which countries?", "in which countries is the {e} used?")),
    Family("languages_spoken", per_entity("location.country", "(AND language.human_language (JOIN (R location.country.languages_spoken) {e}))", need="location.country.languages_spoken"),
           ("what languages are spoken in {e}?", "which languages do people speak in {e}?", "name the languages spoken in {e}.")),
    Family("official_language", per_entity("location.country", "(AND language.human_language (JOIN (R location.country.official_language) {e}))", need="location.country.official_language"),
           ("what is the official language of {e}?", "which language is official in {e}?")),
    Family("countries_speaking", per_entity("language.human_language", "(AND location.country (JOIN location.country.languages_spoken {e}))", need="language.human_language.countries_spoken_in"),
           ("in which countries is {e} spoken?", "which countries speak {e}?")),
    Family("country_of_city", per_entity("location.citytown", "(AND location.country (JOIN location.location.contains {e}))"),
           ("which country is {e} in?", "in what country is the city of {e}?", "{e} is located in which country?")),
    Family("division_of_city", per_entity("location.citytown", "(AND location.administrative_division (JOIN location.location.contains {e}))"),
           ("which administrative division contains {e}?", "in which region or province is {e}?")),
    Family("continent_of", per_entity("location.country", "(AND location.continent (JOIN location.location.contains {e}))"),
           ("on which continent is {e}?", "{e} is part of which continent?", "what continent is {e} located on?")),
    Family("birthplace", per_entity("people.person", "(AND location.location (JOIN (R people.person.place_of_birth) {e}))", need="people.person.place_of_birth"),
           ("where was {e} born?", "what is the birthplace of {e}?", "in which place was {e} born?")),
    Family("nationality", per_entity("people.person", "(AND location.country (JOIN (R people.person.nationality) {e}))", need="people.person.nationality"),
           ("what is the nationality of {e}?", "{e} was a citizen of which country?")),
    Family("profession", per_entity("people.person", "(AND people.profession (JOIN (R people.person.profession) {e}))", need="people.person.profession"),
           ("what was the profession of {e}?", "what did {e} do for a living?")),
    Family("party", per_entity("people.person", "(AND government.political_party (JOIN (R government.political_party_tenure.party) (JOIN (R government.politician.party) {e})))", need="government.politician.party"),
           ("which political party did {e} belong to?", "what party was {e} a member of?")),
    Family("people_born_in", per_entity("location.citytown", "(AND people.person (JOIN people.person.place_of_birth {e}))", need="location.location.people_born_here"),
           ("who was born in {e}?", "which people were born in {e}?")),
    Family("series_of_element", per_entity("chemistry.chemical_element", "(AND chemistry.chemical_series (JOIN (R chemistry.chemical_element.chemical_series) {e}))", need="chemistry.chemical_element.chemical_series"),
           ("which chemical series does {e} belong to?", "{e} is in what chemical series?")),
    Family("block_of_element", per_entity("chemistry.chemical_element", "(AND chemistry.periodic_table_block (JOIN (R chemistry.chemical_element.periodic_table_block) {e}))"),
           ("in which block of the periodic table is {e}?", "{e} belongs to which periodic table block?")),
    Family("element_by_symbol", per_literal("chemistry.chemical_element", "chemistry.chemical_element.symbol", "(AND chemistry.chemical_element (JOIN chemistry.chemical_element.symbol {v}))", None),
           ("which element has the chemical symbol {v}?", "what element is written {v}?")),
    Family("element_by_number", per_literal("chemistry.chemical_element", "chemistry.chemical_element.atomic_number", "(AND chemistry.chemical_element (JOIN chemistry.chemical_element.atomic_number {v}))", "integer"),
           ("which element has atomic number {v}?", "what is element number {v}?")),
    Family("country_by_iso3", per_literal("location.country", "location.country.iso_alpha_3", "(AND location.country (JOIN location.country.iso_alpha_3 {v}))", None),
           ("which country has the ISO 3166 alpha-3 code {v}?", "what country does the code {v} stand for?")),
    Family("currency_by_code", per_literal("finance.currency", "finance.currency.currency_code", "(AND finance.currency (JOIN finance.currency.currency_code {v}))", None),
           ("which currency has the code {v}?", "what currency is {v}?")),
    Family("language_family", per_entity("language.human_language", "(AND language.language_family (JOIN (R language.human_language.language_family) {e}))", need="language.human_language.language_family"),
           ("which language family does {e} belong to?", "{e} is a member of which language family?"), holdout="zero-shot"),
    Family("writing_system", per_entity("language.human_language", "(AND language.language_writing_system (JOIN (R language.human_language.writing_system) {e}))", need="language.human_language.writing_system"),
           ("what writing system is used for {e}?", "which script is {e} written in?"), holdout="zero-shot"),
    Family("olympic_host", per_entity("olympics.olympic_games", "(AND location.citytown (JOIN (R olympics.olympic_games.host_city) {e}))"),
           ("which city hosted the {e}?", "where were the {e} held?"), holdout="zero-shot"),
    Family("time_zone_of_city", per_entity("location.citytown", "(AND time.time_zone (JOIN (R location.location.time_zones) {e}))", need="location.location.time_zones"),
           ("what time zone is {e} in?", "which time zone does {e} use?"), holdout="zero-shot"),
    Family("form_of_government", per_entity("location.country", "(AND government.form_of_government (JOIN (R location.country.form_of_government) {e}))", need="location.country.form_of_government"),
           ("what form of government does {e} have?",), holdout="zero-shot"),
    # ---------------------------------------------------------------- one hop, value answers
    Family("symbol_of", per_entity("chemistry.chemical_element", "(JOIN (R chemistry.chemical_element.symbol) {e})"),
           ("what is the chemical symbol of {e}?", "how is {e} abbreviated in chemistry?")),
    Family("atomic_number_of", per_entity("chemistry.chemical_element", "(JOIN (R chemistry.chemical_element.atomic_number) {e})"),
           ("what is the atomic number of {e}?", "{e} has which atomic number?")),
    Family("area_of", per_entity("location.country", "(JOIN (R location.location.area) {e})", need="location.location.area"),
           ("what is the area of {e}?", "how big is {e} in square kilometres?")),
    Family("calling_code", per_entity("location.country", "(JOIN (R location.country.calling_code) {e})", need="location.country.calling_code"),
           ("what is the international calling code of {e}?", "which telephone country code does {e} use?")),
    Family("iso2_of", per_entity("location.country", "(JOIN (R location.country.iso3166_1_alpha2) {e})"),
           ("what is the two-letter ISO code of {e}?",)),
    Family("birth_date", per_entity("people.person", "(JOIN (R people.person.date_of_birth) {e})", need="people.person.date_of_birth"),
           ("when was {e} born?", "what is the date of birth of {e}?")),
    # ---------------------------------------------------------------- two and three hops, CVT hops
    Family("currency_of_capital_country", per_entity("location.citytown", "(AND finance.currency (JOIN (R location.country.currency_used) (JOIN location.country.capital {e})))"),
           ("what currency is used in the country whose capital is {e}?", "which currency does the country with capital {e} use?"), holdout="compositional"),
    Family("languages_of_capital_country", per_entity("location.citytown", "(AND language.human_language (JOIN (R location.country.languages_spoken) (JOIN location.country.capital {e})))"),
           ("what languages are spoken in the country whose capital is {e}?",)),
    Family("capital_of_birth_country", per_entity("people.person", "(AND location.citytown (JOIN (R location.country.capital) (AND location.country (JOIN location.location.contains " + BORN_IN + "))))", need="people.person.place_of_birth"),
           ("what is the capital of the country where {e} was born?", "{e} was born in a country whose capital is what?"), holdout="compositional"),
    Family("currency_of_birth_country", per_entity("people.person", "(AND finance.currency (JOIN (R location.country.currency_used) (AND location.country (JOIN location.location.contains " + BORN_IN + "))))", need="people.person.place_of_birth"),
           ("what currency is used in the country where {e} was born?",)),
    Family("continent_of_city", per_entity("location.citytown", "(AND location.continent (JOIN location.location.contains (AND location.country (JOIN location.location.contains {e}))))"),
           ("on which continent is the city of {e}?", "{e} lies on which continent?")),
    Family("office_holders", per_entity("government.government_office_or_title", f"(AND people.person (JOIN {HELD} (JOIN {OFFICE} {{e}})))"),
           ("who has held the office of {e}?", "list the people who served as {e}."), max_answers=60, cap=6),
    Family("offices_of_person", per_entity("people.person", f"(AND government.government_office_or_title (JOIN (R {OFFICE}) (JOIN (R {HELD}) {{e}})))", need=HELD),
           ("what office did {e} hold?", "which political office was held by {e}?")),
    Family("orgs_of_country", per_entity("location.country", f"(AND organization.membership_organization (JOIN (R {MEMBERSHIP_ORG}) (JOIN (R {MEMBER_OF}) {{e}})))", need=MEMBER_OF),
           ("which international organizations is {e} a member of?", "{e} belongs to which organizations?")),
    Family("population_in_year", per_entity_and_values("location.country", GAPMINDER_YEARS,
           "(JOIN (R measurement_unit.dated_integer.number) (AND (JOIN (R location.statistical_region.population) {e}) (JOIN measurement_unit.dated_integer.year " + lit("{v}", "gYear") + ")))"),
           ("what was the population of {e} in {v}?", "how many people lived in {e} in {v}?"), cap=60),
    Family("life_expectancy_in_year", per_entity_and_values("location.country", GAPMINDER_YEARS,
           "(JOIN (R measurement_unit.dated_float.number) (AND (JOIN (R location.statistical_region.life_expectancy) {e}) (JOIN measurement_unit.dated_float.date " + lit("{v}", "gYear") + ")))"),
           ("what was the life expectancy in {e} in {v}?", "in {v}, what was life expectancy at birth in {e}?"), cap=40),
    Family("euro_language_countries", pairs("finance.currency", "language.human_language",
           "(AND location.country (AND (JOIN location.country.currency_used {a}) (JOIN location.country.languages_spoken {b})))"),
           ("which countries use the {a} and speak {b}?", "in which countries is the {a} the currency and {b} spoken?"), cap=40),
    Family("series_and_block", pairs("chemistry.chemical_series", "chemistry.periodic_table_block",
           "(AND chemistry.chemical_element (AND (JOIN chemistry.chemical_element.chemical_series {a}) (JOIN chemistry.chemical_element.periodic_table_block {b})))"),
           ("which {a} elements are in the {b}?", "name the elements of the {a} series that sit in the {b}."), cap=15),
    # ---------------------------------------------------------------- COUNT
    Family("count_currency_countries", per_entity("finance.currency", "(COUNT (AND location.country (JOIN location.country.currency_used {e})))", need="finance.currency.countries_used"),
           ("how many countries use the {e}?", "the {e} is used by how many countries?")),
    Family("count_languages", per_entity("location.country", "(COUNT (AND language.human_language (JOIN (R location.country.languages_spoken) {e})))", need="location.country.languages_spoken"),
           ("how many languages are spoken in {e}?", "count the languages spoken in {e}.")),
    Family("count_divisions", per_entity("location.country", "(COUNT (AND location.administrative_division (JOIN location.administrative_division.first_level_division_of {e})))", need="location.country.first_level_divisions"),
           ("how many first-level administrative divisions does {e} have?", "into how many top-level regions is {e} divided?")),
    Family("count_cities", per_entity("location.country", "(COUNT (AND location.citytown (JOIN location.location.containedby {e})))", need="location.location.contains"),
           ("how many cities in {e} are listed?", "how many cities of {e} are in the knowledge base?")),
    Family("count_members", per_entity("organization.membership_organization", f"(COUNT (AND location.country (JOIN {MEMBER_OF} (JOIN {MEMBERSHIP_ORG} {{e}}))))"),
           ("how many countries are members of the {e}?", "the {e} has how many member countries?")),
    Family("count_series", per_entity("chemistry.chemical_series", "(COUNT (AND chemistry.chemical_element (JOIN chemistry.chemical_element.chemical_series {e})))"),
           ("how many elements are {e}s?", "how many chemical elements belong to the {e} series?")),
    Family("count_office_holders", per_entity("government.government_office_or_title", f"(COUNT (AND people.person (JOIN {HELD} (JOIN {OFFICE} {{e}}))))"),
           ("how many people have served as {e}?", "how many different people held the office of {e}?")),
    Family("count_games_hosted", per_entity("location.citytown", "(COUNT (AND olympics.olympic_games (JOIN olympics.olympic_games.host_city {e})))", need="olympics.olympic_host_city.olympics_hosted"),
           ("how many times has {e} hosted the Olympic Games?",), holdout="zero-shot"),
    Family("count_continent_countries", per_entity("location.continent", "(COUNT (AND location.country (JOIN location.location.containedby {e})))"),
           ("how many countries are in {e}?", "{e} contains how many countries?"), holdout="compositional"),
    # ---------------------------------------------------------------- ARGMAX / ARGMIN
    Family("largest_in_continent", per_entity("location.continent", "(ARGMAX (AND location.country (JOIN location.location.containedby {e})) location.location.area)"),
           ("what is the largest country in {e} by area?", "which country in {e} covers the most land?")),
    Family("smallest_in_continent", per_entity("location.continent", "(ARGMIN (AND location.country (JOIN location.location.containedby {e})) location.location.area)"),
           ("what is the smallest country in {e}?", "which country in {e} has the smallest area?")),
    Family("most_populous_city", per_entity("location.country", f"(ARGMAX (AND location.citytown (JOIN location.location.containedby {{e}})) {POP})", need="location.location.contains"),
           ("what is the most populous city in {e}?", "which city of {e} has the most inhabitants?")),
    Family("least_populous_city", per_entity("location.country", f"(ARGMIN (AND location.citytown (JOIN location.location.containedby {{e}})) {POP})", need="location.location.contains"),
           ("which listed city of {e} has the fewest inhabitants?",), holdout="compositional"),
    Family("most_populous_country", per_entity("location.continent", f"(ARGMAX (AND location.country (JOIN location.location.containedby {{e}})) {POP})"),
           ("which country in {e} has the largest population?", "what is the most populous country of {e}?")),
    Family("longest_life", per_entity("location.continent", f"(ARGMAX (AND location.country (JOIN location.location.containedby {{e}})) {LIFE})"),
           ("which country in {e} has recorded the highest life expectancy?",)),
    Family("heaviest_in_series", per_entity("chemistry.chemical_series", "(ARGMAX (AND chemistry.chemical_element (JOIN chemistry.chemical_element.chemical_series {e})) chemistry.chemical_element.atomic_number)"),
           ("which {e} has the highest atomic number?", "what is the heaviest {e} by atomic number?")),
    Family("lightest_in_block", per_entity("chemistry.periodic_table_block", "(ARGMIN (AND chemistry.chemical_element (JOIN chemistry.chemical_element.periodic_table_block {e})) chemistry.chemical_element.atomic_number)"),
           ("which element of the {e} has the lowest atomic number?",)),
    Family("oldest_office_holder", per_entity("government.government_office_or_title", f"(ARGMIN (AND people.person (JOIN {HELD} (JOIN {OFFICE} {{e}}))) people.person.date_of_birth)"),
           ("who is the earliest-born person to have served as {e}?", "of all who held the office of {e}, who was born first?")),
    Family("youngest_office_holder", per_entity("government.government_office_or_title", f"(ARGMAX (AND people.person (JOIN {HELD} (JOIN {OFFICE} {{e}}))) people.person.date_of_birth)"),
           ("who is the most recently born person to have served as {e}?",)),
    Family("first_office_holder", per_entity("government.government_office_or_title", f"(JOIN (R government.government_position_held.office_holder) (ARGMIN (JOIN {OFFICE} {{e}}) government.government_position_held.from))"),
           ("of the holders of the office of {e} listed, who took office earliest?",
            "who is the earliest {e} in the knowledge base?"), holdout="compositional"),
    Family("class_superlatives", constants([
        ("(ARGMAX location.country location.location.area)", {}), ("(ARGMIN location.country location.location.area)", {}),
        (f"(ARGMAX chemistry.chemical_element {MASS})", {}), (f"(ARGMIN chemistry.chemical_element {MASS})", {}),
        ("(ARGMAX chemistry.chemical_element chemistry.chemical_element.atomic_number)", {}),
        (f"(ARGMAX location.country {POP})", {}), (f"(ARGMAX location.citytown {POP})", {}),
        (f"(ARGMIN location.country {LIFE})", {}), ("(ARGMIN olympics.olympic_games time.event.start_date)", {}),
        ("(ARGMAX olympics.olympic_games time.event.start_date)", {}), ("(ARGMAX chemistry.chemical_element chemistry.chemical_element.covalent_radius)", {})]),
        ("which {_} is the largest by the measure asked?",), cap=20),
    # ---------------------------------------------------------------- comparatives
    Family("bigger_than_in_continent", per_entity_and_values("location.continent", (100_000, 300_000, 1_000_000),
           "(AND location.country (AND (JOIN location.location.containedby {e}) (gt location.location.area " + lit("{v}.0", "float") + ")))", km2),
           ("which countries in {e} are larger than {v} square kilometres?", "name the countries of {e} with an area above {v} km²."), max_answers=30),
    Family("smaller_than_in_continent", per_entity_and_values("location.continent", (1_000, 30_000, 100_000),
           "(AND location.country (AND (JOIN location.location.containedby {e}) (lt location.location.area " + lit("{v}.0", "float") + ")))", km2),
           ("which countries in {e} are smaller than {v} square kilometres?",), max_answers=30),
    Family("populous_in_year", per_entity_and_values("location.continent", (20_000_000, 50_000_000, 100_000_000),
           "(AND location.country (AND (JOIN location.location.containedby {e}) (JOIN location.statistical_region.population (AND (JOIN measurement_unit.dated_integer.year " + lit("2007", "gYear") + ") (ge measurement_unit.dated_integer.number " + lit("{v}", "integer") + ")))))", millions),
           ("which countries in {e} had at least {v} inhabitants in 2007?", "in 2007, which countries of {e} had a population of {v} or more?"), max_answers=30),
    Family("elements_at_least", constants([(f"(AND chemistry.chemical_element (ge chemistry.chemical_element.atomic_number {lit(n, 'integer')}))", {"v": str(n)}) for n in (100, 105, 110, 114)]),
           ("which elements have an atomic number of at least {v}?", "list the elements with atomic number {v} or higher."), max_answers=20),
    Family("elements_at_most", constants([(f"(AND chemistry.chemical_element (le chemistry.chemical_element.atomic_number {lit(n, 'integer')}))", {"v": str(n)}) for n in (2, 5, 8, 12)]),
           ("which elements have an atomic number of at most {v}?",), max_answers=20),
    Family("holders_born_before", per_entity_and_values("government.government_office_or_title", (1800, 1850, 1900, 1930),
           f"(AND people.person (AND (JOIN {HELD} (JOIN {OFFICE} {{e}})) (lt people.person.date_of_birth " + lit("{v}-01-01", "date") + ")))"),
           ("which people who served as {e} were born before {v}?", "who held the office of {e} and was born before {v}?"), max_answers=30),
    Family("holders_born_after", per_entity_and_values("government.government_office_or_title", (1900, 1940, 1950),
           f"(AND people.person (AND (JOIN {HELD} (JOIN {OFFICE} {{e}})) (gt people.person.date_of_birth " + lit("{v}-12-31", "date") + ")))"),
           ("which holders of the office of {e} were born after {v}?",), max_answers=30),
    Family("games_since", constants([(f"(AND olympics.olympic_games (ge time.event.start_date {lit(y, 'gYear')}))", {"v": str(y)}) for y in (1980, 1992, 2000, 2008)]),
           ("which Olympic Games have taken place since {v}?",), holdout="zero-shot", max_answers=30),
    # ---------------------------------------------------------------- time constraints
    Family("office_holder_in_year", per_entity_and_values("government.government_office_or_title", tuple(range(1905, 2016, 5)),
           f"(AND people.person (JOIN {HELD} (TC (JOIN {OFFICE} {{e}}) government.government_position_held.from {{v}})))"),
           ("who was the {e} in {v}?", "in {v}, who held the office of {e}?", "who served as {e} during {v}?"), cap=70),
    Family("members_in_year", per_entity_and_values("organization.membership_organization", (1960, 1975, 1990, 1999, 2005, 2010),
           f"(AND location.country (JOIN {MEMBER_OF} (TC (JOIN {MEMBERSHIP_ORG} {{e}}) organization.organization_membership.from {{v}})))"),
           ("which countries were members of the {e} in {v}?", "in {v}, which countries belonged to the {e}?"), max_answers=30),
    Family("orgs_of_country_in_year", per_entity_and_values("location.country", (1950, 1980, 2000),
           f"(AND organization.membership_organization (JOIN (R {MEMBERSHIP_ORG}) (TC (JOIN (R {MEMBER_OF}) {{e}}) organization.organization_membership.from {{v}})))"),
           ("which organizations was {e} a member of in {v}?",), holdout="compositional"),
]


# ---------------------------------------------------------------------------- building
def template_of(sexpr: str) -> str:
    """The logical form with entities and literals abstracted (GrailQA's notion of composition)."""
    out = re.sub(r'"(?:[^"\\]|\\.)*"(@[\w-]+)?', "<lit>", sexpr)
    out = re.sub(r"\S+\^\^\S+?(?=[\s)])", "<lit>", out)
    return re.sub(r"\b[mg]\.[0-9a-z_]+", "<ent>", out)


def schema_items(sexpr: str) -> set[str]:
    tree = parse(sexpr)
    return set(relations(tree)) | set(classes(tree))


def realise(family: Family, ctx: Ctx, rng: random.Random) -> list[tuple[Instance, frozenset, str]]:
    """Executed, size-filtered instances of one family, with one wording each."""
    candidates = list(family.make(ctx))
    rng.shuffle(candidates)
    kept, seen = [], set()
    for inst in candidates:
        if inst.sexpr in seen:
            continue
        seen.add(inst.sexpr)
        answers = execute(parse(inst.sexpr), ctx.kb)
        if not answers or len(answers) > family.max_answers:
            continue
        if any(isinstance(a, Literal) and a.lexical == "0" for a in answers) and inst.sexpr.startswith("(COUNT"):
            continue
        wording = family.wordings[len(kept) % len(family.wordings)]
        kept.append((inst, answers, wording))
        if len(kept) >= family.cap:
            break
    return kept


SUPERLATIVE_TEXT = {
    "(ARGMAX location.country location.location.area)": "what is the largest country in the world by area?",
    "(ARGMIN location.country location.location.area)": "which country has the smallest area?",
    f"(ARGMAX chemistry.chemical_element {MASS})": "which chemical element has the largest atomic mass?",
    f"(ARGMIN chemistry.chemical_element {MASS})": "which element has the smallest atomic mass?",
    "(ARGMAX chemistry.chemical_element chemistry.chemical_element.atomic_number)": "which element has the highest atomic number?",
    f"(ARGMAX location.country {POP})": "which country has the largest recorded population?",
    f"(ARGMAX location.citytown {POP})": "what is the most populous city in the knowledge base?",
    f"(ARGMIN location.country {LIFE})": "which country has recorded the lowest life expectancy?",
    "(ARGMIN olympics.olympic_games time.event.start_date)": "which were the earliest Olympic Games?",
    "(ARGMAX olympics.olympic_games time.event.start_date)": "which are the most recent Olympic Games?",
    "(ARGMAX chemistry.chemical_element chemistry.chemical_element.covalent_radius)": "which element has the largest covalent radius?",
}


def build(kb: MemoryKB) -> dict[str, list[Question]]:
    ctx, rng = Ctx(kb), random.Random(SEED)
    rows = []  # (family, instance, answers, text)
    for family in FAMILIES:
        for inst, answers, wording in realise(family, ctx, rng):
            text = SUPERLATIVE_TEXT.get(inst.sexpr) if family.name == "class_superlatives" else wording.format(**inst.slots)
            text = text[0].upper() + text[1:]
            rows.append((family, inst, answers, text))
        print(f"  {family.name:<30} {sum(1 for r in rows if r[0] is family):>4}", file=sys.stderr)

    # split: held-out families go to dev/test only; the rest 70/12/18 by instance
    split_of: dict[int, str] = {}
    for i, (family, *_rest) in enumerate(rows):
        r = rng.random()
        if family.holdout:
            split_of[i] = "dev" if r < 0.4 else "test"
        else:
            split_of[i] = "train" if r < 0.70 else "dev" if r < 0.82 else "test"
    train_items = set().union(*(schema_items(rows[i][1].sexpr) for i in split_of if split_of[i] == "train"))
    train_templates = {template_of(rows[i][1].sexpr) for i in split_of if split_of[i] == "train"}

    out: dict[str, list[Question]] = defaultdict(list)
    for i, (family, inst, answers, text) in enumerate(rows):
        split = split_of[i]
        tree = parse(inst.sexpr)
        if split == "train":
            level = "i.i.d."
        elif not schema_items(inst.sexpr) <= train_items:
            level = "zero-shot"
        elif template_of(inst.sexpr) not in train_templates:
            level = "compositional"
        else:
            level = "i.i.d."
        names = kb.names([a for a in answers if isinstance(a, str)])
        rels = relations(tree)
        qid = ""  # numbered per split below
        out[split].append(Question(
            qid=str(qid), question=text, s_expression=inst.sexpr, sparql_query=to_sparql(tree),
            answer=answers_from_terms(answers, names), function=function_of(tree), level=level,
            domains=sorted({r.split(".")[0] for r in rels}), num_node=num_edges(tree) + 1, num_edge=num_edges(tree)))
    for split in out:  # unique, stable qids: split digit + running number
        prefix = {"train": "1", "dev": "2", "test": "3"}[split]
        for n, q in enumerate(out[split]):
            q.qid = f"{prefix}{n:06d}"
    return out


def main() -> None:
    kb = MemoryKB.load(HERE / "freebase_subset.nt.gz")
    print("building questions …", file=sys.stderr)
    splits = build(kb)
    OUT_DIR.mkdir(exist_ok=True)
    for split in ("train", "dev", "test"):
        save_questions(splits[split], OUT_DIR / f"{split}.json")
    total = sum(len(v) for v in splits.values())
    print(f"{total} questions:", {s: len(v) for s, v in splits.items()})
    for split in ("dev", "test"):
        print(split, dict(Counter(q.level for q in splits[split])))
    print("functions", dict(Counter(q.function for v in splits.values() for q in v)))


if __name__ == "__main__":
    main()
