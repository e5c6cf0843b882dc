"""Every numbered notebook runs end to end under papermill in its smoke setting, and matches its source."""
from __future__ import annotations

import json
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
