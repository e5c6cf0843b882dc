"""The commands users run, end to end on the tiny model: train, eval, experiment (results table and plots)."""
from __future__ import annotations

import json

from gapd_lite.cli import main
from gapd_lite.experiment import ExperimentConfig, run_experiment


def test_train_then_eval_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--method", "sft", "--preset", "smoke", "--quiet", "--out", "runs/s"]) == 0
    assert json.loads(capsys.readouterr().out)["updates"] == 4
    assert main(["eval", "--model", "tiny", "--adapter", "runs/s/final", "--split", "dev", "--limit", "3",
                 "--max-turns", "2", "--max-new-tokens", "8", "--max-classes", "0", "--quiet", "--out", "results/e.json"]) == 0
    report = json.loads((tmp_path / "results" / "e.json").read_text())
    assert report["meta"]["env"]["max_classes"] == 0 and report["meta"]["env"]["max_turns"] == 2  # how it was run
    assert report["overall"]["n"] == 3 and len(report["episodes"]) == 3 and set(report["by_level"])
    for episode in report["episodes"]:  # what the agent wrote and was told, turn by turn, to read back later
        assert len(episode["transcript"]) == episode["turns"] > 0
        assert all(set(t) >= {"wrote", "told"} and len(t["wrote"]) <= 320 for t in episode["transcript"])
    assert (tmp_path / "results" / "e.png").exists()


def test_train_dtype_flag_keeps_the_presets_model(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--method", "sft", "--preset", "smoke", "--quiet", "--out", "runs/b", "--num-updates", "1",
                 "--dtype", "bfloat16"]) == 0
    model = json.loads((tmp_path / "runs" / "b" / "config.json").read_text())["model"]
    assert model["name"] == "tiny" and model["dtype"] == "bfloat16" and model["tiny_layers"] == 2
    assert (tmp_path / "runs" / "b" / "final" / "adapter_config.json").exists()


def test_gapd_train_cli_and_resume(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["train", "--method", "gapd", "--preset", "smoke", "--quiet", "--out", "runs/g", "--lam", "0.3"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(args) == 0  # a finished run reruns as a no-op resume
    again = json.loads(capsys.readouterr().out)
    assert first["updates"] == again["updates"] == again["resumed_from"] == 2
    log = [json.loads(line) for line in (tmp_path / "runs" / "g" / "log.jsonl").read_text().splitlines()]
    assert [r["lambda"] for r in log] == [0.3, 0.3]


def test_experiment_writes_table_json_and_curves(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    summary = run_experiment(ExperimentConfig(preset="smoke", arms=("grpo", "gapd"), eval_limit=4, seeds=(0,),
                                              heldout_every=1, results_dir=str(tmp_path / "results")))
    assert list(summary["arms"]) == ["sft (warm start)", "grpo", "gapd"]
    table = (tmp_path / "results" / "experiment_smoke.md").read_text()
    assert "| gapd |" in table and "F1 zero-shot" in table
    assert (tmp_path / "results" / "experiment_smoke_curves.png").exists()
    curve = json.loads((tmp_path / "results" / "experiment_smoke.json").read_text())["arms"]["grpo"]["curve"]
    assert curve and all("zero_advantage_groups" in c and c["heldout_gold_logp"] < 0 for c in curve)
    paired = json.loads((tmp_path / "results" / "gapd_vs_grpo.json").read_text())  # the paired protocol
    assert paired["seeds"] == [0] and paired["n_questions"] == 4
    assert {"all", "functions"} <= set(paired["diff_gapd_minus_grpo"]) and set(paired["arms"]) == {"grpo", "gapd"}
    assert paired["sampled_episodes_per_arm"]["gapd"] == paired["sampled_episodes_per_arm"]["grpo"] > 0
    d = paired["diff_gapd_minus_grpo"]["all"]
    assert d["ci95"][0] <= d["mean"] <= d["ci95"][1]
    assert "| all |" in (tmp_path / "results" / "gapd_vs_grpo.md").read_text()
    assert (tmp_path / "results" / "gapd_vs_grpo.png").exists()


def test_demo_main_job_runs_every_section(tmp_path, capsys, monkeypatch):
    """`gapd-lite demo` (what `make demo` runs), with the tiny model standing in for the embedded one."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--questions", "1", "--model", "tiny"]) == 0
    out = capsys.readouterr().out
    for section in ("[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"):
        assert section in out
    assert "answers match the stored ones: True" in out
    assert "aligned gold action:" in out and "λ=0.5 × distillation" in out


def test_experiment_with_two_seeds_then_collect_only(tmp_path, monkeypatch, capsys):
    """Every arm once per seed from the same warm start; the table shows the mean and each seed; --no-train
    collects finished runs and leaves unfinished ones out instead of training them."""
    monkeypatch.chdir(tmp_path)
    results = str(tmp_path / "results")
    summary = run_experiment(ExperimentConfig(preset="smoke", arms=("grpo",), seeds=(0, 1), num_updates=1, eval_limit=2,
                                              results_dir=results))
    grpo = summary["arms"]["grpo"]
    assert set(grpo["seeds"]) == {"0", "1"} and all(v["updates"] == 1 for v in grpo["seeds"].values())
    f1s = [v["overall"]["f1"] for v in grpo["seeds"].values()]
    assert abs(grpo["overall"]["f1"] - sum(f1s) / 2) < 1e-9
    assert (tmp_path / "runs" / "exp-smoke-grpo" / "final").is_dir() and (tmp_path / "runs" / "exp-smoke-grpo-s1" / "final").is_dir()
    assert "(" in (tmp_path / "results" / "experiment_smoke.md").read_text().split("| grpo |")[1].split("|")[0]
    assert main(["experiment", "--preset", "smoke", "--arms", "grpo,gapd", "--seeds", "0,1", "--eval-limit", "2",
                 "--results-dir", results, "--no-train"]) == 0
    out = capsys.readouterr().out
    assert "gapd: not trained and scored yet" in out and "gapd-s1: not trained" in out
    assert not (tmp_path / "runs" / "exp-smoke-gapd").exists()
    assert json.loads((tmp_path / "results" / "experiment_smoke.json").read_text())["seeds"] == [0, 1]


def test_time_budget_stops_cleanly_and_a_rerun_continues(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["train", "--method", "sft", "--preset", "smoke", "--quiet", "--out", "runs/t", "--max-minutes", "1e-6"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out.split("\n", 1)[1])  # a line saying why it stopped, then the JSON
    assert first["updates"] == 1 and (tmp_path / "runs" / "t" / "final" / "adapter_config.json").exists()
    log = [json.loads(line) for line in (tmp_path / "runs" / "t" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["stopped"].startswith("time budget")
    assert main(args[:-2]) == 0  # no budget: resumes from update 1 and finishes the 4
    again = json.loads(capsys.readouterr().out)
    assert again["resumed_from"] == 1 and again["updates"] == 4


def test_hint_check_cli(tmp_path, capsys):
    out = tmp_path / "hc.json"
    assert main(["hint-check", "--model", "tiny", "--limit", "2", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["questions"] == 2 and result["action_tokens"] > 0
    assert abs(result["gain"] - (result["teacher_logp"] - result["student_logp"])) < 1e-9


def test_stratified_eval_keeps_every_function_question():
    from gapd_lite.data import load_split
    from gapd_lite.experiment import eval_questions

    test = load_split("test")
    qs = eval_questions(test, 300, "stratified")
    hard = [q for q in test if q.function not in (None, "none")]
    assert len(qs) == 300 and all(q in qs for q in hard) and len(hard) < 300
    assert eval_questions(test, 0, "stratified") == test and len(eval_questions(test, 50, "even")) == 50
    few = eval_questions(test, 4, "stratified")  # fewer places than function questions: 4 of them, spread
    assert len(few) == 4 and all(q in hard for q in few)
