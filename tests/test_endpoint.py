"""The HTTP SPARQL backend against a real `oxigraph serve` on loopback: same answers, clear faults."""
from __future__ import annotations

import pytest

from gapd_lite.errors import ConfigError, EndpointError, KBError
from gapd_lite.kb.server import OxigraphServer
from gapd_lite.kb.sparql import HttpKB
from gapd_lite.logic.execute import execute, run_actions
from gapd_lite.logic.sexpr import parse
from gapd_lite.logic.to_actions import to_actions
from gapd_lite.logic.to_sparql import to_sparql
from tests.test_logic_semantics import CASES


@pytest.fixture(scope="module")
def tiny_server(tiny_nt):
    with OxigraphServer(tiny_nt) as server:
        yield server


@pytest.mark.parametrize("form,expected", CASES, ids=[c[0][:70] for c in CASES])
def test_endpoint_answers_like_the_embedded_stores(form, expected, tiny_server, tiny_kbs):
    kb = HttpKB(tiny_server.url, timeout=10)
    tree = parse(form)
    assert set(execute(tree, kb)) == expected
    assert set(kb.run_query(to_sparql(tree))) == expected
    assert set(run_actions(kb, to_actions(tree))[1]) == expected
    assert kb.names(["m.0fr", "m.0paris"]) == tiny_kbs["oxigraph"].names(["m.0fr", "m.0paris"])


def test_endpoint_down_at_start_is_a_clear_error():
    with pytest.raises(EndpointError, match="cannot connect.*Start the endpoint"):
        HttpKB("http://127.0.0.1:9/query", timeout=2)


def test_endpoint_restart_mid_run(tiny_server):
    kb = HttpKB(tiny_server.url, timeout=5, retries=1, backoff=0.1)
    assert kb.follow(["m.0fr"], "location.country.capital") == {"m.0paris"}
    tiny_server.stop()
    with pytest.raises(EndpointError, match="cannot connect"):
        kb.follow(["m.0fr"], "location.country.capital")
    tiny_server.start()
    assert kb.follow(["m.0fr"], "location.country.capital") == {"m.0paris"}


def test_bad_endpoint_url_is_a_config_error():
    with pytest.raises(ConfigError, match="must be an http"):
        HttpKB("ftp://example.org/sparql")


def test_queries_refuse_untrusted_text(tiny_server):
    kb = HttpKB(tiny_server.url, timeout=5)
    for bad in ["m.0fr> } ; DROP ALL ; {", "a.b.c } SERVICE <http://evil/> {", 'x" . ?s ?p ?o', "<http://x>"]:
        with pytest.raises(KBError, match="refusing"):
            kb.follow([bad], "location.country.capital")
        with pytest.raises(KBError, match="refusing"):
            kb.follow(["m.0fr"], bad)
