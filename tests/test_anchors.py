"""Mid-anchor matching: the aligned gold action for the gold path, detours, reordered AND branches,
repeated steps, a student off the gold path, one already holding the answer; the prefix ablation."""
from __future__ import annotations

import pytest

from gapd_lite.anchors import MidAnchorMatcher, PrefixMatcher, align_trajectory, gold_depths
from gapd_lite.logic.actions import parse_action
from gapd_lite.env.kbqa_env import KBQAEnv
from gapd_lite.logic.sexpr import parse
from gapd_lite.logic.to_actions import GoldStep, gold_steps, to_actions

S = lambda *xs: frozenset(xs)  # noqa: E731
# #0 = a→r1, #1 = #0→r2, #2 = b→r3, #3 = #1 ∩ #2, answer(#3): an AND of two branches
GOLD = [GoldStep(parse_action(t), v, s) for t, v, s in [
    ("get_neighbors(m.a, x.y.r1)", 0, S("1", "2", "3")),
    ("get_neighbors(#0, x.y.r2)", 1, S("4", "5")),
    ("get_neighbors(m.b, x.y.r3)", 2, S("5", "6")),
    ("intersection(#1, #2)", 3, S("5")),
    ("answer(#3)", None, S("5")),
]]
M = MidAnchorMatcher()


def aligned(states, matcher=M, step=0):
    return str(matcher.align(GOLD, states, step).action)


def test_depths():
    assert gold_depths(GOLD) == {0: 1, 1: 2, 2: 1, 3: 3}


def test_gold_path_exactly():
    states = [g.state for g in GOLD[:4]]
    expected = ["get_neighbors(m.a, x.y.r1)", "get_neighbors(#0, x.y.r2)", "get_neighbors(m.b, x.y.r3)",
                "intersection(#1, #2)", "answer(#3)"]
    assert [aligned(states[:t]) for t in range(5)] == expected


def test_detour_then_back():
    # get_relations (binds nothing), a wrong branch {7, 8} as #0, then the gold first hop as #1
    assert aligned([S("7", "8")]) == "get_neighbors(m.a, x.y.r1)"
    assert aligned([S("7", "8"), S("1", "2", "3")]) == "get_neighbors(#1, x.y.r2)"


def test_and_branches_in_the_other_order():
    assert aligned([S("5", "6")]) == "get_neighbors(m.a, x.y.r1)"
    assert aligned([S("5", "6"), S("1", "2", "3")]) == "get_neighbors(#1, x.y.r2)"
    assert aligned([S("5", "6"), S("1", "2", "3"), S("4", "5")]) == "intersection(#2, #0)"


def test_redundant_repeated_step_uses_the_latest_copy():
    assert aligned([S("1", "2", "3"), S("1", "2", "3")]) == "get_neighbors(#1, x.y.r2)"


def test_student_never_on_the_gold_path():
    assert aligned([S("7"), S("8", "9")]) == "get_neighbors(m.a, x.y.r1)"


def test_student_already_holds_the_answer():
    assert aligned([S("9"), S("5")]) == "answer(#1)"


def test_deepest_ready_action_wins():
    # #0 covered: #1 (depth 2) and #2 (depth 1) are both ready; the deeper one continues the branch
    al = M.align(GOLD, [S("1", "2", "3")], 1)
    assert al.gold_index == 1 and al.covered == {0: 0}


def test_jaccard_threshold_option():
    near = [S("1", "2", "3", "9")]
    assert aligned(near) == "get_neighbors(m.a, x.y.r1)"  # exact: not covered
    assert aligned(near, MidAnchorMatcher(threshold=0.7)) == "get_neighbors(#0, x.y.r2)"
    assert aligned(near, MidAnchorMatcher(threshold=0.8)) == "get_neighbors(m.a, x.y.r1)"


def test_prefix_matcher_ignores_states():
    assert [aligned([S("9")], PrefixMatcher(), t) for t in (0, 1, 7)] == [
        "get_neighbors(m.a, x.y.r1)", "get_neighbors(#0, x.y.r2)", "answer(#3)"]


def test_on_a_real_episode(tiny_kbs):
    kb = tiny_kbs["memory"]
    form = "(AND location.citytown (JOIN location.location.containedby (JOIN location.country.currency_used m.0euro)))"
    gold = gold_steps(to_actions(parse(form)), kb)
    env = KBQAEnv(kb, "Which cities are in euro countries?", {"m.0euro": "Euro"})
    for text in ["<action>get_relations(m.0euro)</action>",                               # detour, binds nothing
                 "<action>get_neighbors(m.0euro, ^location.country.currency_used)</action>",
                 "<action>get_neighbors(#0, location.country.capital)</action>",          # wrong branch
                 "<action>get_neighbors(#0, ^location.location.containedby)</action>",
                 "<action>filter_class(#2, location.citytown)</action>"]:
        env.step(text)
    bare = [str(a.action) for a in align_trajectory(M, gold, env.history, explore=False)]
    assert bare == ["get_neighbors(m.0euro, ^location.country.currency_used)",
                    "get_neighbors(m.0euro, ^location.country.currency_used)",
                    "get_neighbors(#0, ^location.location.containedby)",
                    "get_neighbors(#0, ^location.location.containedby)",
                    "answer(#2)"]  # #2 already equals the class-filtered gold answer set
    # as the gold agent of the SFT data does, the topic entity's relations come first; once seen, the hop follows
    explored = [str(a.action) for a in align_trajectory(M, gold, env.history)]
    assert explored == ["get_relations(m.0euro)"] + bare[1:]


def test_exploration_matches_the_sft_gold_agent(tiny_kbs):
    """On the gold agent's own episode (SFT data), each step is aligned with the action it took; without exploration the first step (get_relations) would be told to hop instead."""
    from gapd_lite.agent.gold import gold_episode
    from gapd_lite.data import Question

    kb = tiny_kbs["memory"]
    form = "(AND location.citytown (JOIN location.location.containedby (JOIN location.country.currency_used m.0euro)))"
    q = Question("q1", "Which cities are in euro countries?", form)
    turns, env = gold_episode(q, kb)
    gold = gold_steps(to_actions(parse(form)), kb)
    taken = [str(r.action) for r in env.history]
    assert taken[0] == "get_relations(m.0euro)"
    assert [str(a.action) for a in align_trajectory(PrefixMatcher(), gold, env.history)] == taken
    # mid-anchor agrees step by step, except that #1 already holds the answer set here (the class filter keeps all)
    assert [str(a.action) for a in align_trajectory(M, gold, env.history)] == taken[:3] + ["answer(#1)", "answer(#2)"]
    assert str(align_trajectory(M, gold, env.history, explore=False)[0].action).startswith("get_neighbors(m.0euro")


def test_exploring_another_entity_is_still_a_detour():
    """A get_relations on some other node does not count as exploring the gold hop's source."""
    from gapd_lite.anchors import explore_before, Alignment

    al = M.align(GOLD, [], 0)
    other, right = parse_action("get_relations(m.zzz)"), parse_action("get_relations(m.a)")
    assert str(explore_before(al, frozenset({other})).action) == "get_relations(m.a)"
    assert str(explore_before(al, frozenset({right})).action) == "get_neighbors(m.a, x.y.r1)"
    later = M.align(GOLD, [S("1", "2", "3")], 1)  # a hop from a variable needs no exploration
    assert str(explore_before(later, frozenset()).action) == "get_neighbors(#0, x.y.r2)"
    assert isinstance(later, Alignment)


def test_attribute_actions_look_at_the_sets_attributes_first():
    """Before argmax/comparison/time filter on #k, the gold agent (and so the teacher) lists #k's attributes, once."""
    from gapd_lite.anchors import Alignment, explore_before
    from gapd_lite.logic.to_actions import explore_first

    rank = parse_action("argmax(#1, x.y.area)")
    al = Alignment(3, 2, rank, {})
    assert str(explore_before(al, frozenset()).action) == "get_attributes(#1)"
    assert str(explore_before(al, frozenset({parse_action("get_attributes(#0)")})).action) == "get_attributes(#1)"
    assert explore_before(al, frozenset({parse_action("get_attributes(#1)")})).action == rank
    hop, ge = parse_action("get_neighbors(m.a, x.y.r1)"), parse_action("ge(#1, x.y.n, 3)")
    assert [str(a) for a in explore_first([hop, rank, ge])] == [
        "get_relations(m.a)", str(hop), "get_attributes(#1)", str(rank), str(ge)]


def test_gold_agent_explores_attributes_on_a_real_superlative(tiny_kbs):
    """An ARGMAX question's gold episode lists the set's attributes before ranking, still reaches the answer,
    and both matchers align each of its steps with the step it took."""
    from gapd_lite.agent.gold import gold_episode
    from gapd_lite.data import Question

    kb = tiny_kbs["memory"]
    form = "(ARGMAX (AND location.country (JOIN location.country.currency_used m.0euro)) location.location.area)"
    q = Question("q2", "Which euro country is largest?", form)
    turns, env = gold_episode(q, kb)
    taken = [str(r.action) for r in env.history]
    at = taken.index("get_attributes(#1)")
    assert taken[at + 1].startswith("argmax(#1, location.location.area")
    assert env.answer == gold_steps(to_actions(parse(form)), kb)[-1].state
    gold = gold_steps(to_actions(parse(form)), kb)
    assert [str(a.action) for a in align_trajectory(PrefixMatcher(), gold, env.history)] == taken
    assert [str(a.action) for a in align_trajectory(M, gold, env.history)][at:at + 2] == taken[at:at + 2]
