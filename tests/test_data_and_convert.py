"""Question loaders (GrailQA json/jsonl, WebQSP json) and `gapd-lite convert`, bad records included."""
from __future__ import annotations

import json

import pytest

from gapd_lite.cli import main
from gapd_lite.data import load_questions, save_questions
from gapd_lite.errors import DataError

X = "^^http://www.w3.org/2001/XMLSchema#"
GRAILQA = [
    {"qid": 1, "question": "what is the capital of france?", "answer": [{"answer_type": "Entity", "answer_argument": "m.0paris", "entity_name": "Paris"}],
     "function": "none", "num_node": 2, "num_edge": 1, "level": "i.i.d.", "domains": ["location"],
     "s_expression": "(AND location.citytown (JOIN (R location.country.capital) m.0fr))", "sparql_query": "SELECT ..."},
    {"qid": 2, "question": "how many cities in france?", "answer": [{"answer_type": "Value", "answer_argument": "2"}],
     "function": "count", "s_expression": "(COUNT (AND location.citytown (JOIN location.location.containedby m.0fr)))"},
    {"qid": 3, "question": "a broken one", "answer": [], "s_expression": "(AND location.citytown (JOIN location.location.containedby m.0fr)"},
    {"qid": 4, "question": "grailqa test records have no logical form"},
]
WEBQSP = {"Version": "1.0", "Questions": [
    {"QuestionId": "WebQTest-0", "RawQuestion": "What is Paris the capital of?", "ProcessedQuestion": "what is paris the capital of",
     "Parses": [{"ParseId": "WebQTest-0.P0", "Sparql": "PREFIX ns: <http://rdf.freebase.com/ns/> SELECT DISTINCT ?x WHERE { ns:m.0paris ns:location.location.containedby ?x . }",
                 "TopicEntityMid": "m.0paris", "SExpr": "(JOIN (R location.location.containedby) m.0paris)",
                 "Answers": [{"AnswerType": "Entity", "AnswerArgument": "m.0fr", "EntityName": "France"}]}]},
    {"QuestionId": "WebQTest-1", "RawQuestion": "Raw SPARQL only?", "ProcessedQuestion": "raw sparql only",
     "Parses": [{"ParseId": "WebQTest-1.P0", "Sparql": "SELECT ?x WHERE { ?x ?p ?o }", "Answers": []}]},
]}


def test_grailqa_json_and_jsonl(tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps(GRAILQA))
    qs = load_questions(path)
    assert [q.qid for q in qs] == ["1", "2", "3", "4"]
    assert qs[0].answer[0].entity_name == "Paris" and qs[0].level == "i.i.d." and qs[0].num_edge == 1
    assert qs[3].s_expression is None and qs[3].answer == []
    jl = tmp_path / "g.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in GRAILQA) + "\n")
    assert [q.question for q in load_questions(jl)] == [q.question for q in qs]
    save_questions(qs, tmp_path / "again.json")
    assert [q.s_expression for q in load_questions(tmp_path / "again.json")] == [q.s_expression for q in qs]


def test_webqsp_json(tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps(WEBQSP))
    qs = load_questions(path)
    assert qs[0].s_expression == "(JOIN (R location.location.containedby) m.0paris)"
    assert qs[0].sparql_query.startswith("PREFIX ns:") and qs[0].answer_set == {"m.0fr"} and qs[0].source == "webqsp"
    assert qs[1].s_expression is None and "?x ?p ?o" in qs[1].sparql_query


@pytest.mark.parametrize("content,message", [
    ("", "is empty"),
    ("{not json", "neither JSON nor JSON lines"),
    ('{"qid": 1, "question": "a"}\n{broken', "line 2 is not valid JSON"),
    ("42", "top level is int"),
    ('[{"question": "no id"}]', "no qid/question"),
])
def test_bad_question_files(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_questions(path)


def test_missing_question_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_questions(tmp_path / "nope.json")


def test_convert_cli_keeps_going_past_bad_records(tmp_path, capsys):
    src, out = tmp_path / "g.json", tmp_path / "out.jsonl"
    src.write_text(json.dumps(GRAILQA + ["not a record"]))
    assert main(["convert", str(src), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5
    assert rows[0]["error"] is None and rows[0]["actions"][-1] == "answer(#1)" and "SELECT DISTINCT ?x" in rows[0]["sparql"]
    assert rows[1]["actions"][-2] == "count(#1)"
    assert "closing parenthesis missing" in rows[2]["error"]
    assert "no S-expression" in rows[3]["error"]
    assert "not an object" in rows[4]["error"]
    assert "converted 2 of 5 record(s); 3 with an error" in capsys.readouterr().err


def test_convert_cli_webqsp(tmp_path):
    src, out = tmp_path / "w.json", tmp_path / "out.jsonl"
    src.write_text(json.dumps(WEBQSP))
    assert main(["convert", str(src), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["actions"] == ["get_neighbors(m.0paris, location.location.containedby)", "answer(#0)"]
    assert "WebQSP" in rows[1]["error"]


def test_cli_missing_file_is_one_line_error(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "nope.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: question file not found") and "Traceback" not in err


def test_cli_query_without_kb(capsys):
    assert main(["query", "(COUNT (JOIN location.location.containedby m.0fr))", "--no-execute"]) == 0
    assert capsys.readouterr().out.splitlines() == ["get_neighbors(m.0fr, ^location.location.containedby)", "count(#0)", "answer(#1)"]


def test_cli_bad_form_is_one_line_error(capsys):
    assert main(["query", "(JOIN a.b.c", "--no-execute"]) == 2
    assert "closing parenthesis missing" in capsys.readouterr().err
