"""Answer-set metrics and the RL reward: F1 against the gold answers plus a small format bonus."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..data import answer_key
from ..kb.terms import Term, term_sort_key


def _keys(terms: Iterable[Term | str] | None) -> frozenset[str]:
    return frozenset(answer_key(t) for t in terms or ())


def f1(predicted: Iterable[Term] | None, gold: Iterable[Term | str]) -> float:
    """Set F1 (0 when either side is empty, 1 when both are)."""
    p, g = _keys(predicted), _keys(gold)
    if not p and not g:
        return 1.0
    hit = len(p & g)
    if not hit:
        return 0.0
    precision, recall = hit / len(p), hit / len(g)
    return 2 * precision * recall / (precision + recall)


def hits_at_1(predicted: Iterable[Term] | None, gold: Iterable[Term | str]) -> float:
    """1 if the first predicted answer (in the KB's deterministic order) is a gold answer."""
    ordered = sorted(predicted or (), key=term_sort_key)
    return float(bool(ordered) and answer_key(ordered[0]) in _keys(gold))


def exact_match(predicted: Iterable[Term] | None, gold: Iterable[Term | str]) -> float:
    return float(predicted is not None and _keys(predicted) == _keys(gold))


@dataclass(frozen=True)
class RewardConfig:
    """reward = F1(answer, gold) + format_bonus × (share of turns whose action parsed and ran)."""
    format_bonus: float = 0.1


def reward(predicted: Iterable[Term] | None, gold: Iterable[Term | str], valid_turns: int, turns: int,
           config: RewardConfig = RewardConfig()) -> float:
    """The scalar an episode earns in GRPO/GAPD."""
    fmt = valid_turns / turns if turns else 0.0
    return f1(predicted, gold) + config.format_bonus * fmt
