"""The action language: parsing untrusted model text, printing, and executing on a KB."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from gapd_lite.logic.actions import Action, RelPath, Var, parse_action
from gapd_lite.errors import ActionError, GapdError
from gapd_lite.kb.terms import Literal
from gapd_lite.logic.execute import run_action, run_actions
from gapd_lite.logic.to_actions import to_actions

GOOD = [
    ("get_relations(m.0fr)", Action("get_relations", ("m.0fr",))),
    ("get_neighbors(m.0fr, ^location.location.containedby)", Action("get_neighbors", ("m.0fr", RelPath((("location.location.containedby", False),))))),
    ("  get_neighbors( #0 , location.country.capital ) ", Action("get_neighbors", (Var(0), RelPath((("location.country.capital", True),))))),
    ('get_neighbors(#0, "location.country.capital")', Action("get_neighbors", (Var(0), RelPath((("location.country.capital", True),))))),
    ("intersection(#0, #1)", Action("intersection", (Var(0), Var(1)))),
    ("argmax(#2, location.statistical_region.population/measurement_unit.dated_integer.number)",
     Action("argmax", (Var(2), RelPath((("location.statistical_region.population", True), ("measurement_unit.dated_integer.number", True)))))),
    ("lt(#0, location.location.area, 400000.0)", Action("lt", (Var(0), RelPath((("location.location.area", True),)), Literal("400000.0", "float")))),
    ('ge(organization.organization_membership.from, "1986"^^xsd:gYear)',
     Action("ge", (RelPath((("organization.organization_membership.from", True),)), Literal("1986", "gYear")))),
    ("time_filter(#1, organization.organization_membership.from, 2011)",
     Action("time_filter", (Var(1), RelPath((("organization.organization_membership.from", True),)), Literal("2011", "integer")))),
    ("time_filter(#1, organization.organization_membership.from, NOW)",
     Action("time_filter", (Var(1), RelPath((("organization.organization_membership.from", True),)), "NOW"))),
    ("filter_class(#1, location.citytown)", Action("filter_class", (Var(1), "location.citytown"))),
    ("get_instances(location.country)", Action("get_instances", ("location.country",))),
    ("count(#3)", Action("count", (Var(3),))),
    ("answer(#3)", Action("answer", (Var(3),))),
    ('get_neighbors("Spain"@en, ^type.object.name)', Action("get_neighbors", (Literal("Spain", "string", "en"), RelPath((("type.object.name", False),))))),
]


@pytest.mark.parametrize("text,expected", GOOD)
def test_parse_good_actions(text, expected):
    assert parse_action(text) == expected
    assert parse_action(str(expected)) == expected  # printing round-trips


BAD = [
    ("", "could not read"),
    ("get_relations", "could not read"),
    ("get_relations(m.0fr", "could not read"),
    ("eval(__import__('os'))", "unknown action 'eval'"),
    ("get_neighbors(m.0fr)", "takes 2"),
    ("get_neighbors(m.0fr, location.country.capital, extra)", "takes 2"),
    ("get_neighbors(Paris, location.country.capital)", "is not a node"),
    ("get_neighbors(m.0fr, a/b)", "not a relation"),
    ("get_neighbors(m.0fr, a.b.c/d.e.f)", "one relation"),
    ("lt(#0, location.location.area, big)", "not a literal"),
    ("time_filter(#0, a.b.from, yesterday)", "not a literal"),
    ('get_neighbors("unterminated, a.b.c)', "unterminated"),
    ("intersection(#0,, #1)", "empty argument"),
    ("filter_class(#0, }; DROP ALL; {)", "not a class"),
    ("get_neighbors(m.0fr, location.country.capital> } SERVICE <http://evil/> {)", "not a relation"),
    ("x" * 2000, "characters long"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_bad_actions_are_action_errors(text, message):
    with pytest.raises(ActionError, match=message):
        parse_action(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.lists(st.sampled_from(["get_neighbors", "(", ")", ",", "#0", "m.0fr", "^", "a.b.c", '"', "1990", "xsd:gYear", "^^", " "]), max_size=12).map("".join))
def test_fuzz_parse_action_only_action_errors(text):
    try:
        action = parse_action(text)
    except ActionError:
        return
    assert parse_action(str(action)) == action


def test_run_actions_follow_the_gold_program(tiny_kbs):
    kb = tiny_kbs["memory"]
    actions = [parse_action(t) for t in ["get_neighbors(m.0euro, ^location.country.currency_used)",
                                          "get_neighbors(#0, location.country.capital)", "count(#1)", "answer(#2)"]]
    states, answer = run_actions(kb, actions)
    assert states[0] == {"m.0fr", "m.0de", "m.0es"} and states[1] == {"m.0paris", "m.0berlin", "m.0madrid"}
    assert answer == {Literal("3", "integer")}


def test_lookups_return_relations(tiny_kbs):
    kb = tiny_kbs["memory"]
    rels = run_action(kb, parse_action("get_relations(m.0paris)"), [])
    assert "location.location.containedby" in rels and "^location.country.capital" in rels
    attrs = run_action(kb, parse_action("get_attributes(#0)"), [frozenset({"m.0fr", "m.0de"})])
    assert attrs == ["location.location.area"]


def test_undefined_variable_is_an_action_error(tiny_kbs):
    with pytest.raises(ActionError, match="#4 is not defined"):
        run_action(tiny_kbs["memory"], parse_action("count(#4)"), [frozenset()])


def test_to_actions_variables_are_numbered_in_order():
    acts = to_actions("(AND (JOIN location.country.currency_used m.0euro) (JOIN location.location.contains m.0paris))")
    assert [str(a) for a in acts] == ["get_neighbors(m.0euro, ^location.country.currency_used)",
                                      "get_neighbors(m.0paris, ^location.location.contains)",
                                      "intersection(#0, #1)", "answer(#2)"]
    assert acts[2].inputs == (Var(0), Var(1))
