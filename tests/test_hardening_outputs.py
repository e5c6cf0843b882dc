"""Nothing lost (issue 22 items 1, 4, 5, 6, 14): outputs are checked before the work and written whole or not at
all, a command never overwrites its own input, a run folder has one trainer at a time and keeps its method."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import gapd_lite.convert as convert
from gapd_lite.cli import main
from gapd_lite.errors import ConfigError
from gapd_lite.outputs import atomic_output, check_output
from gapd_lite.training.config import preset
from gapd_lite.training.loop import run_folder_lock
from gapd_lite.training.trainer import train_rl, train_sft

RECORD = {"qid": "q1", "question": "What is the capital of France?", "s_expression": "(JOIN (R location.country.capital) m.0fr)",
          "answer": [{"answer_argument": "m.0paris"}], "level": "i.i.d."}


def _error(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: ") and "Traceback" not in "\n".join(err)
    return err[-1]


def test_convert_with_a_missing_input_leaves_an_existing_output_untouched(tmp_path, capsys):
    out = tmp_path / "dev.out.jsonl"
    out.write_text("462 lines of an earlier run\n")
    _error(capsys, "convert", str(tmp_path / "typo.json"), "--out", str(out))
    assert out.read_text() == "462 lines of an earlier run\n"


def test_convert_refuses_to_write_over_its_input(tmp_path, capsys):
    src = tmp_path / "mydev.json"
    src.write_text(json.dumps([RECORD]))
    assert "is the input file" in _error(capsys, "convert", str(src), "--out", str(src))
    assert json.loads(src.read_text()) == [RECORD]


def test_a_convert_that_stops_early_leaves_no_file_that_looks_complete(tmp_path, monkeypatch):
    src, out = tmp_path / "qs.json", tmp_path / "out.jsonl"
    src.write_text(json.dumps([dict(RECORD, qid=f"q{i}") for i in range(5)]))
    calls = []

    def crash_on_third(q, *args):
        calls.append(q)
        if len(calls) == 3:
            raise MemoryError("simulated crash mid-file")
        return {"qid": q.qid, "error": None}

    monkeypatch.setattr(convert, "convert_question", crash_on_third)
    with pytest.raises(MemoryError):
        main(["convert", str(src), "--out", str(out)])
    assert not out.exists() and not list(tmp_path.glob("*.partial"))  # no partial file either


def test_convert_writes_every_record_when_it_finishes(tmp_path):
    src, out = tmp_path / "qs.json", tmp_path / "sub" / "out.jsonl"
    src.write_text(json.dumps([dict(RECORD, qid=f"q{i}") for i in range(3)]))
    assert main(["convert", str(src), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["qid"] for r in rows] == ["q0", "q1", "q2"] and all(r["error"] is None for r in rows)


@pytest.mark.parametrize("argv", [
    ["eval", "--model", "tiny", "--limit", "1"],
    ["bench", "kb", "--limit", "1"],
    ["hint-check", "--model", "tiny", "--limit", "1"],
])
def test_an_unwritable_out_fails_before_the_work(tmp_path, capsys, argv):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert "cannot write" in _error(capsys, *argv, "--out", str(blocker / "report.json"))
    assert "is a folder" in _error(capsys, *argv, "--out", str(tmp_path))


def test_eval_out_must_be_the_json_report_not_its_plot(tmp_path, capsys):
    report = tmp_path / "report.png"
    report.write_bytes(b"\x89PNG an earlier plot")
    assert "ending in .json" in _error(capsys, "eval", "--model", "tiny", "--limit", "1", "--out", str(report))
    assert report.read_bytes() == b"\x89PNG an earlier plot"


def test_atomic_output_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(path) as f:
        f.write("half of the new")
        raise RuntimeError("writer died")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_check_output_makes_no_folder_and_accepts_a_new_one(tmp_path):
    assert check_output(tmp_path / "new" / "deeper" / "r.json", (".json",)) == tmp_path / "new" / "deeper" / "r.json"
    assert not (tmp_path / "new").exists()
    with pytest.raises(ConfigError, match="ending in .json"):
        check_output(tmp_path / "r.txt", (".json",))


def test_a_second_trainer_on_the_same_run_folder_is_refused(tmp_path):
    cfg = preset("sft", "smoke", out_dir=str(tmp_path / "run"))
    with run_folder_lock(Path(cfg.out_dir)):  # another trainer holds the folder
        with pytest.raises(ConfigError, match="another process is training in"):
            train_sft(cfg, progress=False)
    assert train_sft(cfg, progress=False, stop_after=1).steps == 1  # free again once it is released


def test_a_run_folder_keeps_its_method(tmp_path, capsys):
    sft = preset("sft", "smoke", out_dir=str(tmp_path / "sft"), num_updates=2)
    train_sft(sft, progress=False)
    gapd = preset("gapd", "smoke", out_dir=sft.out_dir)
    with pytest.raises(ConfigError, match=r"holds a sft run.*--init-adapter .*sft/final"):
        train_rl(gapd, progress=False)
    line = _error(capsys, "train", "--method", "gapd", "--preset", "smoke", "--out", sft.out_dir, "--quiet")
    assert "method: 'sft' → 'gapd'" in line
    longer = preset("sft", "smoke", out_dir=sft.out_dir, num_updates=3)  # more updates of the same run: resumes
    assert train_sft(longer, progress=False).resumed_from == 2


def test_query_limit_must_not_be_negative(capsys):
    assert "--limit -1" in _error(capsys, "query", "(JOIN (R location.country.capital) m.0fr)", "--limit", "-1")
