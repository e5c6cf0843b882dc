"""Each operator's meaning on hand-checked facts, and S-expression = SPARQL = actions on every backend."""
from __future__ import annotations

import pytest

from gapd_lite.logic.execute import execute, run_actions
from gapd_lite.logic.sexpr import parse
from gapd_lite.logic.to_actions import gold_steps, to_actions
from gapd_lite.logic.to_sparql import to_sparql
from tests.conftest import I

X = "^^http://www.w3.org/2001/XMLSchema#"
MEMBERS_EU = "(JOIN organization.organization_membership.organization m.0eu)"
CASES = [
    ("(JOIN location.country.capital m.0paris)", {"m.0fr"}),
    ("(JOIN (R location.country.capital) m.0fr)", {"m.0paris"}),
    ("(AND location.citytown (JOIN location.location.containedby m.0fr))", {"m.0paris", "m.0lyon"}),
    ("(AND (JOIN location.location.containedby m.0fr) location.citytown)", {"m.0paris", "m.0lyon"}),
    ("(COUNT (JOIN location.location.containedby m.0fr))", {I(2)}),
    ("(COUNT (AND location.country (JOIN location.country.currency_used m.0euro)))", {I(3)}),
    ("(ARGMAX location.country location.location.area)", {"m.0fr"}),
    ("(ARGMIN location.country location.location.area)", {"m.0uk"}),
    ("(ARGMAX location.country (JOIN location.statistical_region.population measurement_unit.dated_integer.number))", {"m.0de"}),
    ("(ARGMIN (JOIN location.location.containedby m.0fr) location.dated_location.date_founded)", {"m.0paris", "m.0lyon"}),
    (f"(AND location.country (lt location.location.area 400000.0{X}float))", {"m.0de", "m.0uk"}),
    (f"(AND location.country (ge location.location.area 505992{X}integer))", {"m.0fr", "m.0es"}),
    (f"(AND location.country (gt location.location.area 505992{X}integer))", {"m.0fr"}),
    (f"(AND location.country (le location.location.area 505992{X}integer))", {"m.0es", "m.0de", "m.0uk"}),
    (f"(AND location.citytown (lt location.dated_location.date_founded 0900{X}gYear))", {"m.0paris", "m.0lyon", "m.0madrid", "m.0london"}),
    (f"(lt location.dated_location.date_founded 0100{X}gYear)", {"m.0london"}),
    # mixed precision: the 1986 gYear counts from 1986-01-01
    (f"(JOIN organization.organization_member.member_of (lt organization.organization_membership.from 1980-06-01{X}date))", {"m.0fr", "m.0de", "m.0uk"}),
    (f"(JOIN organization.organization_member.member_of (ge organization.organization_membership.from 1986{X}gYear))", {"m.0es"}),
    (f"(JOIN (R organization.organization_membership.member) (TC {MEMBERS_EU} organization.organization_membership.from 2021))", {"m.0fr", "m.0de", "m.0es"}),
    (f"(JOIN (R organization.organization_membership.member) (TC {MEMBERS_EU} organization.organization_membership.from 1980))", {"m.0fr", "m.0de", "m.0uk"}),
    (f"(JOIN (R organization.organization_membership.member) (TC {MEMBERS_EU} organization.organization_membership.from 1986))", {"m.0fr", "m.0de", "m.0es", "m.0uk"}),
    (f"(JOIN (R organization.organization_membership.member) (TC {MEMBERS_EU} organization.organization_membership.to 2020))", {"m.0fr", "m.0de", "m.0es", "m.0uk"}),
    (f"(JOIN (R organization.organization_membership.member) (TC {MEMBERS_EU} organization.organization_membership.from NOW))", {"m.0fr", "m.0de", "m.0es", "m.0uk"}),
    (f"(JOIN (R organization.organization_membership.member) (TC {MEMBERS_EU} organization.organization_membership.from 2020-03-01{X}date))", {"m.0fr", "m.0de", "m.0es"}),
    (f"(JOIN location.location.area 551695.0{X}float)", {"m.0fr"}),
    (f"(JOIN location.location.area 551695{X}integer)", set()),  # RDF term equality: an integer is not the float
    ("(AND (JOIN location.country.currency_used m.0euro) (JOIN organization.organization_member.member_of "
     f"{MEMBERS_EU}))", {"m.0fr", "m.0de", "m.0es"}),
    ("(JOIN location.location.containedby (JOIN location.country.currency_used m.0euro))", {"m.0paris", "m.0lyon", "m.0berlin", "m.0madrid"}),
    ("(JOIN (JOIN location.location.containedby location.country.capital) m.0paris)", {"m.0paris", "m.0lyon"}),
    ('(AND location.country (JOIN type.object.name "Spain"@en))', {"m.0es"}),
    ("(AND location.country location.location)", {"m.0fr", "m.0de", "m.0es", "m.0uk"}),
    ("(COUNT location.citytown)", {I(5)}),
]


@pytest.mark.parametrize("form,expected", CASES, ids=[c[0][:70] for c in CASES])
def test_operator_semantics_hand_checked(form, expected, tiny_kbs):
    assert set(execute(parse(form), tiny_kbs["memory"])) == expected


@pytest.mark.parametrize("backend", ["memory", "rdflib", "oxigraph"])
@pytest.mark.parametrize("form,expected", CASES, ids=[c[0][:70] for c in CASES])
def test_sexpr_sparql_actions_agree(form, expected, backend, tiny_kbs):
    kb = tiny_kbs[backend]
    tree = parse(form)
    assert set(execute(tree, kb)) == expected, "S-expression executor"
    _, answer = run_actions(kb, to_actions(tree))
    assert set(answer) == expected, "gold actions"
    if backend != "memory":
        assert set(kb.run_query(to_sparql(tree))) == expected, "SPARQL translation"


def test_gold_states_are_recorded_per_step(tiny_kbs):
    steps = gold_steps(to_actions("(AND location.citytown (JOIN location.location.containedby m.0fr))"), tiny_kbs["memory"])
    assert [str(s.action) for s in steps] == ["get_neighbors(m.0fr, ^location.location.containedby)",
                                              "filter_class(#0, location.citytown)", "answer(#1)"]
    assert steps[0].state == {"m.0paris", "m.0lyon"} and steps[0].var == 0
    assert steps[1].state == {"m.0paris", "m.0lyon"} and steps[1].var == 1
    assert steps[2].var is None and steps[2].state == steps[1].state


@pytest.mark.parametrize("backend", ["memory", "rdflib", "oxigraph"])
@pytest.mark.parametrize("form,missing", [
    ("(AND location.citytown (JOIN location.location.containedby m.0nowhere))", "entity m.0nowhere"),
    ("(JOIN location.country.capitol m.0paris)", "relation location.country.capitol"),
    ("(AND location.metropolis (JOIN location.location.containedby m.0fr))", "class location.metropolis"),
])
def test_unknown_entity_relation_class_is_a_clear_error(form, missing, backend, tiny_kbs):
    from gapd_lite.errors import UnknownTermError
    with pytest.raises(UnknownTermError, match=missing):
        execute(parse(form), tiny_kbs[backend])
