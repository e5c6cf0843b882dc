"""The losses against the formulas: TRL's generalized_jsd_loss and GRPO surrogate; gradients to the student only."""
from __future__ import annotations

import math

import pytest
import torch

from gapd_lite.training.losses import (distill_loss, gapd_loss, group_advantages, grpo_loss, grpo_token_loss,
                                       token_divergence)


@pytest.fixture()
def logits():
    g = torch.Generator().manual_seed(0)
    return torch.randn(7, 50, generator=g) * 2, torch.randn(7, 50, generator=g) * 2


def reference_divergence(s_logits, t_logits, beta):
    """Written out from the definitions: KL(P‖Q) = Σ P (log P − log Q), mixture M = β T + (1−β) S."""
    s, t = torch.softmax(s_logits, -1), torch.softmax(t_logits, -1)
    kl = lambda p, q: (p * (p.log() - q.log())).sum(-1)  # noqa: E731
    if beta == 0:
        return kl(t, s)
    if beta == 1:
        return kl(s, t)
    m = beta * t + (1 - beta) * s
    return beta * kl(t, m) + (1 - beta) * kl(s, m)


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.5, 1.0])
def test_divergence_matches_the_definition(logits, beta):
    s, t = logits
    assert torch.allclose(token_divergence(s, t, beta), reference_divergence(s, t, beta), atol=1e-5)


@pytest.mark.parametrize("kind,beta", [("forward_kl", 0.0), ("reverse_kl", 1.0), ("jsd", 0.5), ("jsd", 0.2)])
def test_distill_loss_matches_trl_generalized_jsd(logits, kind, beta):
    gkd = pytest.importorskip("trl.experimental.gkd")
    s, t = logits
    ours = distill_loss(s, t, kind, beta=beta)
    theirs = gkd.GKDTrainer.generalized_jsd_loss(s.unsqueeze(0), t.unsqueeze(0), beta=beta, reduction="sum") / s.shape[0]
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5, abs=1e-6)


def test_temperature(logits):
    s, t = logits
    assert torch.allclose(token_divergence(s, t, 0.0, temperature=2.0), reference_divergence(s / 2, t / 2, 0.0), atol=1e-5)


def test_gradient_reaches_the_student_only(logits):
    s, t = (x.clone().requires_grad_(True) for x in logits)
    distill_loss(s, t, "jsd").backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


def test_divergence_is_zero_when_teacher_equals_student(logits):
    s, _ = logits
    for kind in ("forward_kl", "reverse_kl", "jsd"):
        assert distill_loss(s, s.clone(), kind).item() == pytest.approx(0.0, abs=1e-6)


def trl_grpo_per_token(logp, old, adv, eps):
    """TRL GRPOTrainer's per-token loss (loss_type 'grpo'/'bnpo' branch, β = 0), on flat token tensors."""
    coef_1 = torch.exp(logp - old)
    coef_2 = torch.clamp(coef_1, 1 - eps, 1 + eps)
    return -torch.min(coef_1 * adv, coef_2 * adv)


def test_grpo_per_token_loss_matches_trl():
    g = torch.Generator().manual_seed(1)
    logp = -torch.rand(40, generator=g) * 3
    old = logp + torch.randn(40, generator=g) * 0.3  # ratios on both sides of the clip range
    adv = torch.randn(40, generator=g)
    ours = grpo_token_loss(logp, old, adv, 0.2)
    assert torch.allclose(ours, trl_grpo_per_token(logp, old, adv, 0.2), atol=1e-6)
    mask_mean = trl_grpo_per_token(logp, old, adv, 0.2).sum() / 40  # TRL's 'bnpo' normalisation
    assert grpo_loss(logp, old, adv, 0.2).item() == pytest.approx(mask_mean.item(), rel=1e-6)


def test_grpo_gradient_on_policy_is_minus_advantage():
    logp = torch.tensor([-1.0, -2.0, -0.5], requires_grad=True)
    adv = torch.tensor([1.0, -2.0, 0.5])
    grpo_loss(logp, logp.detach(), adv).backward()
    assert torch.allclose(logp.grad, -adv / 3)


def test_group_advantages():
    r = torch.tensor([1.0, 0.0, 0.5, 0.5, 2.0, 0.0])
    a = group_advantages(r, 2)
    assert torch.allclose(a[:2], torch.tensor([0.5, -0.5]) / (math.sqrt(0.5) + 1e-4), atol=1e-5)  # unbiased std, as TRL
    assert torch.allclose(a[2:4], torch.zeros(2))
    assert torch.allclose(group_advantages(r, 3, scale=False), torch.tensor([0.5, -0.5, 0.0, -0.3333, 1.1667, -0.8333]), atol=1e-4)


def test_lambda_zero_is_exactly_grpo():
    g, d = torch.tensor(0.7), torch.tensor(3.0)
    assert gapd_loss(g, d, 0.0) is g and gapd_loss(g, d, 0.5).item() == pytest.approx(2.2)


def test_shaped_advantage_is_lambda_times_the_clipped_log_prob_gap():
    from gapd_lite.training.losses import shaped_advantage
    g = torch.Generator().manual_seed(3)
    teacher, student = torch.randn(6, 11, generator=g) * 3, torch.randn(6, 11, generator=g) * 3
    tokens = torch.randint(0, 11, (6,), generator=g)
    gap = (teacher.log_softmax(-1) - student.log_softmax(-1)).gather(-1, tokens[:, None]).squeeze(-1)
    assert torch.allclose(shaped_advantage(teacher, student, tokens, 0.5, 1.0), 0.5 * gap.clamp(-1, 1), atol=1e-6)
    assert (gap.abs() > 1).any()  # the clip matters in this draw
    assert torch.all(shaped_advantage(teacher, student, tokens, 0.0, 1.0) == 0)
    s = student.clone().requires_grad_(True)
    shaped_advantage(teacher, s, tokens, 0.5, 1.0).sum().backward() if shaped_advantage(teacher, s, tokens, 0.5, 1.0).requires_grad else None
    assert s.grad is None  # stop-gradient: a signal, not a loss

