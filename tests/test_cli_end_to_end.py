"""The commands users run, end to end on the tiny model: train, eval, experiment (results table and plots)."""
from __future__ import annotations

import json

from gapd_lite.cli import main
from gapd_lite.experiment import ExperimentConfig, run_experiment


def test_train_then_eval_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--method", "sft", "--preset", "smoke", "--quiet", "--out", "runs/s"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 4
    assert main(["eval", "--model", "tiny", "--adapter", "runs/s/final", "--split", "dev", "--limit", "3",
                 "--max-steps", "2", "--max-new-tokens", "8", "--quiet", "--out", "results/e.json"]) == 0
    report = json.loads((tmp_path / "results" / "e.json").read_text())
    assert report["overall"]["n"] == 3 and len(report["episodes"]) == 3 and set(report["by_level"])
    assert (tmp_path / "results" / "e.png").exists()


def test_gapd_train_cli_and_resume(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["train", "--method", "gapd", "--preset", "smoke", "--quiet", "--out", "runs/g", "--lam", "0.3"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(args) == 0  # a finished run reruns as a no-op resume
    again = json.loads(capsys.readouterr().out)
    assert first["steps"] == again["steps"] == again["resumed_from"] == 2
    log = [json.loads(line) for line in (tmp_path / "runs" / "g" / "log.jsonl").read_text().splitlines()]
    assert [r["lambda"] for r in log] == [0.3, 0.3]


def test_experiment_writes_table_json_and_curves(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    summary = run_experiment(ExperimentConfig(preset="smoke", arms=("grpo", "gapd"), eval_limit=2,
                                              results_dir=str(tmp_path / "results")))
    assert list(summary["arms"]) == ["sft (warm start)", "grpo", "gapd"]
    table = (tmp_path / "results" / "experiment_smoke.md").read_text()
    assert "| gapd |" in table and "F1 zero-shot" in table
    assert (tmp_path / "results" / "experiment_smoke_curves.png").exists()
    assert json.loads((tmp_path / "results" / "experiment_smoke.json").read_text())["arms"]["grpo"]["curve"]


def test_demo_main_job_runs_every_section(tmp_path, capsys, monkeypatch):
    """`gapd-lite demo` (what `make demo` runs), with the tiny model standing in for the embedded one."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--questions", "1", "--model", "tiny"]) == 0
    out = capsys.readouterr().out
    for section in ("[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"):
        assert section in out
    assert "answers match the stored ones: True" in out
    assert "aligned gold action:" in out and "λ=0.5 × distillation" in out
