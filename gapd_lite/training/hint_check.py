"""Does the teacher read its hint? GAPD's teacher is the policy itself with the gold action in its context;
distillation only helps where that teacher predicts the gold action better than the plain policy does.

On gold dialogues (the gold agent's episodes), for each action: the mean log-probability of the gold action's
tokens and the share of them predicted exactly (argmax), once from the plain context and once with the hint.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ..agent.gold import gold_trajectory
from ..agent.prompts import hint_message
from ..agent.render import encode
from ..kb.base import KB
from .losses import selected_logp
from ..logprobs import logits_at


@dataclass(frozen=True)
class HintCheck:
    """Per-token means over every gold action token of the dialogues checked."""
    questions: int
    action_tokens: int
    student_logp: float  # plain context
    teacher_logp: float  # context + hint carrying the same gold action
    student_top1: float
    teacher_top1: float

    @property
    def gain(self) -> float:
        """Nats per action token the hint is worth to the teacher (> 0: the teacher knows more)."""
        return self.teacher_logp - self.student_logp

    def to_json(self) -> dict:
        return {**asdict(self), "gain": self.gain}


def _action_logits(model, ids: list[int], positions: range, device) -> torch.Tensor:
    """Logits at `positions` of one sequence (each predicting the token after it)."""
    x = torch.tensor([ids], device=device)
    return logits_at(model, x, torch.ones_like(x), torch.zeros(len(positions), dtype=torch.long, device=device),
                     torch.tensor(list(positions), device=device))


@torch.no_grad()
def hint_check(policy, kb: KB, questions) -> HintCheck:
    """Score the gold action tokens of each question's gold dialogue with and without the hint."""
    model, tok = policy.model, policy.tokenizer
    device = next(model.parameters()).device
    model.eval()
    s_lp, t_lp, s_top, t_top, n = [], [], [], [], 0
    for q in questions:
        traj = gold_trajectory(tok, q, kb)
        r = traj.rendered
        n += 1
        for t, span in enumerate(r.action_spans):
            if span is None or t >= len(r.obs_ends):
                continue
            a0, a1 = span
            hint = encode(tok, hint_message(str(traj.steps[t].action)))
            targets = torch.tensor(r.ids[a0:a1], device=device)
            end = r.obs_ends[t]
            student = _action_logits(model, r.ids[:a1], range(a0 - 1, a1 - 1), device)
            teacher = _action_logits(model, r.ids[:end] + hint + r.ids[end:a1],
                                     range(a0 - 1 + len(hint), a1 - 1 + len(hint)), device)
            for logits, lp, top in ((student, s_lp, s_top), (teacher, t_lp, t_top)):
                lp.append(selected_logp(logits, targets).cpu())
                top.append((logits.argmax(-1) == targets).float().cpu())
    cat = (lambda xs: torch.cat(xs) if xs else torch.zeros(0))
    s_lp, t_lp, s_top, t_top = map(cat, (s_lp, t_lp, s_top, t_top))
    mean = (lambda x: x.mean().item() if x.numel() else float("nan"))
    return HintCheck(n, int(s_lp.numel()), mean(s_lp), mean(t_lp), mean(s_top), mean(t_top))
