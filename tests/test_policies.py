"""Bundled policies by short name: export a trained adapter into the package folder, load it back by name,
and get the same greedy turns as the adapter it came from (bf16 weights, float32 tiny model)."""
from __future__ import annotations

import fnmatch
import json
import tomllib
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gapd_lite import policies
from gapd_lite.agent.rollout import RolloutConfig, rollout
from gapd_lite.cli import main
from gapd_lite.data import load_split
from gapd_lite.env.kbqa_env import EnvConfig
from gapd_lite.errors import ConfigError
from gapd_lite.models import ModelConfig, load_policy, resolve_adapter
from gapd_lite.training.config import preset
from gapd_lite.training.trainer import train_sft

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny SFT adapter after 2 updates at a high learning rate, so it changes what the model writes."""
    out = tmp_path_factory.mktemp("run") / "sft-smoke"
    train_sft(preset("sft", "smoke", out_dir=str(out), num_updates=2, save_every=2, lr=5e-2), progress=False)
    return out / "final"


@pytest.fixture
def shelf(tmp_path, monkeypatch) -> Path:
    """An empty package folder for bundled policies, in place of gapd_lite/policies/."""
    monkeypatch.setenv(policies.ENV_DIR, str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def kb():
    from gapd_lite.kb.memory import MemoryKB
    return MemoryKB.load()


def greedy_tokens(policy, kb, questions) -> list[list[int]]:
    """Each episode's generated token ids (every turn, in order) under greedy decoding."""
    cfg = RolloutConfig(greedy=True, batch_size=4, max_new_tokens=24, env=EnvConfig(max_turns=2))
    trajs = rollout(policy.model, policy.tokenizer, kb, questions, cfg, progress=False)
    return [[i for i, m in zip(t.rendered.ids, t.rendered.mask) if m] for t in trajs]


def test_a_bundled_adapter_loads_by_name_and_plays_the_same_greedy_turns(trained, shelf, kb):
    dest = policies.bundle(trained, "sft", {"test F1": "0.0 (gapd-lite eval --adapter sft --split test --limit 40)"})
    assert dest == shelf / "sft" and policies.available() == ["sft"]
    weights = load_file(str(dest / policies.WEIGHTS))
    assert weights and all(v.dtype == torch.bfloat16 for v in weights.values())
    card = (dest / policies.CARD).read_text()
    assert "test F1" in card and "gapd-lite eval --adapter sft" in card
    assert "- **base model**: tiny" in card and "- **updates**: 2" in card and "training time" in card  # from the run

    questions = load_split("dev")[:4]
    original = load_policy(ModelConfig(name="tiny"), adapter=trained)
    by_name = load_policy(adapter="sft")  # the adapter's own ModelConfig: the tiny model, float32 on CPU
    assert by_name.config.name == "tiny" and next(by_name.model.parameters()).dtype == torch.float32
    untrained = load_policy(ModelConfig(name="tiny"), adapter="none")

    mine = {k: v for k, v in original.model.state_dict().items() if "lora_" in k}
    theirs = by_name.model.state_dict()
    assert any(v.abs().sum() > 0 for k, v in mine.items() if "lora_B" in k)  # trained: B is no longer zero
    for k, v in mine.items():  # the bundled weights are the originals rounded to bf16, nothing else
        assert torch.equal(theirs[k], v.to(torch.bfloat16).float()), k

    tokens = greedy_tokens(original, kb, questions)
    assert all(tokens) and greedy_tokens(by_name, kb, questions) == tokens
    assert greedy_tokens(untrained, kb, questions) != tokens  # the adapter matters, so equality above means something


def test_names_none_and_paths_resolve_and_a_missing_policy_says_how_to_make_it(trained, shelf):
    assert resolve_adapter("none") is None and resolve_adapter(None) is None
    assert resolve_adapter(str(trained)) == trained
    with pytest.raises(ConfigError, match=r"bundled grpo policy is not in this install; train it with "
                                          r"`gapd-lite train --method grpo .*--adapter runs/grpo-cpu-small/final"):
        resolve_adapter("grpo")
    with pytest.raises(ConfigError, match="no adapter at 'nowhere/final'.*sft, grpo, gapd"):
        resolve_adapter("nowhere/final")
    with pytest.raises(ConfigError, match="bundled sft policy"):
        load_policy(ModelConfig(name="tiny"), adapter="sft")


def test_export_adapter_cli_then_eval_by_name(trained, shelf, tmp_path, capsys, monkeypatch):
    assert main(["export-adapter", str(trained), "gapd", "--field", "machine=2 CPU cores", "--field", "seed=7"]) == 0
    card = (shelf / "gapd" / policies.CARD).read_text()
    assert "- **machine**: 2 CPU cores" in card and "- **seed**: 7" in card  # a given field replaces the run's
    assert main(["export-adapter", str(trained), "gapd", "--field", "no-equals-sign"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["eval", "--model", "tiny", "--adapter", "gapd", "--split", "dev", "--limit", "1", "--max-turns", "1",
                 "--max-new-tokens", "8", "--quiet", "--out", "e.json"]) == 0
    assert json.loads((tmp_path / "e.json").read_text())["meta"]["adapter"] == "gapd"
    assert main(["eval", "--model", "tiny", "--adapter", "grpo", "--split", "dev", "--limit", "1", "--quiet"]) == 2
    assert "gapd-lite train --method grpo" in capsys.readouterr().err


def test_wheels_carry_every_file_a_bundled_policy_has(trained, shelf):
    """pyproject's package-data for gapd_lite.policies matches each file bundle() writes."""
    dest = policies.bundle(trained, "grpo")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "gapd_lite.policies" in config["packages"]
    patterns = config["package-data"]["gapd_lite.policies"]
    for f in dest.iterdir():
        rel = f"{dest.name}/{f.name}"
        assert any(fnmatch.fnmatch(rel, p) for p in patterns), rel
    ignored = (ROOT / ".gitignore").read_text()
    assert "!gapd_lite/policies/**/*.safetensors" in ignored  # git keeps the weights that wheels ship
