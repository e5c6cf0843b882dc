"""Shared fixtures: a tiny hand-checked KB on every local backend, and the bundled KB."""
from __future__ import annotations

import os

import pytest
import torch

if os.environ.get("PYTEST_XDIST_WORKER"):  # `pytest -n 2` on 2 cores: one thread per worker (and per notebook
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # kernel, which inherits this), never 4 threads fighting for 2 cores
    torch.set_num_threads(1)

from gapd_lite.kb.io import to_ntriples_line
from gapd_lite.kb.memory import MemoryKB
from gapd_lite.kb.sparql import OxigraphKB, RdflibKB
from gapd_lite.kb.terms import Literal

I = lambda n: Literal.typed(str(n), "integer")  # noqa: E731
F = lambda x: Literal.typed(str(x), "float")  # noqa: E731
D = lambda s, t="date": Literal.typed(s, t)  # noqa: E731
EN = lambda s: Literal.typed(s, "string", "en")  # noqa: E731


def tiny_triples():
    """Facts small enough to check by hand; every expected answer in the tests follows from these lines."""
    t = []
    def ent(mid, name, *types):
        t.append((mid, "type.object.name", EN(name)))
        for ty in types:
            t.append((mid, "type.object.type", ty))
    ent("m.0fr", "France", "location.country", "location.location")
    ent("m.0de", "Germany", "location.country", "location.location")
    ent("m.0es", "Spain", "location.country", "location.location")
    ent("m.0uk", "United Kingdom", "location.country", "location.location")
    ent("m.0paris", "Paris", "location.citytown", "location.location")
    ent("m.0lyon", "Lyon", "location.citytown", "location.location")
    ent("m.0berlin", "Berlin", "location.citytown", "location.location")
    ent("m.0madrid", "Madrid", "location.citytown", "location.location")
    ent("m.0london", "London", "location.citytown", "location.location")
    ent("m.0eu", "European Union", "organization.membership_organization")
    ent("m.0euro", "Euro", "finance.currency")
    for c, cap in [("m.0fr", "m.0paris"), ("m.0de", "m.0berlin"), ("m.0es", "m.0madrid"), ("m.0uk", "m.0london")]:
        t.append((c, "location.country.capital", cap))
    for city, c in [("m.0paris", "m.0fr"), ("m.0lyon", "m.0fr"), ("m.0berlin", "m.0de"), ("m.0madrid", "m.0es"), ("m.0london", "m.0uk")]:
        t.append((city, "location.location.containedby", c))
        t.append((c, "location.location.contains", city))
    for c in ("m.0fr", "m.0de", "m.0es"):
        t.append((c, "location.country.currency_used", "m.0euro"))
    # areas (km², float) and populations as dated CVTs
    for c, area in [("m.0fr", 551695.0), ("m.0de", 357022.0), ("m.0es", 505992.0), ("m.0uk", 242495.0)]:
        t.append((c, "location.location.area", F(area)))
    pops = {"m.0fr": [(1952, 42459667), (2007, 61083916)], "m.0de": [(1952, 69145952), (2007, 82400996)],
            "m.0es": [(2007, 40448191)], "m.0uk": [(2007, 60776238)]}
    for c, rows in pops.items():
        for year, n in rows:
            cvt = f"m.0pop{c[3:]}{year}"
            t += [(cvt, "type.object.type", "measurement_unit.dated_integer"), (c, "location.statistical_region.population", cvt),
                  (cvt, "measurement_unit.dated_integer.number", I(n)), (cvt, "measurement_unit.dated_integer.year", D(str(year), "gYear"))]
    # EU memberships: from/to as dates and years (mixed precision on purpose)
    for c, start, end in [("m.0fr", D("1958-01-01"), None), ("m.0de", D("1958-01-01"), None),
                          ("m.0es", D("1986", "gYear"), None), ("m.0uk", D("1973-01-01"), D("2020-01-31"))]:
        cvt = f"m.0mem{c[3:]}"
        t += [(cvt, "type.object.type", "organization.organization_membership"),
              (c, "organization.organization_member.member_of", cvt), (cvt, "organization.organization_membership.organization", "m.0eu"),
              (cvt, "organization.organization_membership.member", c), (cvt, "organization.organization_membership.from", start)]
        if end:
            t.append((cvt, "organization.organization_membership.to", end))
    # founding years for argmin ties: Paris and Lyon share one (fictional tie for the test)
    for city, y in [("m.0paris", "0250"), ("m.0lyon", "0250"), ("m.0berlin", "1237"), ("m.0madrid", "0865"), ("m.0london", "0047")]:
        t.append((city, "location.dated_location.date_founded", D(y, "gYear")))
    return t


@pytest.fixture(scope="session")
def tiny_nt(tmp_path_factory):
    path = tmp_path_factory.mktemp("kb") / "tiny.nt"
    path.write_text("\n".join(to_ntriples_line(*tr) for tr in tiny_triples()) + "\n")
    return path


@pytest.fixture(scope="session")
def tiny_kbs(tiny_nt):
    """The tiny KB on the memory, rdflib and pyoxigraph backends."""
    return {"memory": MemoryKB.load(tiny_nt), "rdflib": RdflibKB(tiny_nt), "oxigraph": OxigraphKB(tiny_nt)}


@pytest.fixture(scope="session")
def bundled_kb():
    """The bundled Freebase subset in memory (loaded once per session)."""
    return MemoryKB.load()


@pytest.fixture(scope="session")
def embedded_policy():
    """The embedded SmolLM2-135M-Instruct with a fresh LoRA (no dropout), loaded once per test session."""
    from gapd_lite.models import ModelConfig, load_policy
    return load_policy(ModelConfig(lora_dropout=0.0))
