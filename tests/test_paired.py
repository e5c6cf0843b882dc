"""The paired comparison behind `results/gapd_vs_grpo.json`: intervals, slices and the exact paired test."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gapd_lite.eval import EpisodeScore, summarise
from gapd_lite.paired import arm_scores, bootstrap_ci, compare, exact_paired_test, slices


def test_bootstrap_interval_brackets_the_mean_and_shrinks_with_more_questions():
    rng = np.random.default_rng(0)
    small, large = rng.random(30), rng.random(3000)
    m, lo, hi = bootstrap_ci(small)
    assert lo < m < hi and m == pytest.approx(small.mean())
    _, lo2, hi2 = bootstrap_ci(large)
    assert hi2 - lo2 < (hi - lo) / 5  # ~1/sqrt(100) of the width
    assert bootstrap_ci(np.ones(10)) == (1.0, 1.0, 1.0)


def test_exact_paired_test_is_mcnemars_binomial():
    a = np.array([1, 1, 1, 1, 1, 1, 0, 0, 1, 0])
    b = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 0])
    t = exact_paired_test(a, b)
    assert (t["only_first"], t["only_second"]) == (6, 1)
    assert t["p_value"] == pytest.approx(2 * (1 + 7) / 2 ** 7)  # P(X <= 1 | n=7, p=1/2), two-sided
    assert exact_paired_test(a, a)["p_value"] == 1.0


def test_slices_cover_levels_and_functions():
    s = slices(["i.i.d.", "zero-shot", "i.i.d."], ["none", "count", "argmax"])
    assert s["all"].tolist() == [0, 1, 2] and s["functions"].tolist() == [1, 2]
    assert s["i.i.d."].tolist() == [0, 2] and s["count"].tolist() == [1] and s["none"].tolist() == [0]


def _report(f1s):
    return summarise([EpisodeScore(f"q{i}", "i.i.d.", "count" if i % 2 else "none", f, f, float(f == 1), 1, 1, True)
                      for i, f in enumerate(f1s)])


def test_compare_pairs_arms_on_the_same_questions():
    qids = [f"q{i}" for i in range(6)]
    better = arm_scores([_report([1, 1, 1, 1, 0, 1]), _report([1, 1, 1, 0, 0, 1])], qids)
    worse = arm_scores([_report([1, 0, 1, 0, 0, 0]), _report([1, 0, 1, 0, 0, 0])], qids)
    out = compare({"gapd": better, "grpo": worse}, "gapd", "grpo", ["i.i.d."] * 6,
                  ["none", "count"] * 3, seeds=[0, 1], n_boot=2000)
    d = out["diff_gapd_minus_grpo"]
    assert set(d) == {"all", "functions", "i.i.d.", "none", "count"} and out["seeds"] == [0, 1]
    assert d["all"]["mean"] == pytest.approx((better.f1.mean(0) - worse.f1.mean(0)).mean())
    assert d["all"]["ci95"][0] <= d["all"]["mean"] <= d["all"]["ci95"][1]
    assert d["functions"]["n"] == 3 and out["arms"]["gapd"]["seeds"] == 2
    with pytest.raises(ValueError, match="same questions"):
        arm_scores([_report([1, 0])], qids)
    assert not math.isnan(out["arms"]["grpo"]["slices"]["all"]["mean"])

