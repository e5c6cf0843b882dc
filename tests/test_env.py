"""The KBQA environment: bad model text becomes observations; the gold agent solves every bundled question."""
from __future__ import annotations

import pytest

from gapd_lite.agent.gold import gold_episode, task_for
from gapd_lite.agent.prompts import TURN_TOKENS
from gapd_lite.agent.render import encode
from gapd_lite.data import SPLITS, answer_key, load_split
from gapd_lite.env.kbqa_env import EnvConfig, KBQAEnv
from gapd_lite.models import ModelConfig, load_tokenizer


@pytest.fixture()
def env(tiny_kbs):
    return KBQAEnv(tiny_kbs["memory"], "Which cities are in France?", {"m.0fr": "France"}, EnvConfig(max_turns=6, max_listed=2))


BAD_TURNS = [
    ("I think the answer is Paris.", "no <action>"),
    ("<action>get_neighbours(m.0fr, location.location.contains)</action>", "unknown action 'get_neighbours'"),
    ("<action>get_neighbors(m.0fr)</action>", "takes 2"),
    ("<action>get_neighbors(m.0fr, location.location.containz)</action>", "relation location.location.containz does not exist"),
    ("<action>get_neighbors(m.0xyz, location.location.contains)</action>", "entity m.0xyz does not exist"),
    ("<action>count(#3)</action>", "#3 is not defined"),
    ("<action>filter_class(m.0fr, location.metropolis)</action>", "class location.metropolis does not exist"),
    ("<action>__import__('os').system('rm -rf /')</action>", "unknown action '__import__'"),
    ("<action>get_neighbors(m.0fr, location.country.capital} ; DROP ALL)</action>", "not a relation"),
    ("<action>" + "get_relations(m.0fr)" * 80 + "</action>", "characters long"),
]


@pytest.mark.parametrize("text,message", BAD_TURNS)
def test_bad_turns_become_observations(env, text, message):
    record = env.step(text)
    assert record.error and message in record.observation and not env.done
    assert record.observation.startswith("Error:")


def test_empty_and_long_results_and_lists(env):
    r = env.step("<action>get_neighbors(m.0uk, location.country.currency_used)</action>")
    assert r.observation.startswith("#0 = 0 entities") and "empty" in r.observation and r.var == 0
    r = env.step("<think>cities</think><action>get_neighbors(m.0fr, location.location.contains)</action>")
    assert r.observation == "#1 = 2 entities: [Lyon (m.0lyon), Paris (m.0paris)]; classes: [location.citytown, location.location]"
    assert r.states[1] == {"m.0paris", "m.0lyon"}
    r = env.step("<action>get_instances(location.location)</action>")
    assert "9 entities" in r.observation and "(+7 more)" in r.observation
    r = env.step("<action>get_relations(m.0fr)</action>")
    assert r.observation.startswith("relations of m.0fr: [") and "^location.location.containedby" in r.observation
    assert r.var is None and len(r.states) == 3


def test_step_budget_ends_the_episode(tiny_kbs):
    env = KBQAEnv(tiny_kbs["memory"], "q", config=EnvConfig(max_turns=2))
    env.step("nothing")
    env.step("still nothing")
    assert env.done and env.answer is None


def test_an_empty_answer_is_refused_unless_allowed(tiny_kbs):
    act = ("<action>get_neighbors(m.0uk, location.country.currency_used)</action>", "<action>answer(#0)</action>")
    env = KBQAEnv(tiny_kbs["memory"], "What currency does the UK use?", {"m.0uk": "UK"})
    env.step(act[0])
    r = env.step(act[1])
    assert r.error and "#0 is empty" in r.observation and not env.done and env.answer is None
    allowed = KBQAEnv(tiny_kbs["memory"], "q", {"m.0uk": "UK"}, EnvConfig(allow_empty_answer=True))
    allowed.step(act[0])
    assert allowed.step(act[1]).error is None and allowed.done and allowed.answer == frozenset()


def test_answer_ends_the_episode(env):
    env.step("<action>get_neighbors(m.0fr, location.location.contains)</action>")
    r = env.step("<think>done</think><action>answer(#0)</action>")
    assert env.done and env.answer == {"m.0paris", "m.0lyon"} and r.observation.startswith("Answer: 2 entities")


def test_oversize_results_are_refused(tiny_kbs):
    env = KBQAEnv(tiny_kbs["memory"], "q", config=EnvConfig(max_set_size=3))
    r = env.step("<action>get_instances(location.location)</action>")
    assert "more than the 3 allowed" in r.observation and not env.bindings


def test_gold_agent_solves_every_bundled_question(bundled_kb):
    failures = []
    for split in SPLITS:
        for q in load_split(split):
            turns, env = gold_episode(q, bundled_kb)
            got = frozenset(answer_key(t) for t in env.answer or ())
            if got != q.answer_set or any(r.error for r in env.history):
                failures.append(q.qid)
    assert not failures, failures[:10]


def test_every_gold_turn_fits_the_turn_budget(bundled_kb):
    """A turn budget shorter than a gold turn cuts the action off: the policy could never write the gold answer."""
    tok = load_tokenizer(ModelConfig(name="tiny"))  # the embedded model's vocabulary
    longest = max(len(encode(tok, t.text)) + 1  # + the end-of-turn token that stops generation
                  for split in SPLITS for q in load_split(split) for t in gold_episode(q, bundled_kb)[0])
    assert 64 < longest <= TURN_TOKENS, longest  # 64 (the old budget) was too short


def test_task_links_the_topic_entities(bundled_kb):
    q = load_split("dev")[0]
    task = task_for(q, bundled_kb)
    assert task.entities and all(mid in q.s_expression for mid, _ in task.entities)
    assert "Entities:" in task.user_message()
