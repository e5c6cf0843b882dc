"""Bad input everywhere gets a one-line error naming the problem and the fix (CLI exit code 2, no traceback)."""
from __future__ import annotations

import importlib.util

import pytest

from gapd_lite.cli import main
from gapd_lite.errors import ConfigError
from gapd_lite.models import ModelConfig, load_policy


def _run(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: ") and "Traceback" not in "\n".join(err)
    return err[-1]


@pytest.mark.parametrize("content,words", [
    ("", "holds no triples"),
    ("hello world\n", "not a valid N-Triples file"),
    ("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n", "not a Freebase-shaped KB"),
])
def test_wrong_kb_file(tmp_path, capsys, content, words):
    path = tmp_path / "kb.nt"
    path.write_text(content)
    assert words in _run(capsys, "kb-stats", "--kb", str(path))
    assert words in _run(capsys, "query", "(JOIN (R location.country.capital) m.0fr)", "--kb", str(path))


def test_missing_kb_file(tmp_path, capsys):
    assert "KB file not found" in _run(capsys, "demo", "--model", "none", "--kb", str(tmp_path / "nope.nt"))


@pytest.mark.parametrize("content,words", [
    ("", "is empty"),
    ("{not json", "neither JSON nor JSON lines"),
    ('[{"qid": 1}]', "no qid/question"),
    ('{"Questions": 3}', "a list of questions there"),
])
def test_bad_dataset_file_for_training_and_eval(tmp_path, capsys, content, words):
    path = tmp_path / "qs.json"
    path.write_text(content)
    assert words in _run(capsys, "eval", "--model", "tiny", "--split", str(path), "--quiet")
    assert words in _run(capsys, "train", "--method", "sft", "--preset", "smoke", "--questions", str(path),
                         "--out", str(tmp_path / "run"), "--quiet")


def test_unknown_split_and_model(capsys, tmp_path):
    assert "choose one of train, dev, test" in _run(capsys, "eval", "--model", "tiny", "--split", "valid")
    assert "does not exist" in _run(capsys, "eval", "--model", str(tmp_path / "no-model"), "--limit", "1")
    assert "max_classes" in _run(capsys, "eval", "--model", "tiny", "--max-classes", "-1")


@pytest.mark.parametrize("argv,words", [
    (["train", "--preset", "huge"], "unknown sft preset"),
    (["train", "--method", "gapd", "--preset", "smoke", "--lam", "-1"], "lam"),
    (["train", "--method", "sft", "--preset", "smoke", "--num-updates", "0"], "num_updates=0"),
    (["train", "--method", "sft", "--preset", "smoke", "--lam", "0.5"], "--lam does not apply to --method sft"),
    (["train", "--method", "gapd", "--preset", "smoke", "--function-repeat", "2"], "does not apply to --method gapd"),
    (["train", "--method", "grpo", "--preset", "smoke", "--lam", "0.5"], "GRPO means"),
    (["eval", "--model", "tiny", "--batch-size", "0"], "--batch-size and --max-new-tokens"),
    (["train", "--method", "sft", "--preset", "smoke", "--lr", "3"], "lr=3.0"),
    (["experiment", "--arms", "grpo-no-explore"], "unknown arm"),
    (["bench", "kb", "--limit", "0"], "--limit and --repeat"),
    (["experiment", "--arms", "grpo,magic"], "unknown arm"),
    (["query", "(JOIN (R location.country.capital) m.0fr)", "--backend", "http"], "needs --kb-endpoint"),
    (["query", "(JOIN (R location.country.capital) m.0fr)", "--kb-endpoint", "ftp://x/sparql"], "http(s) URL"),
    (["kb-stats", "--kb-endpoint", "http://127.0.0.1:9/sparql"], "drop --kb-endpoint"),
])
def test_bad_flags(capsys, argv, words):
    assert words in _run(capsys, *argv)


def test_missing_gguf_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else real(name, *a))
    from gapd_lite import models
    models.clear_model_cache()
    with pytest.raises(ConfigError, match="pip install gguf"):
        load_policy(ModelConfig(name="embedded"))


def test_bitsandbytes_4bit_without_bitsandbytes(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "bitsandbytes" else real(name, *a))
    with pytest.raises(ConfigError, match="needs bitsandbytes: pip install bitsandbytes"):
        load_policy(ModelConfig(name="tiny", quantize="4bit"), device="cpu")


@pytest.mark.parametrize("params,words", [
    ({"smoke": "yes"}, "smoke"),
    ({"n_questions": 0}, "n_questions"),
])
def test_notebook_parameters_are_validated(params, words):
    from gapd_lite.notebook_params import check_params
    with pytest.raises(ConfigError, match=words):
        check_params({"smoke": True, "n_questions": 8, **params}, smoke=bool, n_questions=int)


def test_a_flag_of_another_benchmark_is_refused(capsys):
    """`bench` is one subcommand per benchmark, each with only its own flags."""
    from gapd_lite.cli import main
    with pytest.raises(SystemExit):
        main(["bench", "kb", "--adapter", "x"])
    assert "unrecognized arguments: --adapter x" in capsys.readouterr().err
