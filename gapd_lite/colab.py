"""Colab for the chapters: the first cell installs gapd-lite only inside Colab, and chapter 09 picks the GPU's dtype.

The first cell cannot import gapd_lite (in a fresh Colab it is not there yet), so it carries the repository URL
itself; `first_cell()` writes that cell from REPO_URL, the one place the URL is kept.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from . import REPO_URL
from .errors import ConfigError

COLAB_ROOT = "/content/gapd_lite"  # where the first cell clones the repository in Colab
EXTRAS = "model,notebooks,gpu"

FIRST_CELL = '''# Colab: fetch and install gapd-lite once (a few minutes); anywhere else this cell changes nothing.
import importlib.util, subprocess, sys
if "google.colab" in sys.modules and importlib.util.find_spec("gapd_lite") is None:
    subprocess.run(["git", "clone", "--depth", "1", "{url}", "{root}"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{root}[{extras}]"], check=True)
from gapd_lite.colab import setup
setup()'''


def in_colab() -> bool:
    """Whether this kernel runs in Google Colab (its runtime imports google.colab before any cell)."""
    return "google.colab" in sys.modules


def first_cell() -> str:
    """The source of each chapter's first cell: install from REPO_URL inside Colab, then `setup()`; a no-op elsewhere."""
    return FIRST_CELL.format(url=REPO_URL, root=COLAB_ROOT, extras=EXTRAS)


def setup() -> Path | None:
    """In Colab: work in the clone's notebooks/ (chapters read ../results and ../data_samples from there) and turn on
    Colab's widget manager; elsewhere do nothing and return None."""
    if not in_colab():
        return None
    notebooks = Path(COLAB_ROOT) / "notebooks"
    if not notebooks.is_dir():
        raise ConfigError(f"{notebooks} is missing: run the first cell, which clones {REPO_URL} to {COLAB_ROOT}")
    os.chdir(notebooks)
    try:
        from google.colab import output  # type: ignore[import-not-found]
        output.enable_custom_widget_manager()  # ipywidgets 8 outputs need it in Colab
    except (ImportError, AttributeError):
        pass
    print(f"gapd_lite in Colab: working in {notebooks}")
    return notebooks


def gpu_dtype() -> str:
    """The dtype chapter 09 trains in: bfloat16 on a GPU that has it, float16 on one without (a free Colab T4),
    float32 without a GPU; the same choice ModelConfig(dtype="auto") makes."""
    from .models import ModelConfig, resolve_device, resolve_dtype

    return str(resolve_dtype(ModelConfig(), resolve_device())).removeprefix("torch.")
