"""Paired comparison of two training arms on the same questions: per-arm means with bootstrap intervals, the paired
difference with its interval, overall and per slice (levels, functions), and an exact paired test on exact match.

Each arm is several seeds, each seed one evaluation report over the same questions. A question's score in an arm
is its mean over that arm's seeds; the bootstrap resamples questions (the unit the claim is about), so the
interval covers question sampling, with seed noise averaged in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .eval import EvalReport


@dataclass(frozen=True)
class ArmScores:
    """One arm: per seed, per question (in a shared question order) F1 and exact match."""
    f1: np.ndarray  # [seeds, questions]
    em: np.ndarray  # [seeds, questions]


def arm_scores(reports: list[EvalReport], qids: list[str]) -> ArmScores:
    """Stack the seeds' reports in the order of `qids` (every report must hold every question once)."""
    f1, em = [], []
    for report in reports:
        by_qid = {e.qid: e for e in report.episodes}
        missing = [q for q in qids if q not in by_qid]
        if missing or len(by_qid) != len(report.episodes):
            raise ValueError(f"a report does not hold each question exactly once (missing e.g. {missing[:3]}): "
                             "score every arm on the same questions")
        f1.append([by_qid[q].f1 for q in qids])
        em.append([by_qid[q].em for q in qids])
    return ArmScores(np.asarray(f1, dtype=float), np.asarray(em, dtype=float))


def bootstrap_ci(per_question: np.ndarray, n_boot: int = 10_000, seed: int = 0) -> tuple[float, float, float]:
    """(mean, 2.5th, 97.5th percentile) of the mean over questions, resampling questions with replacement."""
    x = np.asarray(per_question, dtype=float)
    if x.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(x.mean()), float(lo), float(hi)


def exact_paired_test(a: np.ndarray, b: np.ndarray) -> dict:
    """McNemar's exact test on paired binary outcomes (a question solved by one arm and not the other): the
    two-sided binomial p-value of the discordant pairs."""
    a, b = np.asarray(a) > 0.5, np.asarray(b) > 0.5
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    n = only_a + only_b
    k = min(only_a, only_b)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0
    return {"only_first": only_a, "only_second": only_b, "p_value": p}


def slices(levels: list[str | None], functions: list[str | None]) -> dict[str, np.ndarray]:
    """Question index sets: all, functions (every question whose function is not none), each level, each function."""
    idx = np.arange(len(levels))
    out = {"all": idx, "functions": idx[[f not in (None, "none") for f in functions]]}
    for lvl in sorted({x for x in levels if x}):
        out[lvl] = idx[[x == lvl for x in levels]]
    for fn in sorted({x for x in functions if x}):
        out[fn] = idx[[x == fn for x in functions]]
    return out


def compare(arms: dict[str, ArmScores], first: str, second: str, levels: list[str | None],
            functions: list[str | None], seeds: list[int], n_boot: int = 10_000) -> dict:
    """Per arm and slice: mean F1 and its 95% interval; `first − second`: the paired difference per slice with its
    interval, and the exact paired test on exact match."""
    parts = slices(levels, functions)
    out = {"seeds": list(seeds), "n_questions": len(levels), "arms": {}, f"diff_{first}_minus_{second}": {}}
    for name, arm in arms.items():
        q = arm.f1.mean(axis=0)
        out["arms"][name] = {"seeds": int(arm.f1.shape[0]), "slices": {
            s: _entry(q[i], n_boot) for s, i in parts.items()}}
    a, b = arms[first], arms[second]
    diff = a.f1.mean(axis=0) - b.f1.mean(axis=0)
    em_a, em_b = a.em.mean(axis=0) >= 0.5, b.em.mean(axis=0) >= 0.5  # solved by most seeds
    out[f"diff_{first}_minus_{second}"] = {
        s: {**_entry(diff[i], n_boot), "exact_match_test": exact_paired_test(em_a[i], em_b[i])}
        for s, i in parts.items()}
    return out


def _entry(values: np.ndarray, n_boot: int) -> dict:
    mean, lo, hi = bootstrap_ci(values, n_boot)
    return {"n": int(np.asarray(values).size), "mean": mean, "ci95": [lo, hi]}
