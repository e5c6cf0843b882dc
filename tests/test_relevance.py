"""Relation and class lists ranked by the question: relevant names first, ties in a fixed order; it helps on real data."""
from __future__ import annotations

import re

import pytest

from gapd_lite.bench import bench_ranking
from gapd_lite.env.kbqa_env import EnvConfig, KBQAEnv
from gapd_lite.errors import ConfigError
from gapd_lite.env.relevance import question_words, rank_classes, rank_relations, relevance, stem


def test_words_are_stemmed_and_stopwords_dropped():
    assert question_words("Which languages are spoken in the country?") == {"languag", "spoken", "country"}
    assert stem("cities") == stem("city") == "city"
    assert stem("founded") == "found" and stem("gas") == "gas"  # too short to strip


def test_property_matches_count_more_than_domain_matches():
    words = question_words("what currency does the country use")
    assert relevance("location.country.currency_used", words) == 1.0 + 2.0  # type 'country' + property 'currency'
    assert relevance("^location.country.currency_used", words) == 3.0  # direction does not change the name
    assert relevance("country.location.other", words) == 0.5  # a domain match weighs least
    assert relevance("people.person.gender", words) == 0.0


def test_ranking_is_stable_and_puts_the_relevant_relation_first():
    rels = ["common.topic.alias", "location.country.capital", "location.country.currency_used", "people.person.gender"]
    ranked = rank_relations(rels, "What currency does France use?")
    assert ranked[0] == "location.country.currency_used"
    assert ranked[1:] == ["common.topic.alias", "location.country.capital", "people.person.gender"]  # ties: given order
    assert rank_relations(rels, "zzz") == rels


def _listed(observation: str) -> list[str]:
    return re.search(r"\[(.*)\]", observation).group(1).split(", ")


def test_env_lists_relations_ranked_by_default_and_in_kb_order_when_off(tiny_kbs):
    kb, question = tiny_kbs["memory"], "Which cities does France contain?"
    ranked = KBQAEnv(kb, question, {"m.0fr": "France"}).step("<action>get_relations(m.0fr)</action>")
    plain = KBQAEnv(kb, question, {"m.0fr": "France"}, EnvConfig(rank_relations=False)).step(
        "<action>get_relations(m.0fr)</action>")
    assert sorted(_listed(ranked.observation)) == sorted(_listed(plain.observation))
    assert _listed(ranked.observation)[0] == "location.location.contains" != _listed(plain.observation)[0]
    assert _listed(plain.observation) == sorted(_listed(plain.observation), key=lambda r: (r.startswith("^"), r))


def test_ranking_puts_the_gold_relation_first_far_more_often_on_the_bundled_questions():
    test = bench_ranking(("test",))["splits"]["test"]
    assert test["ranked"]["lists"] == test["alphabetical"]["lists"] > 500
    assert test["ranked"]["top1"] > 0.35 > 0.10 > test["alphabetical"]["top1"]
    assert test["ranked"]["top3"] > test["alphabetical"]["top3"] + 0.3


def test_classes_rank_by_question_then_members_then_name():
    counts = {"location.location": 3, "location.citytown": 2, "location.dated_location": 3, "location.country": 1}
    assert rank_classes(counts, "Which country borders Chad?")[0] == "location.country"  # relevance beats count
    assert rank_classes(counts, "zzz") == ["location.dated_location", "location.location", "location.citytown",
                                           "location.country"]


def test_env_lists_the_classes_of_a_bound_set_and_can_be_told_not_to(tiny_kbs):
    kb, question = tiny_kbs["memory"], "Which cities does France contain?"
    act = "<action>get_neighbors(m.0fr, location.location.contains)</action>"
    listed = KBQAEnv(kb, question, {"m.0fr": "France"}).step(act).observation
    assert listed.endswith("; classes: [location.citytown, location.location]")
    one = KBQAEnv(kb, question, {"m.0fr": "France"}, EnvConfig(max_classes=1)).step(act).observation
    assert one.endswith("; classes: [location.citytown]")
    assert "classes" not in KBQAEnv(kb, question, {"m.0fr": "France"}, EnvConfig(max_classes=0)).step(act).observation
    with pytest.raises(ConfigError, match="max_classes"):
        EnvConfig(max_classes=-1)


def test_the_gold_class_is_almost_always_among_the_listed_classes():
    test = bench_ranking(("test",))["splits"]["test"]["classes"]
    assert test["steps"] > 500 and test["listed"] > 0.95 and test["first"] > 0.7
