"""Mid-anchor matching (GAPD piece 3): which gold action should the student take next, given where it is?

The gold program is a DAG of actions (an AND joins two branches); executing it gives one entity set
per gold variable. The student's states are the entity sets bound to its own variables. A gold
variable is *covered* when some student variable holds the same set (exact by default; Jaccard ≥ τ
as an option). Before student step t (its *anchor*: the states after steps < t), the aligned gold
action is:

1. `answer(v)` if the gold answer set is covered (v: the student variable holding it);
2. the first gold action if nothing is covered;
3. otherwise the deepest gold action whose inputs are all covered and whose output is not
   (depth = longest path from the start; ties go to the earlier action in gold order),

rewritten into the student's variable names. Detours, reordered AND branches and repeated steps
fall out of matching by *sets* rather than by position. `PrefixMatcher` (step index t ↦ gold action
t) is the ablation baseline behind the same interface.

Exploration (`align_trajectory(..., explore=True)`, the default): the gold agent whose dialogues are the
SFT data looks at a topic entity's relations before its first hop from it, and at a set's attributes before
it ranks, compares or time-filters the set on one (`explore_first`). So a hop from a topic entity the student
has not yet explored is aligned as `get_relations(entity)`, an argmax on an unexplored `#k` as
`get_attributes(#k)`, and the prefix matcher indexes the explored gold sequence; otherwise the teacher would
tell a warm-started student to skip the very step SFT taught it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence

from .logic.actions import Action, Var
from .env.kbqa_env import StepRecord
from .kb.terms import Term
from .logic.to_actions import GoldStep, explore_first, exploration_for


@dataclass(frozen=True)
class Alignment:
    """For one student step: the aligned gold action (in student names) and how the gold DAG is covered."""
    step: int
    gold_index: int  # index into the gold steps (len-1 is the final answer)
    action: Action
    covered: dict[int, int] = field(default_factory=dict)  # gold variable → student variable


class Matcher(Protocol):
    def align(self, gold: Sequence[GoldStep], states: Sequence[frozenset[Term]], step: int) -> Alignment:
        """The aligned gold action before student step `step`, given the student's bound sets."""


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def gold_depths(gold: Sequence[GoldStep]) -> dict[int, int]:
    """Depth of each gold variable: 1 for actions on constants, 1 + the deepest input otherwise."""
    depth: dict[int, int] = {}
    for step in gold:
        if step.var is not None:
            depth[step.var] = 1 + max((depth[v.index] for v in step.action.inputs), default=0)
    return depth


@dataclass(frozen=True)
class MidAnchorMatcher:
    """GAPD's matcher: state anchors by entity-set equality (or Jaccard ≥ threshold when threshold < 1)."""
    threshold: float = 1.0

    def cover(self, gold: Sequence[GoldStep], states: Sequence[frozenset[Term]]) -> dict[int, int]:
        """gold variable → the (latest) student variable holding its set."""
        covered = {}
        for g in gold:
            if g.var is None:
                continue
            best, best_score = None, -1.0
            for v, state in enumerate(states):
                s = 1.0 if state == g.state else (jaccard(state, g.state) if self.threshold < 1 else 0.0)
                if s >= self.threshold and s >= best_score:
                    best, best_score = v, s
            if best is not None:
                covered[g.var] = best
        return covered

    def align(self, gold: Sequence[GoldStep], states: Sequence[frozenset[Term]], step: int) -> Alignment:
        covered = self.cover(gold, states)
        answer = gold[-1]
        answer_var = answer.action.inputs[0].index if answer.action.inputs else None
        if answer_var is not None and answer_var in covered:
            return Alignment(step, len(gold) - 1, answer.action.rename(covered), covered)
        if not covered:
            return Alignment(step, 0, gold[0].action, covered)
        depth = gold_depths(gold)
        ready = [i for i, g in enumerate(gold) if g.var is not None and g.var not in covered
                 and all(v.index in covered for v in g.action.inputs)]
        # never empty while the answer is uncovered: an uncovered root is always ready
        best = max(ready, key=lambda i: (depth[gold[i].var], -i))
        return Alignment(step, best, gold[best].action.rename(covered), covered)


@dataclass(frozen=True)
class PrefixMatcher:
    """Ablation: step t is aligned with gold action t, whatever the student actually holds."""

    def align(self, gold: Sequence[GoldStep], states: Sequence[frozenset[Term]], step: int) -> Alignment:
        return self.align_actions([g.action for g in gold], step)

    @staticmethod
    def align_actions(actions: Sequence[Action], step: int) -> Alignment:
        """Step t ↦ action t of a gold action sequence (the last one once the student has taken more steps)."""
        index = min(step, len(actions) - 1)
        return Alignment(step, index, actions[index], {})


def student_states(history: Sequence[StepRecord], step: int) -> tuple[frozenset[Term], ...]:
    """The student's bound sets before `step` (its anchor)."""
    return history[step - 1].states if step > 0 else ()


def explored(history: Sequence[StepRecord], step: int) -> frozenset[Action]:
    """The looks (valid get_relations / get_attributes) the student took before `step`."""
    return frozenset(r.action for r in history[:step]
                     if r.valid and r.action.name in ("get_relations", "get_attributes"))


def explore_before(al: Alignment, looked: frozenset[Action]) -> Alignment:
    """An aligned action whose look (`exploration_for`) the student has not taken becomes that look, as the gold agent does."""
    look = exploration_for(al.action)
    if look is not None and look not in looked:
        return Alignment(al.step, al.gold_index, look, al.covered)
    return al


def align_trajectory(matcher: Matcher, gold: Sequence[GoldStep], history: Sequence[StepRecord],
                     explore: bool = True) -> list[Alignment]:
    """One alignment per student step (`explore`: the gold agent's get_relations before a first hop count, see above)."""
    if explore and isinstance(matcher, PrefixMatcher):  # index the gold sequence with its exploration steps
        actions = explore_first([g.action for g in gold])
        return [matcher.align_actions(actions, t) for t in range(len(history))]
    out = [matcher.align(gold, student_states(history, t), t) for t in range(len(history))]
    return [explore_before(al, explored(history, al.step)) for al in out] if explore else out
