"""Hostile question files (convert, eval --split FILE, train --questions FILE): each is one DataError naming the file
and, for a bad record, its qid; `convert` reports a bad record and goes on."""
from __future__ import annotations

import json
import os
import re
import threading

import pytest

from gapd_lite.cli import main
from gapd_lite.data import iter_records, load_questions
from gapd_lite.errors import DataError

GOOD = {"qid": 7, "question": "capital of france?", "answer": [{"answer_type": "Entity", "answer_argument": "m.0paris"}],
        "s_expression": "(JOIN (R location.country.capital) m.0fr)", "domains": ["location"]}
WEB = {"QuestionId": "WebQTest-9", "ProcessedQuestion": "capital of france"}


def _write(path, content) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")


FILE_FAULTS = {  # content -> words of the error (the file is named in every one)
    "binary": (bytes(range(256)) * 4, "binary file"),
    "latin-1": ('[{"qid": 1, "question": "caf\u00e9?"}]'.encode("latin-1"), "not UTF-8 text (byte 0xe9"),
    "utf-16": (json.dumps([GOOD]).encode("utf-16"), "UTF-16 text"),
    "utf-16-le, no BOM": (json.dumps([GOOD]).encode("utf-16-le"), "UTF-16 text"),
    "nested 100,000 deep": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "nested jsonl line": ('{"qid": 1, "question": "a"}\n' + "[" * 100_000 + "]" * 100_000, "line 2 is not valid JSON"),
}


@pytest.mark.parametrize("fault", list(FILE_FAULTS))
def test_unreadable_question_files_are_data_errors(tmp_path, fault):
    content, words = FILE_FAULTS[fault]
    path = tmp_path / "qs.json"
    _write(path, content)
    for read in (load_questions, iter_records):
        with pytest.raises(DataError, match=re.escape(words)) as err:
            read(path)
        assert str(path) in str(err.value)


def test_a_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        load_questions(tmp_path)


def test_a_fifo_without_writer_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "qs.json"
    os.mkfifo(fifo)
    box = {}
    worker = threading.Thread(target=_catch, args=(box, fifo), daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "blocked on a FIFO with no writer"
    assert "not a regular file" in box["message"] and str(fifo) in box["message"]


def _catch(box: dict, path) -> None:
    try:
        load_questions(path)
    except DataError as exc:
        box["message"] = str(exc)


RECORD_FAULTS = {  # one record -> words of the error
    "answer is a number": ({**GOOD, "answer": 5}, '"answer" is a number, expected a list'),
    "domains is a number": ({**GOOD, "domains": 7}, '"domains" is a number, expected a list'),
    "domains hold numbers": ({**GOOD, "domains": [1]}, '"domains" is a number, expected a string'),
    "question is a list": ({**GOOD, "question": ["a"]}, '"question" is a list, expected a string'),
    "s_expression is an object": ({**GOOD, "s_expression": {}}, '"s_expression" is an object'),
    "num_node is text": ({**GOOD, "num_node": "2"}, '"num_node" is a string, expected a whole number'),
    "answer is a list of lists": ({**GOOD, "answer": [[1]]}, "answer that is a list"),
    "lone surrogate": ('[{"qid": 7, "question": "bad \\ud800 text"}]', "lone surrogate"),
    "Parses is a string": ({**WEB, "Parses": "(JOIN a.b.c m.0x)"}, '"Parses" is a string, expected a list'),
    "Parses holds numbers": ({**WEB, "Parses": [1, 2]}, '"Parses" holds a number'),
    "Parses is an object": ({**WEB, "Parses": {"0": {"SExpr": "x"}}}, '"Parses" is an object, expected a list'),
    "Answers is a string": ({**WEB, "Parses": [{"SExpr": "(JOIN a.b m.0x)", "Answers": "m.0x"}]}, '"Answers" is a string'),
}


@pytest.mark.parametrize("fault", list(RECORD_FAULTS))
def test_bad_records_are_data_errors_naming_file_and_qid(tmp_path, fault):
    record, words = RECORD_FAULTS[fault]
    path = tmp_path / "qs.json"
    _write(path, record if isinstance(record, str) else [record])
    with pytest.raises(DataError, match=re.escape(words)) as err:
        load_questions(path)
    message = str(err.value)
    assert str(path) in message and ("qid '7'" in message or "qid 'WebQTest-9'" in message)
    (index, item), = list(iter_records(path))  # convert's reader: the record becomes an error in its place
    assert isinstance(item, DataError) and words in str(item)


def test_duplicated_qids_are_an_error(tmp_path):
    path = tmp_path / "qs.json"
    _write(path, [GOOD, {**GOOD, "question": "again"}, {**GOOD, "qid": 8}])
    with pytest.raises(DataError, match=r"qid '7' appears twice \(records 0 and 1\)"):
        load_questions(path)
    items = [item for _, item in iter_records(path)]
    assert [type(i).__name__ for i in items] == ["Question", "DataError", "Question"]
    assert "repeats qid '7'" in str(items[1])


def test_a_bad_form_is_reported_when_asked_before_any_model(tmp_path):
    path = tmp_path / "qs.json"
    _write(path, [GOOD, {**GOOD, "qid": 8, "s_expression": "(JOIN (R a.b.c) m.0fr"}])
    assert len(load_questions(path)) == 2  # reading alone does not parse forms (verify-data reports them itself)
    with pytest.raises(DataError, match="record 1 \\(qid '8'\\) has a bad s_expression \\(.*closing parenthesis missing.*at character 0\\)"):
        load_questions(path, check_forms=True)


def test_convert_reports_bad_records_and_goes_on(tmp_path, capsys):
    src, out = tmp_path / "qs.json", tmp_path / "out.jsonl"
    records = [GOOD, {**GOOD, "answer": 5, "qid": 2}, {**GOOD, "question": "dup"}, {**WEB, "Parses": "x"}, {**GOOD, "qid": 3}]
    _write(src, records)
    assert main(["convert", str(src), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["error"] is None for r in rows] == [True, False, False, False, True]
    assert "answer" in rows[1]["error"] and "repeats qid" in rows[2]["error"] and "Parses" in rows[3]["error"]


@pytest.mark.parametrize("fault", ["binary", "utf-16", "nested 100,000 deep"])
def test_cli_gives_one_line_for_an_unreadable_file(tmp_path, capsys, fault):
    path = tmp_path / "qs.json"
    _write(path, FILE_FAULTS[fault][0])
    assert main(["convert", str(path), "--out", str(tmp_path / "out.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and FILE_FAULTS[fault][1] in err[-1] and "Traceback" not in "\n".join(err)
    assert main(["convert", str(tmp_path), "--out", str(tmp_path / "out.jsonl")]) == 2
    assert "is a folder" in capsys.readouterr().err
