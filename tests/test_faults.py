"""Faults and hostile input on a real `oxigraph serve` over loopback: an endpoint that dies mid-episode,
training that goes on without it, and model-written actions that try to change a query's shape."""
from __future__ import annotations

import re

import pytest
import torch

from gapd_lite.agent.rollout import RolloutConfig, rollout
from gapd_lite.data import Answer, Question
from gapd_lite.env.kbqa_env import EnvConfig, KBQAEnv
from gapd_lite.kb.server import OxigraphServer
from gapd_lite.kb.sparql import HttpKB
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.training.config import GAPDConfig
from gapd_lite.training.gapd import gapd_update, sample_batch

CAPITAL = Question("t-capital", "What is the capital of France?", "(JOIN (R location.country.capital) m.0fr)",
                   answer=[Answer("Entity", "m.0paris", "Paris")])


class RecordingKB(HttpKB):
    """An HttpKB that keeps every query it sends and can kill its server after a number of queries."""

    def __init__(self, server: OxigraphServer, die_after: int | None = None):
        self.sent: list[str] = []
        self.server, self.die_after = server, die_after
        super().__init__(server.url, timeout=5, retries=1, backoff=0.05)

    def _post(self, query: str, retries: int | None = None) -> dict:
        self.sent.append(query)
        if self.die_after is not None and len(self.sent) > self.die_after and self.server.running:
            self.server.stop()
        return super()._post(query, retries)


@pytest.fixture()
def server(tiny_nt):
    with OxigraphServer(tiny_nt) as srv:
        yield srv


@pytest.fixture(scope="module")
def tiny_policy():
    return load_policy(ModelConfig(name="tiny"))


def test_endpoint_dying_mid_episode_marks_it_failed_and_restart_recovers(server):
    kb = RecordingKB(server)
    env = KBQAEnv(kb, CAPITAL.question, {"m.0fr": "France"}, EnvConfig(max_turns=5))
    first = env.step("<action>get_neighbors(m.0fr, location.country.capital)</action>")
    assert first.valid and "Paris" in first.observation
    server.stop()
    second = env.step("<action>get_relations(#0)</action>")  # must not raise
    assert env.done and env.failed and "cannot connect" in env.failed
    assert second.error.startswith("KB failure") and "did not answer" in second.observation
    server.start()
    again = KBQAEnv(kb, CAPITAL.question, {"m.0fr": "France"})
    assert "Paris" in again.step("<action>get_neighbors(m.0fr, location.country.capital)</action>").observation


def test_rl_update_goes_on_when_the_endpoint_dies_mid_rollout(server, tiny_policy, monkeypatch):
    """Bounded retries, then the episode is failed (no reward, no gradient, counted) and the update still runs."""
    import gapd_lite.agent.rollout as ro

    turn = tiny_policy.tokenizer.encode("<think>go</think><action>get_neighbors(m.0fr, location.country.capital)"
                                        "</action>", add_special_tokens=False)
    # a scripted policy (the random tiny model rarely writes a valid action): every turn queries the KB
    monkeypatch.setattr(ro, "generate_turns", lambda model, tok, contexts, config, kvs: ([list(turn) for _ in contexts],
                                                                                         [None] * len(contexts)))
    kb = RecordingKB(server, die_after=8)  # the server is killed after a few queries, inside the rollout
    settings = GAPDConfig(group_size=2, lam=0.5, max_new_tokens=12, max_turns=3)
    batch = sample_batch(tiny_policy, kb, [CAPITAL], settings, seed=0)
    assert not server.running
    failed = [t.failed is not None for t in batch.trajectories]
    assert any(failed)
    for t, f in zip(batch.trajectories, failed):
        if f:
            assert batch.advantages[t.sample] == 0 and batch.rewards[t.sample] == 0
    loss, stats = gapd_update(tiny_policy, batch, settings, settings.lam)
    assert torch.isfinite(loss) and stats["failed_episodes"] == sum(failed)
    loss.backward()  # nothing corrupt: a normal backward pass
    tiny_policy.model.zero_grad()
    server.start()
    healthy = sample_batch(tiny_policy, RecordingKB(server), [CAPITAL], settings, seed=0)
    assert all(t.failed is None for t in healthy.trajectories)
    assert all("Paris" in t.steps[0].observation for t in healthy.trajectories)


def _shape(query: str) -> str:
    """The query with every string literal blanked: what an injection would have to change."""
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', query)


HOSTILE = [
    'get_relations(m.0fr> } ; DROP ALL ; {)',
    'get_neighbors(m.0fr, location.country.capital } SERVICE <http://evil.example/> {)',
    "get_neighbors(m.0fr, location.country.capital'; DROP ALL; #)",
    'get_neighbors(m.0fr} INSERT DATA { <a> <b> <c> }, location.country.capital)',
    'ge(location.location.area, "1" } ; DROP ALL ; { "")',
    'filter_class(#0, location.country } UNION { ?s ?p ?o)',
    'get_instances(location.country ; CLEAR ALL)',
    'time_filter(#0, location.location.containedby, "2011\\"}"^^xsd:gYear)',
]


@pytest.mark.parametrize("call", HOSTILE)
def test_hostile_actions_are_rejected_before_any_query(server, call):
    kb = RecordingKB(server)
    before = len(kb.sent)
    env = KBQAEnv(kb, CAPITAL.question, {"m.0fr": "France"})
    env.step("<action>get_neighbors(m.0fr, location.country.capital)</action>")
    sent_for_setup = len(kb.sent)
    record = env.step(f"<action>{call}</action>")
    assert record.error and record.observation.startswith("Error:") and not env.failed
    assert len(kb.sent) == sent_for_setup >= before  # the hostile call never reached the endpoint


def test_escaped_string_literals_never_change_a_query_shape(server):
    """A string literal full of SPARQL is accepted as a value, escaped, and the query keeps its shape."""
    kb = RecordingKB(server)
    env = KBQAEnv(kb, CAPITAL.question, {"m.0fr": "France"})
    env.step("<action>get_instances(location.country)</action>")
    benign, hostile = 'ge(#0, type.object.name, "abc")', 'ge(#0, type.object.name, "x\\" } DROP ALL { SERVICE <http://e/> {")'
    n = len(kb.sent)
    env.step(f"<action>{benign}</action>")
    benign_queries = kb.sent[n:]
    n = len(kb.sent)
    record = env.step(f"<action>{hostile}</action>")
    hostile_queries = kb.sent[n:]
    assert hostile_queries and not env.failed, record.observation
    assert [_shape(q) for q in hostile_queries] == [_shape(q) for q in benign_queries]
    for q in hostile_queries:
        assert not re.search(r"\b(DROP|SERVICE|INSERT|DELETE|CLEAR|LOAD)\b", _shape(q))
    # the store still holds every fact
    assert kb.follow(["m.0fr"], "location.country.capital") == {"m.0paris"}


@pytest.fixture(scope="module")
def bundled_server():
    with OxigraphServer() as srv:  # the bundled Freebase subset, served on loopback
        yield srv


@pytest.mark.slow
def test_kb_commands_run_on_an_endpoint(bundled_server, tmp_path, monkeypatch, capsys):
    """demo, eval and train (SFT and GAPD) read the KB only through --kb-endpoint when it is given."""
    from gapd_lite.cli import main

    monkeypatch.chdir(tmp_path)
    url = ["--kb-endpoint", bundled_server.url]
    assert main(["demo", "--questions", "1", "--model", "none", *url]) == 0
    assert "SPARQL endpoint" in capsys.readouterr().out
    assert main(["train", "--method", "gapd", "--preset", "smoke", "--num-updates", "1", "--quiet", "--out", "runs/g", *url]) == 0
    assert main(["eval", "--model", "tiny", "--split", "dev", "--limit", "2", "--max-turns", "2",
                 "--max-new-tokens", "8", "--quiet", *url]) == 0
    bundled_server.stop()
    assert main(["eval", "--model", "tiny", "--split", "dev", "--limit", "2", "--quiet", *url]) == 2
    err = capsys.readouterr().err
    assert "error: SPARQL endpoint" in err and "cannot connect" in err and "Start the endpoint" in err
    bundled_server.start()
