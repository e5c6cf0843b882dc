"""Evaluation: scores follow the answer sets, means are per level, and each miss names what went wrong."""
from __future__ import annotations

import json

import pytest

from gapd_lite.agent.trajectory import Trajectory
from gapd_lite.data import Answer, Question
from gapd_lite.env.kbqa_env import EnvConfig, KBQAEnv
from gapd_lite.eval import load_report, score, summarise

CAPITAL = Question("q1", "What is the capital of France?", "(JOIN (R location.country.capital) m.0fr)",
                   answer=[Answer("Entity", "m.0paris", "Paris")], function="none", level="i.i.d.")


def play(kb, question: Question, turns: list[str], max_turns: int = 8) -> Trajectory:
    """A trajectory from scripted turns, as a rollout would record it (no tokens needed to score it)."""
    env = KBQAEnv(kb, question.question, {"m.0fr": "France"}, EnvConfig(max_turns=max_turns))
    for text in turns:
        if env.done:
            break
        env.step(text)
    return Trajectory(task=None, rendered=None, steps=env.history, answer=env.answer, question=question)


GOLD = ["<action>get_neighbors(m.0fr, location.country.capital)</action>", "<action>answer(#0)</action>"]


def test_a_gold_episode_scores_one_and_has_no_problems(tiny_kbs):
    s = score(play(tiny_kbs["memory"], CAPITAL, GOLD))
    assert (s.f1, s.hits1, s.em, s.valid_turns, s.turns, s.answered, s.problems) == (1.0, 1.0, 1.0, 2, 2, True, [])


def test_a_missed_episode_names_every_kind_of_trouble_once(tiny_kbs):
    turns = ["<think>I follow location.country.capital.</think>\n<action>get_neighbors(m.0fr, location.coun",  # cut off
             "<action>get_neighbors(m.0fr, location.country.capitol)</action>",  # unknown relation
             "<action>get_neighbors(m.0fr)</action>",  # wrong arity
             "<action>get_neighbors(m.0fr, location.location.containedby)</action>",  # empty
             "<action>answer(#0)</action>",  # refused: #0 is empty
             "<action>get_neighbors(m.0fr, location.location.contains)</action>",  # Paris and Lyon
             "<action>answer(#1)</action>"]
    s = score(play(tiny_kbs["memory"], CAPITAL, turns))
    assert s.problems == ["cut off at the turn budget", "malformed action", "unknown name", "empty result",
                          "empty answer refused", "wrong answer"]
    assert s.f1 == pytest.approx(2 * 0.5 * 1.0 / 1.5) and s.em == 0.0  # {Paris, Lyon} against {Paris}
    assert s.valid_turns == 3 and s.turns == 7


def test_no_answer_within_the_budget(tiny_kbs):
    s = score(play(tiny_kbs["memory"], CAPITAL, ["I think it is Paris."] * 3, max_turns=3))
    assert s.problems == ["no action", "no answer"] and s.f1 == 0.0 and not s.answered


def test_summary_means_per_level_and_miss_counts(tiny_kbs):
    kb = tiny_kbs["memory"]
    zero_shot = Question(**{**CAPITAL.__dict__, "qid": "q2", "level": "zero-shot"})
    scores = [score(play(kb, CAPITAL, GOLD)), score(play(kb, zero_shot, ["no action here"], max_turns=1)),
              score(play(kb, CAPITAL, ["<action>get_neighbors(m.0fr, location.location.contains)</action>",
                                       "<action>answer(#0)</action>"]))]
    report = summarise(scores)
    assert report.by_level["i.i.d."]["f1"] == pytest.approx((1 + 2 / 3) / 2) and report.by_level["zero-shot"]["f1"] == 0
    assert report.overall["n"] == 3 and report.overall["answered"] == pytest.approx(2 / 3)
    assert report.misses == {"no action": 1, "no answer": 1, "wrong answer": 1}


def test_a_saved_report_reads_back_the_same_also_from_before_problems_were_saved(tiny_kbs, tmp_path):
    kb = tiny_kbs["memory"]
    report = summarise([score(play(kb, CAPITAL, GOLD)), score(play(kb, CAPITAL, ["<action>get_neighbors(m.0fr, location.coun"], 1))])
    report.save(tmp_path / "new.json")
    old = report.to_json()
    for e in old["episodes"]:
        del e["problems"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    for name in ("new.json", "old.json"):
        again = load_report(tmp_path / name)
        assert again.overall == report.overall and again.misses == report.misses == {
            "cut off at the turn budget": 1, "no answer": 1}
