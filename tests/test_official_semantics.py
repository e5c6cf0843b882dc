"""Issue 23: real-form semantics on every route (execute on each backend, to_sparql on pyoxigraph and rdflib,
gold actions, gold actions through the env), each case from the issue as written."""
from __future__ import annotations

import pytest

from gapd_lite.env.kbqa_env import EnvConfig, KBQAEnv
from gapd_lite.errors import ConfigError, LiteralError, SExprError
from gapd_lite.kb.io import to_ntriples_line
from gapd_lite.kb.memory import MemoryKB
from gapd_lite.kb.sparql import OxigraphKB, RdflibKB
from gapd_lite.kb.terms import Literal, compare
from gapd_lite.logic.execute import answer_of_actions, execute, form_of_actions
from gapd_lite.logic.sexpr import TimeMacro, parse, to_sexpr
from gapd_lite.logic.to_actions import gold_steps, to_actions
from gapd_lite.logic.to_sparql import to_sparql

X = "^^http://www.w3.org/2001/XMLSchema#"
T = Literal.typed
TYPE = "type.object.type"


def backends(triples, path) -> dict:
    """The same triples on the memory, rdflib and pyoxigraph backends."""
    path.write_text("".join(to_ntriples_line(*t) + "\n" for t in triples))
    return {"memory": MemoryKB(triples), "rdflib": RdflibKB(path), "oxigraph": OxigraphKB(path)}


def env_answer(kb, actions, semantics: str) -> frozenset:
    """The gold actions typed into the env one by one, as an agent would."""
    env = KBQAEnv(kb, "q", config=EnvConfig(semantics=semantics, max_turns=100, allow_empty_answer=True,
                                            max_set_size=10 ** 6, max_classes=0))
    for action in actions:
        record = env.step(f"<action>{action}</action>")
        assert record.error is None, (str(action), record.observation)
    return env.answer


def routes(form: str, kbs: dict, semantics: str = "default") -> dict[str, set]:
    """The answer of every route: execute per backend, to_sparql per engine, gold actions, the env."""
    tree = parse(form)
    out = {}
    for name, kb in kbs.items():
        out[f"execute/{name}"] = set(execute(tree, kb, check=False, semantics=semantics))
        if name != "memory":
            out[f"sparql/{name}"] = set(kb.run_query(to_sparql(tree, semantics)))
    actions = to_actions(tree)
    out["actions"] = set(answer_of_actions(kbs["memory"], actions, semantics))
    out["env"] = set(env_answer(kbs["oxigraph"], actions, semantics))
    return out


def assert_all(form: str, kbs: dict, expected: set, semantics: str = "default") -> None:
    got = routes(form, kbs, semantics)
    wrong = {route: sorted(map(str, ans)) for route, ans in got.items() if ans != expected}
    assert not wrong, f"{form} [{semantics}] expected {sorted(map(str, expected))}, got {wrong}"


# ---------------------------------------------------------------------------- 1. time_macro
MARRIAGE = ("(JOIN (R people.marriage.spouse) (AND (JOIN people.marriage.time_macro 2015^^http://www.w3.org/2001/"
            "XMLSchema#date) (JOIN (R people.person.spouse_s) m.01qr1_)))")


@pytest.fixture
def marriages(tmp_path):
    triples = [("m.01qr1_", "people.person.spouse_s", "m.0mar"), ("m.0mar", "people.marriage.spouse", "m.0sp"),
               ("m.0mar", "people.marriage.from", T("2001-06-01", "date")),
               # ended in March 2015: overlaps the year 2015, not WebQSP's NOW (2015-08-10)
               ("m.01qr1_", "people.person.spouse_s", "m.0mar2"), ("m.0mar2", "people.marriage.spouse", "m.0sp2"),
               ("m.0mar2", "people.marriage.from", T("1990", "gYear")), ("m.0mar2", "people.marriage.to", T("2015-03-01", "date")),
               # ended in 2000: excluded
               ("m.01qr1_", "people.person.spouse_s", "m.0mar3"), ("m.0mar3", "people.marriage.spouse", "m.0sp3"),
               ("m.0mar3", "people.marriage.from", T("1980", "gYear")), ("m.0mar3", "people.marriage.to", T("2000", "gYear"))]
    return backends(triples, tmp_path / "kb.nt")


def test_time_macro_issue_case_on_every_route(tmp_path):
    triples = [("m.01qr1_", "people.person.spouse_s", "m.0mar"), ("m.0mar", "people.marriage.spouse", "m.0sp"),
               ("m.0mar", "people.marriage.from", T("2001-06-01", "date"))]
    assert_all(MARRIAGE, backends(triples, tmp_path / "kb.nt"), {"m.0sp"})


def test_time_macro_parses_prints_and_converts():
    tree = parse(MARRIAGE)
    assert to_sexpr(tree) == MARRIAGE
    macro = tree.arg.left
    assert isinstance(macro, TimeMacro) and macro.relation == "people.marriage.time_macro"
    assert macro.time.literal == T("2015", "gYear")
    actions = [str(a) for a in to_actions(tree)]
    assert actions == ["get_neighbors(m.01qr1_, people.person.spouse_s)",
                       'time_filter(#0, people.marriage.time_macro, "2015"^^xsd:gYear)',
                       "get_neighbors(#1, people.marriage.spouse)", "answer(#2)"]
    assert to_sexpr(form_of_actions(to_actions(tree))).count("time_macro") == 1


def test_bare_year_typed_as_date_only_parses_as_a_time_macro_time():
    with pytest.raises(SExprError, match="not a valid xsd:date"):
        parse(f"(JOIN people.marriage.from 2015{X}date)")
    with pytest.raises(SExprError, match="time_macro needs a year"):
        parse('(AND (JOIN people.marriage.time_macro "x") m.0a)')


def test_time_macro_default_is_the_year_webqsp_is_now(marriages):
    assert_all(MARRIAGE, marriages, {"m.0sp", "m.0sp2"})
    # the preprocessing writes NOW as 2015; the official query compares with 2015-08-10
    assert_all(MARRIAGE, marriages, {"m.0sp"}, "webqsp")


def test_time_macro_gold_state_and_env(marriages):
    steps = gold_steps(to_actions(MARRIAGE), marriages["memory"])
    assert steps[1].action.name == "time_filter" and steps[1].state == {"m.0mar", "m.0mar2"}
    assert steps[-1].state == {"m.0sp", "m.0sp2"}


def test_get_attributes_lists_the_time_macro_the_agent_can_filter_by(marriages):
    env = KBQAEnv(marriages["memory"], "whom is he married to now?", config=EnvConfig(max_classes=0))
    env.step("<action>get_neighbors(m.01qr1_, people.person.spouse_s)</action>")
    seen = env.step("<action>get_attributes(#0)</action>").observation
    assert "people.marriage.time_macro" in seen and "people.marriage.from" in seen
    record = env.step("<action>time_filter(#0, people.marriage.time_macro, 2015)</action>")
    assert record.error is None and env.bindings[-1] == {"m.0mar", "m.0mar2"}


def test_time_macro_of_an_unlisted_type_tests_every_start_end_pair(tmp_path):
    triples = [("m.0t", "sports.team_coach.tenures", "m.0c1"), ("m.0t", "sports.team_coach.tenures", "m.0c2"),
               ("m.0c1", "sports.coach_tenure.start_date", T("2001", "gYear")),
               ("m.0c1", "sports.coach_tenure.end_date", T("2003", "gYear")),
               ("m.0c2", "sports.coach_tenure.start_date", T("1990", "gYear")),
               ("m.0c2", "sports.coach_tenure.end_date", T("1995-06", "gYearMonth"))]
    form = f"(AND (JOIN sports.coach_tenure.time_macro 2002{X}date) (JOIN (R sports.team_coach.tenures) m.0t))"
    assert_all(form, backends(triples, tmp_path / "kb.nt"), {"m.0c1"})


# ---------------------------------------------------------------------------- 2. BC dates, calendar, numbers
@pytest.fixture
def books(tmp_path):
    triples = [("m.0iliad", TYPE, "book.book"), ("m.0republic", TYPE, "book.book"),
               ("m.0iliad", "book.written_work.date_of_first_publication", T("-0750", "gYear")),
               ("m.0republic", "book.written_work.date_of_first_publication", T("-0375", "gYear"))]
    return backends(triples, tmp_path / "kb.nt")


def test_bc_years_compare_as_numbers_on_every_route(books):
    assert_all("(ARGMIN book.book book.written_work.date_of_first_publication)", books, {"m.0iliad"})
    assert_all("(ARGMAX book.book book.written_work.date_of_first_publication)", books, {"m.0republic"})
    assert_all(f"(AND book.book (lt book.written_work.date_of_first_publication -0500{X}gYear))", books, {"m.0iliad"})
    assert_all(f"(AND book.book (ge book.written_work.date_of_first_publication -0375{X}gYear))", books, {"m.0republic"})


@pytest.mark.parametrize("a,b,expected", [(("-0500", "gYear"), ("-0100", "gYear"), -1),
                                          (("10000", "gYear"), ("9999", "gYear"), 1),
                                          (("-0001-12-31", "date"), ("0000", "gYear"), -1),
                                          (("1998", "gYear"), ("1998-01-01", "date"), 0)])
def test_temporal_compare_is_numeric(a, b, expected):
    assert compare(T(*a), T(*b)) == expected


@pytest.mark.parametrize("lexical,datatype,match", [
    ("2015-02-30", "date", "2015-02 has 28 days"), ("2016-02-30", "date", "2016-02 has 29 days"),
    ("2015-13", "gYearMonth", "month 13"), ("2015-04-31T00:00:00", "dateTime", "has 30 days"),
    ("2015-01-01T24:30:00", "dateTime", "not a time of day"), ("1e39", "float", "out of range for xsd:float"),
    ("1e-50", "float", "too close to 0"), ("1e-400", "double", "too close to 0"), ("1e400", "double", "not a finite"),
])
def test_invalid_literals_are_clear_errors(lexical, datatype, match):
    with pytest.raises(LiteralError, match=match):
        T(lexical, datatype)
    with pytest.raises(SExprError, match=match):
        parse(f"(AND m.0a (lt a.b.c {lexical}{X}{datatype}))")


def test_leap_day_and_midnight_are_valid():
    assert T("2016-02-29", "date").lexical == "2016-02-29"
    assert T("1999-12-31T24:00:00", "dateTime").lexical == "2000-01-01T00:00:00"


def test_integers_past_64_bits_compare_alike_on_every_route(tmp_path):
    triples = [(f"m.0e{n}", "chemistry.chemical_element.atomic_number", T(str(n), "integer")) for n in (1, 2, 118)]
    kbs = backends(triples, tmp_path / "kb.nt")
    everyone = {"m.0e1", "m.0e2", "m.0e118"}
    assert_all("(lt chemistry.chemical_element.atomic_number 100000000000000000000)", kbs, everyone)
    assert_all("(gt chemistry.chemical_element.atomic_number -100000000000000000000000000)", kbs, everyone)


# ---------------------------------------------------------------------------- 3. ARGMAX/ARGMIN on every engine
def test_argmax_over_mixed_precisions_is_executes_answer_on_every_engine(tmp_path):
    rel = "cvg.computer_videogame.release_date"
    triples = [("m.0g1", TYPE, "cvg.computer_game_expansion"), ("m.0g2", TYPE, "cvg.computer_game_expansion"),
               ("m.0g3", TYPE, "cvg.computer_game_expansion"), ("m.0g1", rel, T("1998", "gYear")),
               ("m.0g2", rel, T("1998-03-31", "date")), ("m.0g3", rel, T("1997-11", "gYearMonth"))]
    kbs = backends(triples, tmp_path / "kb.nt")
    assert_all(f"(ARGMAX cvg.computer_game_expansion {rel})", kbs, {"m.0g2"})
    assert_all(f"(ARGMIN cvg.computer_game_expansion {rel})", kbs, {"m.0g3"})


def test_argmin_negative_year_against_a_date_on_every_engine(tmp_path):
    rel = "book.written_work.date_of_first_publication"
    triples = [("m.0a", TYPE, "book.book"), ("m.0b", TYPE, "book.book"),
               ("m.0a", rel, T("-0750", "gYear")), ("m.0b", rel, T("1950-03-01", "date"))]
    kbs = backends(triples, tmp_path / "kb.nt")
    assert_all(f"(ARGMIN book.book {rel})", kbs, {"m.0a"})
    assert_all(f"(ARGMAX book.book {rel})", kbs, {"m.0b"})


def test_argmax_ranks_numbers_before_dates_and_keeps_ties(tmp_path):
    rel = "a.b.size"
    triples = [("m.0a", TYPE, "a.b"), ("m.0b", TYPE, "a.b"), ("m.0c", TYPE, "a.b"), ("m.0d", TYPE, "a.b"),
               ("m.0a", rel, T("5", "integer")), ("m.0b", rel, T("5.0", "float")), ("m.0c", rel, T("2", "integer")),
               ("m.0d", rel, T("2020", "gYear"))]
    kbs = backends(triples, tmp_path / "kb.nt")
    assert_all(f"(ARGMAX a.b {rel})", kbs, {"m.0a", "m.0b"})
    assert_all(f"(ARGMIN a.b {rel})", kbs, {"m.0c"})
    assert_all(f"(ARGMAX a.b {rel})", kbs, {"m.0a"}, "webqsp")  # ORDER BY … LIMIT 1: the first of the tied


# ---------------------------------------------------------------------------- 4. official conventions
@pytest.fixture
def rides(tmp_path):
    triples = [("m.0a", TYPE, "amusement_parks.ride"), ("m.0b", TYPE, "amusement_parks.ride"),
               ("m.0t", "amusement_parks.ride_type.rides", "m.0a"), ("m.0t", "amusement_parks.ride_type.rides", "m.0b"),
               ("m.0a", "amusement_parks.ride.capacity", T("1000", "integer")),
               ("m.0b", "amusement_parks.ride.capacity", T("3000", "integer"))]
    return backends(triples, tmp_path / "kb.nt")


RIDES = ("(AND amusement_parks.ride (JOIN (R amusement_parks.ride_type.rides) (JOIN amusement_parks.ride_type.rides "
         "(lt amusement_parks.ride.capacity 2400))))")


def test_grailqa_keeps_query_graph_nodes_distinct(rides):
    assert_all(RIDES, rides, {"m.0a", "m.0b"})
    assert_all(RIDES, rides, {"m.0b"}, "grailqa")
    assert_all(f"(COUNT {RIDES})", rides, {T("1", "integer")}, "grailqa")


@pytest.fixture
def loops(tmp_path):
    triples = [("m.0e", "people.person.sibling", "m.0e"), ("m.0e", "people.person.sibling", "m.0f"),
               ("m.0f", "people.person.sibling", "m.0e"), ("m.0e", "type.object.name", T("Eve", "string", "en")),
               ("m.0e", "type.object.name", T("Ève", "string", "fr"))]
    return backends(triples, tmp_path / "kb.nt")


@pytest.mark.parametrize("semantics,expected", [("default", {"m.0e", "m.0f"}), ("grailqa", {"m.0f"}), ("webqsp", {"m.0f"})])
def test_topic_entities_are_no_official_answer(loops, semantics, expected):
    assert_all("(JOIN (R people.person.sibling) m.0e)", loops, expected, semantics)


def test_webqsp_keeps_english_and_untagged_literals(loops):
    form = "(JOIN (R type.object.name) m.0e)"
    assert_all(form, loops, {T("Eve", "string", "en"), T("Ève", "string", "fr")})
    assert_all(form, loops, {T("Eve", "string", "en")}, "webqsp")


def test_unknown_semantics_is_a_config_error(loops):
    with pytest.raises(ConfigError, match="default, grailqa, webqsp"):
        execute(parse("(JOIN people.person.sibling m.0e)"), loops["memory"], semantics="official")
    with pytest.raises(ConfigError):
        to_sparql("(JOIN people.person.sibling m.0e)", "official")


# ---------------------------------------------------------------------------- 5. timezones, xsd:datetime
@pytest.fixture
def images(tmp_path):
    triples = [("m.0img", TYPE, "common.image"), ("m.0img", "common.image.creation_date", T("2007-08-11T15:48:45", "dateTime")),
               ("m.0old", TYPE, "common.image"), ("m.0old", "common.image.creation_date", T("2001-01-01T00:00:00", "dateTime"))]
    return backends(triples, tmp_path / "kb.nt")


@pytest.mark.parametrize("written", ["2007-08-11T15:48:45-08:00", "2007-08-11T23:48:45Z", "2007-08-11T15:48:45"])
def test_timezone_less_values_are_read_at_minus_eight_hours_as_virtuoso_does(images, written):
    assert_all(f"(AND common.image (JOIN common.image.creation_date {written}{X}dateTime))", images, {"m.0img"})
    assert_all(f"(AND common.image (ge common.image.creation_date {written}{X}dateTime))", images, {"m.0img"})


def test_lower_case_datetime_is_read_in_forms_actions_and_official_sparql(images):
    assert parse(f"(JOIN common.image.creation_date 2007-08-11T15:48:45{X}datetime)").arg.literal.datatype == "dateTime"
    official = ('PREFIX ns: <http://rdf.freebase.com/ns/>\nSELECT DISTINCT ?x WHERE { ?x ns:common.image.creation_date ?d . '
                'FILTER(xsd:datetime(?d) >= "2005-01-01T00:00:00"^^xsd:datetime) }')
    for name in ("rdflib", "oxigraph"):
        assert set(images[name].run_query(official)) == {"m.0img"}


def _question(form: str, answers: list[str], source: str = "grailqa"):
    from gapd_lite.data import Answer, Question
    return Question("q1", "which ride?", s_expression=form, answer=[Answer("Entity", a) for a in answers], source=source)


def test_verify_checks_official_answers_under_the_official_semantics(rides):
    from gapd_lite.verify import verify_backend
    q = _question(RIDES, ["m.0b"])
    for name in ("memory", "oxigraph"):
        report, bad = verify_backend([q], rides[name], progress=False, semantics="grailqa")
        assert not bad and report.ok["sexpr"] == report.ok["actions"] == 1
        _, bad = verify_backend([q], rides[name], progress=False)  # default keeps m.0a too
        assert {d.route for d in bad} == {"sexpr", "actions"}


def test_convert_writes_the_sparql_of_the_chosen_semantics(rides):
    from gapd_lite.convert import convert_question
    default = convert_question(_question(RIDES, []))
    grail = convert_question(_question(RIDES, []), "grailqa")
    assert default["error"] is None and "sameTerm" not in default["sparql"] and "sameTerm" in grail["sparql"]
    assert set(rides["oxigraph"].run_query(grail["sparql"])) == {"m.0b"}
    webq = convert_question(_question(f"(ARGMAX amusement_parks.ride amusement_parks.ride.capacity)", [], "webqsp"), "webqsp")
    assert webq["sparql"].endswith("LIMIT 1") and webq["actions"][-1] == "answer(#1)"
    converted = convert_question(_question(MARRIAGE, [], "webqsp"))
    assert converted["error"] is None and "time_macro" in converted["actions"][1]


def test_the_semantics_flag_reaches_eval_convert_and_verify():
    from gapd_lite.cli import build_parser
    parser = build_parser()
    for argv in (["convert", "in.json", "--semantics", "webqsp"], ["verify-data", "--semantics", "grailqa"]):
        assert parser.parse_args(argv).semantics == argv[-1]
    with pytest.raises(SystemExit):
        parser.parse_args(["convert", "in.json", "--semantics", "official"])
