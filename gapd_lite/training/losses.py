"""The losses, written as the formulas: GRPO's clipped surrogate and GAPD's gold-conditioned self-distillation.

GRPO (Shao et al. 2024; as in TRL's GRPOTrainer), per policy token i of rollout j in group g:

    A_j   = (R_j - mean_g R) / (std_g R + eps)                       group-normalised advantage
    r_i   = exp(log π(y_i) - log π_old(y_i))                          importance ratio
    l_i   = -min(r_i A_j, clip(r_i, 1-ε, 1+ε) A_j)                    (no KL to a reference: TRL's default β = 0)
    L     = Σ_i l_i / (number of policy tokens)                       token-level normalisation

GAPD adds, over the tokens of each action the student generated (never prompt or observation tokens):

    L_GAPD = L_GRPO + λ · mean_i D(π(·|x_i^hint) ‖ π(·|x_i))           teacher side stop-gradient

where the teacher is the same policy whose context carries the aligned gold action as a hint, and D is
forward KL (β=0), reverse KL (β=1) or the generalized JSD(β) of TRL's `generalized_jsd_loss`.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def group_advantages(rewards: torch.Tensor, group_size: int, eps: float = 1e-4, scale: bool = True) -> torch.Tensor:
    """(R - group mean) / (group std + eps) for rewards laid out question-major, `group_size` per question."""
    grouped = rewards.view(-1, group_size)
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    if scale:
        centred = centred / (grouped.std(dim=1, keepdim=True) + eps)
    return centred.view(-1)


def grpo_token_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
                    epsilon: float = 0.2) -> torch.Tensor:
    """Per-token clipped surrogate (all tensors [n_tokens]; `advantages` already broadcast to tokens)."""
    ratio = torch.exp(logp - old_logp)
    clipped = torch.clamp(ratio, 1 - epsilon, 1 + epsilon)
    return -torch.min(ratio * advantages, clipped * advantages)


def grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, epsilon: float = 0.2) -> torch.Tensor:
    """Token-level mean of the per-token GRPO loss."""
    return grpo_token_loss(logp, old_logp, advantages, epsilon).mean()


def token_divergence(student_logits: torch.Tensor, teacher_logits: torch.Tensor, beta: float = 0.5,
                     temperature: float = 1.0) -> torch.Tensor:
    """Per-token divergence [n] between teacher and student distributions ([n, vocab] logits each).

    beta=0: KL(teacher ‖ student) (forward); beta=1: KL(student ‖ teacher) (reverse); otherwise
    generalized JSD: β KL(teacher ‖ M) + (1-β) KL(student ‖ M) with M = (1-β) student + β teacher.
    The teacher side is detached: gradients reach the student only.
    """
    s = F.log_softmax(student_logits.float() / temperature, dim=-1)
    t = F.log_softmax(teacher_logits.detach().float() / temperature, dim=-1)
    if beta == 0:
        return (t.exp() * (t - s)).sum(-1)
    if beta == 1:
        return (s.exp() * (s - t)).sum(-1)
    m = torch.logsumexp(torch.stack([s + math.log(1 - beta), t + math.log(beta)]), dim=0)
    kl_teacher = (t.exp() * (t - m)).sum(-1)
    kl_student = (s.exp() * (s - m)).sum(-1)
    return beta * kl_teacher + (1 - beta) * kl_student


DIVERGENCES = {"forward_kl": 0.0, "reverse_kl": 1.0, "jsd": 0.5}


def distill_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, kind: str = "forward_kl",
                 beta: float | None = None, temperature: float = 1.0, keep: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over action tokens of the chosen divergence (kind: forward_kl | reverse_kl | jsd).

    `keep` (bool, one per token): only those tokens add their divergence; the others count as 0 in the mean,
    so the normaliser stays the number of action tokens (and chunked updates still add up exactly)."""
    if kind not in DIVERGENCES:
        from ..errors import ConfigError
        raise ConfigError(f"unknown divergence {kind!r}; choose one of {', '.join(DIVERGENCES)}")
    b = DIVERGENCES[kind] if beta is None or kind != "jsd" else beta
    if student_logits.numel() == 0:
        return student_logits.sum() * 0.0
    d = token_divergence(student_logits, teacher_logits, b, temperature)
    return d.mean() if keep is None else (d * keep.to(d.dtype)).sum() / d.numel()


def until_first_disagreement(teacher_logits: torch.Tensor, student_tokens: torch.Tensor) -> torch.Tensor:
    """True up to and including the first token where the teacher's top choice differs from the student's:
    after it the student's own prefix is one the hinted teacher would not have written."""
    agree = teacher_logits.argmax(-1) == student_tokens
    keep = torch.ones_like(agree)
    off = (~agree).nonzero()
    if off.numel():
        keep[int(off[0]) + 1:] = False
    return keep


def shaped_advantage(teacher_logits: torch.Tensor, student_logits: torch.Tensor, tokens: torch.Tensor, lam: float,
                     clip: float) -> torch.Tensor:
    """GAPD as advantage shaping: λ · clip(log π(y|x+hint) − log π(y|x), −c, c) per action token y, added to the
    GRPO advantage there (stop-gradient: it steers the surrogate, it is not a loss of its own)."""
    gap = selected_logp(teacher_logits.detach(), tokens) - selected_logp(student_logits.detach(), tokens)
    return lam * gap.clamp(-clip, clip)


def gapd_loss(grpo: torch.Tensor, distill: torch.Tensor, lam: float) -> torch.Tensor:
    """L_GRPO + λ · L_distill (λ = 0 is exactly GRPO)."""
    return grpo if lam == 0 else grpo + lam * distill


def selected_logp(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log π(target) at each row of [n, vocab] logits."""
    return torch.log_softmax(logits.float(), dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
