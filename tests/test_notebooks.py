"""Every numbered notebook runs end to end under papermill in its smoke setting, and matches its source."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS][:3] == ["00", "01", "02"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_has_a_parameters_cell_with_smoke(path):
    cells = json.loads(path.read_text())["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and "smoke" in "".join(tagged[0]["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_matches_its_source(path):
    """notebooks/src/*.py (jupytext percent format) is what people edit; `make notebooks` rebuilds the .ipynb."""
    jupytext = pytest.importorskip("jupytext")
    src = jupytext.read(ROOT / "notebooks" / "src" / f"{path.stem}.py")
    built = jupytext.read(path)
    assert [c.source for c in src.cells] == [c.source for c in built.cells]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_smoke_mode(path, tmp_path):
    papermill = pytest.importorskip("papermill")
    out = tmp_path / path.name
    papermill.execute_notebook(str(path), str(out), parameters={"smoke": True}, kernel_name="python3",
                               cwd=str(path.parent), progress_bar=False)
    cells = json.loads(out.read_text())["cells"]
    errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert any(c.get("outputs") for c in cells if c["cell_type"] == "code")


def _cells(stem: str, kind: str) -> list[str]:
    jupytext = pytest.importorskip("jupytext")
    return [c.source for c in jupytext.read(ROOT / "notebooks" / "src" / f"{stem}.py").cells if c.cell_type == kind]


def test_source_markdown_names_the_function_its_file_and_line():
    import inspect

    from gapd_lite.anchors import MidAnchorMatcher
    from gapd_lite.training.losses import grpo_loss
    from gapd_lite.widgets import source_markdown

    line = inspect.getsourcelines(grpo_loss)[1]
    text = source_markdown(grpo_loss)
    assert text.startswith(f"`grpo_loss` in `gapd_lite/training/losses.py`, line {line}:")
    assert "```python\ndef grpo_loss(" in text and text.endswith("```")
    assert "```python\ndef align(self" in source_markdown(MidAnchorMatcher.align)  # a method comes dedented


# each chapter that introduces one of these functions shows its source (widgets.show_source) and then runs it
INTRODUCED = {"02_logical_forms_and_actions": ["to_actions"], "06_mid_anchor_matching": ["MidAnchorMatcher.align"],
              "07_gapd_training": ["grpo_loss", "token_divergence", "distill_loss", "gapd_update", "distill_steps",
                                   "teacher_context"]}


@pytest.mark.parametrize("stem", sorted(INTRODUCED))
def test_chapters_show_the_source_of_what_they_introduce_then_run_it(stem):
    code = _cells(stem, "code")
    for name in INTRODUCED[stem]:
        shown = [i for i, src in enumerate(code) if re.search(rf"show_source\([^)]*\b{re.escape(name)}\b", src)]
        assert shown, f"{stem} does not show the source of {name}"
        call = rf"{re.escape(name.split('.')[-1])}\("
        assert any(re.search(call, re.sub(r"show_source\([^)]*\)", "", src)) for src in code[shown[0]:]), \
            f"{stem} shows {name} but never runs it"


def test_chapter_07_uses_the_package_teacher():
    code = "\n".join(_cells("07_gapd_training", "code"))
    assert "teacher_context(" in code and "distill_steps(" in code
    assert "hint_message" not in code and "encode(" not in code  # no second way of building the teacher's input


@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOKS])
def test_notebook_text_states_no_measured_numbers(stem):
    """Measured numbers are printed by code cells from results/, so the text cannot drift from them."""
    for text in _cells(stem, "markdown"):
        assert not re.search(r"[-−]?\d+\.\d{2,}|\d\s?%", text), f"{stem}: a measured number typed in: {text[:200]}"


REMOVED = ("rl_preset", "RLSettings", "rl_update_loss", "training.rl ", "training.rl import", "max_steps",
           "env_steps", "from gapd_lite.training.trainer import preset")


@pytest.mark.parametrize("stem", [p.stem for p in NOTEBOOKS])
def test_notebook_uses_no_removed_training_names(stem):
    code = "\n".join(_cells(stem, "code"))
    assert not [name for name in REMOVED if name in code]
