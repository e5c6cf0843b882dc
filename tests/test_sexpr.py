"""Parser/printer: exact round trips over the published grammar, clear errors, and fuzzing."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gapd_lite.errors import GapdError, SExprError
from gapd_lite.kb.terms import Literal
from gapd_lite.logic import sexpr as S
from gapd_lite.logic.execute import execute
from gapd_lite.logic.sexpr import parse, to_sexpr
from gapd_lite.logic.to_actions import to_actions
from gapd_lite.logic.to_sparql import to_sparql

X = "^^http://www.w3.org/2001/XMLSchema#"
ROUND_TRIP = [
    # GrailQA shapes
    "(AND music.genre (AND (JOIN (R music.album.genre) m.0abc) (JOIN (R music.album.genre) m.0def)))",
    "(ARGMAX (AND music.release_track (JOIN (R music.recording.tracks) (JOIN (R music.engineer.tracks_engineered) m.0xyz))) music.release_track.length)",
    "(COUNT (AND media_common.quotation (JOIN media_common.quotation.subjects (JOIN media_common.quotation_subject.quotations_about_this_subject m.0abc))))",
    "(ARGMAX amusement_parks.ride_theme (JOIN amusement_parks.ride_theme.rides amusement_parks.ride.drop))",
    "(ARGMIN aviation.aircraft_model aviation.aircraft_model.maiden_flight)",
    f"(AND chess.chess_player (JOIN people.person.spouse_s (ge people.marriage.from 1924-11-24{X}date)))",
    f"(AND digicams.digital_camera (JOIN digicams.digital_camera.tele_focal_length 270.0{X}float))",
    f"(AND basketball.basketball_coach (JOIN basketball.basketball_coach.season_wins 9{X}integer))",
    f"(AND meteorology.tropical_cyclone (le meteorology.tropical_cyclone.damages 1.0e+09{X}float))",
    f"(AND film.film (lt film.film.initial_release_date 2001{X}gYear))",
    f"(AND music.release (gt music.release.release_date 1999-05{X}gYearMonth))",
    f"(AND spaceflight.space_mission (ge spaceflight.space_mission.launch_date 2011-09-11T08:46:00{X}dateTime))",
    f"(AND base.x.thing (JOIN base.x.thing.offset -5{X}integer))",
    '(AND common.topic (JOIN type.object.name "Ex-Girlfriends"@en))',
    '(AND common.topic (JOIN common.topic.alias "say \\"hi\\"\\n"@en-gb))',
    "(COUNT (AND film.film (JOIN film.film.directed_by g.11b6vx6c4m)))",
    # WebQSP preprocessing variants
    "(JOIN (R location.country.languages_spoken) m.0d060g)",
    "(AND (JOIN (R location.country.currency_used) m.0d05w3) (JOIN finance.currency.countries_used m.0d05w3))",
    "(TC (AND (JOIN (R government.governmental_jurisdiction.governing_officials) m.09c7w0) (JOIN government.government_position_held.basic_title m.060c4)) government.government_position_held.from NOW)",
    "(TC (JOIN (R sports.sports_team.roster) m.0jm3v) sports.sports_team_roster.from 2011)",
    f"(TC (JOIN (R sports.sports_team.roster) m.0jm3v) sports.sports_team_roster.to 2011-06-01{X}date)",
    "(ARGMIN (JOIN (R people.person.spouse_s) m.0x) people.marriage.from)",
    "(JOIN (R sports.sports_team_roster.player) (ARGMAX (JOIN (R sports.pro_athlete.teams) m.0x) sports.sports_team_roster.from))",
    "(ARGMAX (JOIN (R location.location.contains) m.0d05w3) (JOIN location.statistical_region.population measurement_unit.dated_integer.number))",
    "(ARGMAX (JOIN (R location.location.contains) m.0d05w3) (R location.location.containedby))",
    "(JOIN (JOIN people.person.parents people.person.parents) m.0x)",
    "m.0d05w3",
]


@pytest.mark.parametrize("form", ROUND_TRIP)
def test_round_trip_is_exact(form):
    tree = parse(form)
    assert to_sexpr(tree) == form
    assert parse(to_sexpr(tree)) == tree


def test_literals_are_typed_and_canonical():
    tree = parse(f"(AND a.b (JOIN a.b.c 1.0e+09{X}float))")
    assert tree.right.arg.literal == Literal("1000000000.0", "float")
    assert parse(f"(JOIN a.b.c 0042{X}int)").arg.literal == Literal("42", "integer")
    assert parse('(JOIN a.b.c "Paris"@EN)').arg.literal == Literal("Paris", "string", "en")


def test_structure_helpers():
    tree = parse(ROUND_TRIP[1])
    assert S.function_of(tree) == "argmax"
    assert S.relations(tree) == ["music.recording.tracks", "music.engineer.tracks_engineered", "music.release_track.length"]
    assert S.entities(tree) == ["m.0xyz"] and S.classes(tree) == ["music.release_track"]
    assert S.function_of(parse(ROUND_TRIP[8])) == "<="
    assert S.function_of(parse(ROUND_TRIP[18])) == "TC"
    assert S.steps(parse("(JOIN (R (JOIN a.b.c d.e.f)) m.0x)").path) == (("d.e.f", False), ("a.b.c", False))


BAD = [
    ("", "empty logical form"),
    ("(AND location.country (JOIN location.country.capital m.0paris)", "closing parenthesis missing"),
    ("(JOIN location.country.capital m.0paris))", "unbalanced ')'"),
    ("(FOO a.b m.0x)", "unknown operator 'FOO'"),
    ("(and a.b (JOIN a.b.c m.0x))", "did you mean AND"),
    ("(JOIN a.b.c)", "JOIN takes 2 arguments"),
    ("(COUNT a.b c.d)", "COUNT takes 1 argument"),
    (f"(JOIN a.b.c abc{X}integer)", "is not an integer"),
    (f"(JOIN a.b.c 2001-13-01{X}date)", "not a valid xsd:date"),
    ("(JOIN a.b.c 12^^http://example.org/type)", "unknown datatype"),
    ("(JOIN m.0abc m.0def)", "not a relation id"),
    ("(JOIN a.b.c Paris)", "not an entity id"),
    ("(lt a.b.c m.0x)", "expected the value compared by lt"),
    ('(JOIN a.b.c "unterminated)', "unterminated string"),
    ("(TC m.0x a.b.from Yesterday)", "TC"),
    ("()", "empty parentheses"),
    ("(JOIN (R a.b.c) m.0x) (JOIN a.b.c m.0y)", "more than one expression"),
    ("(R a.b.c)", "cannot stand where a set is expected"),
]


@pytest.mark.parametrize("form,message", BAD)
def test_bad_input_gets_a_clear_error(form, message):
    with pytest.raises(SExprError, match=re.escape(message)) as info:
        parse(form)
    assert "Traceback" not in str(info.value)


def test_error_points_at_the_position():
    with pytest.raises(SExprError) as info:
        parse("(AND a.b (FOO c.d m.0x))")
    assert info.value.pos == 10 and "^" in str(info.value)


TOKENS = ["(", ")", " ", "AND", "JOIN", "R", "COUNT", "ARGMAX", "ARGMIN", "lt", "ge", "TC", "NOW", "m.0fr", "m.0paris",
          "location.country", "location.country.capital", "location.location.containedby", "location.location.area",
          f"12{X}integer", f"1.5{X}float", f"1990{X}gYear", f"1990-13{X}gYearMonth", '"x"@en', '"', "^^", "12",
          "foo", "#1", "\\", "\n"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join) | st.text(max_size=60))
def test_fuzz_only_package_errors(text):
    """Random token soup and random text: either a valid form or the package's own error, never another exception."""
    try:
        tree = parse(text)
    except GapdError:
        return
    assert parse(to_sexpr(tree)) == tree
    for convert in (to_sexpr, to_sparql, to_actions):
        try:
            convert(tree)
        except GapdError:
            pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))
def test_fuzz_execution_only_package_errors(tiny_kbs, text):
    try:
        tree = parse(text)
        execute(tree, tiny_kbs["memory"])
    except GapdError:
        pass
