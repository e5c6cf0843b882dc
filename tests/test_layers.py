"""Imports point down the layer order of gapd_lite/layers.py, and no module reaches itself through imports.

Every `import` and `from ... import` in the package is read with `ast`, at module level and inside
functions (a local import still runs, so it still counts), relative and absolute alike.
"""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from gapd_lite.layers import LAYERS, layer_of, rank

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gapd_lite"

Edge = tuple[str, str, int, str]  # (importer, importer's path, line, imported module)


def module_name(path: Path) -> str:
    """gapd_lite/kb/base.py → gapd_lite.kb.base; a package's __init__.py → the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_sources() -> dict[str, tuple[str, str]]:
    """Every module of the package: name → (path relative to the repository, source)."""
    return {module_name(p): (str(p.relative_to(ROOT)), p.read_text()) for p in sorted(PACKAGE.rglob("*.py"))}


def imports_in(module: str, path: str, source: str, known: set[str]) -> list[Edge]:
    """The gapd_lite modules that `source` imports anywhere, resolved to the most specific known module."""
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    edges: list[Edge] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from pkg import submodule` imports the submodule; `from mod import name` imports mod
            targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names]
        else:
            continue
        for target in dict.fromkeys(targets):
            if target == "gapd_lite" or target.startswith("gapd_lite."):
                edges.append((module, path, node.lineno, target))
    return edges


def all_imports(sources: dict[str, tuple[str, str]]) -> list[Edge]:
    known = set(sources)
    return [e for name, (path, source) in sources.items() for e in imports_in(name, path, source, known)]


def layer_violations(edges: list[Edge], sources: dict[str, tuple[str, str]]) -> list[str]:
    """One message per module outside the table and per import of a higher layer."""
    problems = [f"{path} is in no layer: add its top-level name to LAYERS in gapd_lite/layers.py"
                for name, (path, _) in sources.items() if layer_of(name) is None]
    for importer, path, line, target in edges:
        low, high = layer_of(importer), layer_of(target)
        if low is None:
            continue
        if high is None:
            problems.append(f"{path}:{line} imports {target}, which is in no layer of gapd_lite/layers.py")
        elif rank(high) > rank(low):
            problems.append(f"{path}:{line} imports {target}: {low} may not import {high}")
    return problems


def missing_modules(edges: list[Edge], sources: dict[str, tuple[str, str]]) -> list[str]:
    """One message per import of a gapd_lite module that does not exist (a move left an importer behind)."""
    return [f"{path}:{line} imports {target}, which is no module of the package"
            for _, path, line, target in edges if target not in sources]


def import_cycles(edges: list[Edge]) -> list[str]:
    """One message per cycle in the module graph, each hop with the line that makes it."""
    graph = nx.DiGraph()
    where: dict[tuple[str, str], str] = {}
    for importer, path, line, target in edges:
        if importer != target:
            graph.add_edge(importer, target)
            where.setdefault((importer, target), f"{path}:{line}")
    messages = []
    for cycle in nx.simple_cycles(graph):
        start = cycle.index(min(cycle))  # the same cycle always reads from the same module
        cycle = cycle[start:] + cycle[:start]
        hops = zip(cycle, cycle[1:] + cycle[:1])
        messages.append("import cycle: " + " -> ".join(f"{a} ({where[a, b]})" for a, b in hops) + f" -> {cycle[0]}")
    return sorted(messages)


# ---------------------------------------------------------------------------- the package itself
def test_the_package_imports_only_down_the_layers():
    sources = package_sources()
    problems = layer_violations(all_imports(sources), sources)
    assert not problems, "imports against the layer order (gapd_lite/layers.py):\n" + "\n".join(problems)


def test_every_imported_module_exists():
    sources = package_sources()
    missing = missing_modules(all_imports(sources), sources)
    assert not missing, "\n".join(missing)


def test_the_package_has_no_import_cycle():
    cycles = import_cycles(all_imports(package_sources()))
    assert not cycles, "\n".join(cycles)


def test_the_walk_sees_the_package():
    """The walk reads the real tree: known modules and a known downward import are there."""
    sources = package_sources()
    assert {"gapd_lite.kb.base", "gapd_lite.logic.actions", "gapd_lite.agent.trajectory"} <= set(sources)
    edges = {(a, b) for a, _, _, b in all_imports(sources)}
    assert ("gapd_lite.logic.execute", "gapd_lite.kb.base") in edges
    assert ("gapd_lite.env.kbqa_env", "gapd_lite.logic.actions") in edges


def test_every_layer_is_named_once():
    tops = [top for _, names in LAYERS for top in names]
    assert len(tops) == len(set(tops))
    assert [name for name, _ in LAYERS][:3] == ["base", "kb", "logic"]


# ---------------------------------------------------------------------------- the guard catches what it should
FAKE = {
    "gapd_lite.kb": ("gapd_lite/kb/__init__.py", "from .base import KB\n"),
    "gapd_lite.kb.base": ("gapd_lite/kb/base.py", "import json\n\n\ndef f():\n    from ..logic.execute import compare_filter\n"),
    "gapd_lite.logic.execute": ("gapd_lite/logic/execute.py", "from ..kb.base import KB\nfrom gapd_lite import kb\n"),
    "gapd_lite.bench": ("gapd_lite/bench.py", "def g():\n    from . import gpu_bench\n"),
    "gapd_lite.gpu_bench": ("gapd_lite/gpu_bench.py", "import gapd_lite.bench\n"),
}


def test_a_planted_upward_import_inside_a_function_is_named_with_its_line():
    problems = layer_violations(all_imports(FAKE), FAKE)
    assert problems == ["gapd_lite/kb/base.py:5 imports gapd_lite.logic.execute: kb may not import logic"]


def test_planted_cycles_are_found_through_local_relative_and_absolute_imports():
    cycles = import_cycles(all_imports(FAKE))
    assert len(cycles) == 3
    assert any("gapd_lite.bench (gapd_lite/bench.py:2) -> gapd_lite.gpu_bench (gapd_lite/gpu_bench.py:1)" in c
               for c in cycles)
    assert any("gapd_lite.kb.base (gapd_lite/kb/base.py:5) -> gapd_lite.logic.execute" in c for c in cycles)


def test_an_import_of_a_moved_module_is_reported():
    fake = dict(FAKE, **{"gapd_lite.agent.rollout": ("gapd_lite/agent/rollout.py", "from ..env.actions import Var\n")})
    assert missing_modules(all_imports(fake), fake) == [
        "gapd_lite/agent/rollout.py:1 imports gapd_lite.env.actions, which is no module of the package"]


def test_a_module_outside_the_table_is_reported():
    fake = {"gapd_lite.newthing": ("gapd_lite/newthing.py", "from .errors import ConfigError\n"),
            "gapd_lite.errors": ("gapd_lite/errors.py", "from .newthing import x\n")}
    problems = layer_violations(all_imports(fake), fake)
    assert "gapd_lite/newthing.py is in no layer: add its top-level name to LAYERS in gapd_lite/layers.py" in problems
    assert "gapd_lite/errors.py:1 imports gapd_lite.newthing, which is in no layer of gapd_lite/layers.py" in problems


def test_the_training_loop_is_the_one_place_that_calls_backward():
    """Loss functions return losses; `training.loop.backprop` is the package's only backward (fast paths yield
    parts, and the loop backpropagates each as it comes)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "gapd_lite"
    calls = [f"{p.relative_to(root)}:{i}" for p in sorted(root.rglob("*.py"))
             for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\.backward\(", line)]
    assert len(calls) == 1 and calls[0].startswith("training/loop.py:"), calls
