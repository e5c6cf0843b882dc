"""The chapters' first cell: a no-op outside Colab; inside Colab it clones REPO_URL, installs, and works in notebooks/."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import types

import pytest
import torch

import gapd_lite
from gapd_lite import colab
from gapd_lite.errors import ConfigError


@pytest.fixture
def fake_colab(monkeypatch):
    """A google.colab module as Colab's runtime has it, recording whether the widget manager was turned on."""
    calls = []
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("widgets"))
    google = types.ModuleType("google")
    module = types.ModuleType("google.colab")
    module.output = output
    google.colab = module
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", module)
    return calls


def run_first_cell() -> dict:
    namespace: dict = {}
    exec(compile(colab.first_cell(), "<first cell>", "exec"), namespace)
    return namespace


def test_the_first_cell_does_nothing_outside_colab(monkeypatch, tmp_path):
    assert "google.colab" not in sys.modules and not colab.in_colab()
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail(f"ran {a} outside Colab"))
    monkeypatch.chdir(tmp_path)
    run_first_cell()
    assert os.getcwd() == str(tmp_path) and colab.setup() is None


def test_the_first_cell_installs_from_the_one_repository_url_in_colab(fake_colab, monkeypatch, tmp_path):
    ran = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **k: ran.append(cmd) or (tmp_path / "notebooks").mkdir(exist_ok=True))
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gapd_lite" else find_spec(name, *a))
    monkeypatch.setattr(colab, "COLAB_ROOT", str(tmp_path))
    monkeypatch.chdir(tmp_path.parent)
    run_first_cell()
    assert ran[0] == ["git", "clone", "--depth", "1", gapd_lite.REPO_URL, str(tmp_path)]
    assert ran[1][-1] == f"{tmp_path}[{colab.EXTRAS}]" and ran[1][1:4] == ["-m", "pip", "install"]
    assert os.getcwd() == str(tmp_path / "notebooks") and fake_colab == ["widgets"]


def test_installed_colab_skips_the_install_and_a_missing_clone_says_what_to_run(fake_colab, monkeypatch, tmp_path):
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("gapd_lite is installed: nothing to install"))
    monkeypatch.setattr(colab, "COLAB_ROOT", str(tmp_path / "nowhere"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=f"notebooks is missing: run the first cell, which clones {gapd_lite.REPO_URL}"):
        run_first_cell()


@pytest.mark.parametrize("cuda, bf16, expected", [(False, False, "float32"), (True, False, "float16"), (True, True, "bfloat16")])
def test_chapter_09_picks_bf16_where_the_gpu_has_it_else_fp16(monkeypatch, cuda, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: bf16)
    assert colab.gpu_dtype() == expected
