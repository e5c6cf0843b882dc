"""Deep S-expressions: up to MAX_DEPTH levels every tool handles them; beyond it parse, to_actions, to_sparql and execute
refuse with SExprError (never a RecursionError), the CLI prints one error, and `convert` reports the record and goes on."""
from __future__ import annotations

import json

import pytest

from gapd_lite.cli import main
from gapd_lite.errors import SExprError
from gapd_lite.logic.execute import execute, run_actions
from gapd_lite.logic.sexpr import MAX_DEPTH, And, Class, Count, Entity, Join, Rel, Rev, depth, parse
from gapd_lite.logic.to_actions import to_actions
from gapd_lite.logic.to_sparql import to_sparql

FORMS = {  # n -> a form nested n levels deep, and its answers on the tiny KB
    "COUNT": (lambda n: "(COUNT " * n + "m.0fr" + ")" * n, lambda n: {"1"}),
    "AND": (lambda n: "(AND location.country " * n + "m.0fr" + ")" * n, lambda n: {"m.0fr"}),
    "R": (lambda n: "(JOIN " + "(R " * (n - 1) + "location.country.capital" + ")" * (n - 1) + " m.0fr)",
          lambda n: {"m.0paris"} if n % 2 == 0 else set()),
    "JOIN": (lambda n: _joins(n), lambda n: {"m.0paris", "m.0lyon"} if n % 2 else {"m.0fr"}),
}
HOPS = ("location.location.containedby", "location.location.contains")  # France -> its cities -> France -> ...


def _joins(n: int) -> str:
    form = "m.0fr"
    for i in range(n):
        form = f"(JOIN {HOPS[i % 2]} {form})"
    return form


def _built(op: str, n: int):
    """The same deep tree built in code (as a caller might), bypassing the parser's check."""
    if op == "R":
        path = Rel("location.country.capital")
        for _ in range(n - 1):
            path = Rev(path)
        return Join(path, Entity("m.0fr"))
    node = Entity("m.0fr")
    for i in range(n):
        node = Count(node) if op == "COUNT" else And(Class("location.country"), node) if op == "AND" else \
            Join(Rel(HOPS[i % 2]), node)
    return node


@pytest.mark.parametrize("op", list(FORMS))
def test_the_stated_depth_works_everywhere(op, tiny_kbs):
    form, answers = FORMS[op]
    tree = parse(form(MAX_DEPTH))
    assert depth(tree) == MAX_DEPTH
    kb = tiny_kbs["memory"]
    got = {getattr(t, "lexical", t) for t in execute(tree, kb)}
    assert got == answers(MAX_DEPTH)
    assert {getattr(t, "lexical", t) for t in run_actions(kb, to_actions(tree))[1]} == got
    assert "SELECT" in to_sparql(tree)
    # oxigraph plans deep nests in exponential time (a 40-JOIN chain takes seconds): run the query 10 levels deep
    shallow = {getattr(t, "lexical", t) for t in tiny_kbs["oxigraph"].run_query(to_sparql(parse(form(10))))}
    assert shallow == answers(10)


@pytest.mark.parametrize("op", list(FORMS))
@pytest.mark.parametrize("n", [MAX_DEPTH + 1, 10_000])
def test_deeper_forms_are_refused_by_every_tool(op, n, tiny_kbs):
    text = FORMS[op][0](n)
    with pytest.raises(SExprError, match=f"more than {MAX_DEPTH} levels deep"):
        parse(text)
    for tool in (to_actions, to_sparql):
        with pytest.raises(SExprError, match=f"more than {MAX_DEPTH} levels deep"):
            tool(text)
    tree = _built(op, n)
    assert depth(tree) == n
    for tool in (to_actions, to_sparql, lambda t: execute(t, tiny_kbs["memory"])):
        with pytest.raises(SExprError, match=f"nested {n:,} levels deep; at most {MAX_DEPTH}"):
            tool(tree)


def test_cli_query_refuses_a_deep_form_in_one_error(capsys):
    assert main(["query", FORMS["COUNT"][0](1000), "--no-execute"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: logical form nested more than 100 levels deep") and "Traceback" not in err


def test_convert_reports_a_deep_record_and_goes_on(tmp_path):
    src, out = tmp_path / "qs.json", tmp_path / "out.jsonl"
    src.write_text(json.dumps([{"qid": 1, "question": "deep", "s_expression": FORMS["AND"][0](10_000)},
                               {"qid": 2, "question": "fine", "s_expression": "(JOIN (R location.country.capital) m.0fr)"}]))
    assert main(["convert", str(src), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert "levels deep" in rows[0]["error"] and rows[1]["error"] is None and rows[1]["actions"]
