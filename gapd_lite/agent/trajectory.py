"""One sampled or scripted episode as training and evaluation read it (shared by rollout and the gold agent)."""
from __future__ import annotations

from dataclasses import dataclass

from ..data import Question
from ..env.kbqa_env import StepRecord
from ..kb.terms import Term
from .prompts import Task
from .render import Rendered


@dataclass
class Trajectory:
    """One episode: its tokens and mask, the env's step records, and the final answer."""
    task: Task
    rendered: Rendered
    steps: list[StepRecord]
    answer: frozenset[Term] | None
    question: Question | None = None
    sample: int = 0  # which of the G rollouts of its question
    truncated: bool = False
    failed: str | None = None  # the KB failed mid-episode (endpoint down): training skips this trajectory

    @property
    def generated_tokens(self) -> int:
        return sum(self.rendered.mask)
