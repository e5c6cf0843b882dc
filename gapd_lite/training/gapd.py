"""One GAPD update, the plain way: the reference that reads beside the paper (and that the fast path must equal).

    trajectories τ_1..τ_G per question  ~ π_θ                              (`sample_batch`)
    R_j  = F1(answer_j, gold) + bonus · (share of well-formed actions)     (`rewards.reward`)
    A_j  = (R_j − mean_g R) / (std_g R + eps)                              (`losses.group_advantages`)
    L_GRPO    = mean over the policy's own tokens i of −min(r_i A_j, clip(r_i) A_j)
    a*_t      = align(gold states, the student's entity sets before step t)   (`anchors`, mid-anchor matching)
    L_distill = mean over the tokens i of each student action t of D(π_θ(·| x_<i + hint(a*_t)) ‖ π_θ(·| x_<i)),
                teacher side stop-gradient
    L = L_GRPO + λ · L_distill
    (guidance=advantage, the variant: A_i += λ · clip(log π(y_i|x+hint) − log π(y_i|x), −c, c) on action tokens,
     and L = L_GRPO)

Everything here is one full forward per trajectory (the student) and one per distilled step (the teacher). The
fast path (`gapd_fast.py`: the teacher continues the student's KV cache, steps batched, the batch in chunks)
computes the same loss and gradient, as `tests/test_rl.py` checks.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import torch

from ..agent.prompts import hint_message
from ..agent.render import encode
from ..agent.rollout import RolloutConfig, rollout
from ..agent.trajectory import Trajectory
from ..anchors import MidAnchorMatcher, PrefixMatcher, align_trajectory
from ..env.kbqa_env import EnvConfig
from ..errors import EndpointError
from ..kb.base import KB
from ..logic.sexpr import parse
from ..logic.to_actions import GoldStep, gold_steps, to_actions
from .config import GAPDConfig
from .losses import (distill_loss, gapd_loss, group_advantages, grpo_loss, selected_logp, shaped_advantage,
                     until_first_disagreement)
from .rewards import RewardConfig, f1, reward

logger = logging.getLogger(__name__)


@dataclass
class Batch:
    """What one update consumes: the trajectories (G per question, question-major), rewards, advantages, gold."""
    trajectories: list[Trajectory]
    rewards: torch.Tensor
    advantages: torch.Tensor
    gold: list[list[GoldStep]] = field(default_factory=list)  # one gold program per trajectory
    rollout_seconds: float = 0.0


def rollout_config(cfg: GAPDConfig, seed: int) -> RolloutConfig:
    """How an update samples its episodes."""
    return RolloutConfig(group_size=cfg.group_size, batch_size=cfg.rollout_batch, max_new_tokens=cfg.max_new_tokens,
                         temperature=cfg.temperature, top_p=cfg.top_p, seed=seed, env=EnvConfig(max_turns=cfg.max_turns))


def sample_batch(policy, kb: KB, questions, cfg: GAPDConfig, seed: int, generator=None) -> Batch:
    """G rollouts per question, their rewards and group advantages, and each question's gold program.

    `generator`: a `models.MergedGenerator` synced to the policy, to sample from merged 16-bit weights."""
    t0 = time.perf_counter()
    model = generator.model if generator is not None else policy.model
    trajs = rollout(model, policy.tokenizer, kb, questions, rollout_config(cfg, seed), progress=False)
    rewards = torch.tensor([reward(t.answer, t.question.answer_set, sum(s.valid for s in t.steps), len(t.steps),
                                   RewardConfig(cfg.format_bonus)) for t in trajs])
    failed = torch.tensor([t.failed is not None for t in trajs])
    advantages = group_advantages(rewards, cfg.group_size).masked_fill(failed, 0.0)
    if failed.any():  # the KB failed (endpoint down after retries): those episodes teach nothing
        rewards = rewards.masked_fill(failed, 0.0)
        logger.warning("%d of %d episodes failed on the KB (%s); they get no gradient and training goes on",
                       int(failed.sum()), len(trajs), next(t.failed for t in trajs if t.failed))
    gold = [program for program in gold_programs(questions, kb) for _ in range(cfg.group_size)]
    return Batch(trajs, rewards, advantages, gold, time.perf_counter() - t0)


def gold_programs(questions, kb: KB) -> list[list[GoldStep]]:
    """Each question's gold steps; empty when the KB cannot run them now (the matcher then has no anchor)."""
    out = []
    for q in questions:
        try:
            out.append(gold_steps(to_actions(parse(q.s_expression)), kb))
        except EndpointError:
            out.append([])
    return out


@dataclass(frozen=True)
class DistillStep:
    """One student action to distil: its context ends at `prefix_end` (after the observation before it), the hint
    carries the aligned gold action, and `span` is [start, end) of the action's tokens."""
    prefix_end: int
    hint: list[int]
    span: tuple[int, int]


def distill_steps(traj: Trajectory, gold: list[GoldStep], cfg: GAPDConfig, tokenizer) -> list[DistillStep]:
    """The steps of one trajectory that get a teacher, each with the aligned gold action as its hint."""
    if traj.failed is not None or not gold:  # no KB answer or no gold program: nothing to align with
        return []
    matcher = MidAnchorMatcher(cfg.jaccard) if cfg.matcher == "mid_anchor" else PrefixMatcher()
    r = traj.rendered
    return [DistillStep(r.obs_ends[t], encode(tokenizer, hint_message(str(al.action))), span)
            for t, (al, span) in enumerate(zip(align_trajectory(matcher, gold, traj.steps, cfg.explore),
                                               r.action_spans))
            if span is not None and t < len(r.obs_ends)]


def teacher_context(ids: list[int], step: DistillStep) -> list[int]:
    """The teacher's input: the student's context up to the step, the hint, then the step's turn up to its action."""
    return ids[:step.prefix_end] + step.hint + ids[step.prefix_end:step.span[1]]


def next_token_logits(model, ids: list[int]) -> torch.Tensor:
    """Float32 logits [len(ids), vocab]: row i predicts token i + 1."""
    device = next(model.parameters()).device
    return model(input_ids=torch.tensor([ids], device=device)).logits[0].float()


def gapd_update(policy, batch: Batch, cfg: GAPDConfig, lam: float) -> tuple[torch.Tensor, dict]:
    """L = L_GRPO + λ · L_distill over one batch (λ = 0: GRPO), and what it was made of."""
    model, tok = policy.model, policy.tokenizer
    logps, advantages, student, teacher, keep = [], [], [], [], []
    for traj, adv, gold in zip(batch.trajectories, batch.advantages, batch.gold):
        ids, mask = traj.rendered.ids, traj.rendered.mask
        logits = next_token_logits(model, ids)
        own = [i for i in range(1, len(ids)) if mask[i]]  # the tokens the policy wrote
        target = torch.tensor([ids[i] for i in own], device=logits.device)
        logps.append(selected_logp(logits[[i - 1 for i in own]], target))
        advantages.append(adv.expand(len(own)).clone().to(logits.device))
        for step in distill_steps(traj, gold, cfg, tok) if lam > 0 else []:
            a, b = step.span
            with torch.no_grad():  # the teacher: the same policy, with the aligned gold action in its context
                hinted = next_token_logits(model, teacher_context(ids, step))
            shift = len(step.hint)  # the action's tokens sit `shift` positions later in the teacher's input
            student.append(logits[a - 1:b - 1])
            teacher.append(hinted[a - 1 + shift:b - 1 + shift])
            actual = torch.tensor(ids[a:b], device=logits.device)
            keep.append(distilled(teacher[-1], actual, cfg))
            if cfg.guidance == "advantage":  # the variant: the teacher's token signal shapes the advantage instead
                k = own.index(a)
                advantages[-1][k:k + b - a] += shaped_advantage(teacher[-1], student[-1], actual, lam, cfg.shaping_clip)
    logp = torch.cat(logps)
    adv = torch.cat(advantages).to(logp.device)
    loss_grpo = grpo_loss(logp, logp.detach(), adv, cfg.epsilon)  # one update per batch: π_old = π_θ (ratio 1)
    loss_distill = (distill_loss(torch.cat(student), torch.cat(teacher), cfg.divergence, cfg.jsd_beta,
                                 keep=torch.cat(keep)) if student else torch.zeros((), device=logp.device))
    stats = {"grpo_loss": loss_grpo.item(), "lambda": lam, "distill_loss": loss_distill.item(),
             "policy_tokens": float(logp.numel()), "action_tokens": float(sum(s.shape[0] for s in student)),
             "distilled_tokens": float(sum(int(k.sum()) for k in keep)),
             **episode_stats(batch.trajectories, batch.rewards, batch, cfg)}
    return gapd_loss(loss_grpo, loss_distill, lam if cfg.guidance == "kl" else 0.0), stats


def distilled(teacher_logits: torch.Tensor, tokens: torch.Tensor, cfg: GAPDConfig) -> torch.Tensor:
    """Which of an action's tokens the divergence covers: all, or up to the teacher's first other choice."""
    if cfg.distill_tokens == "until_disagreement":
        return until_first_disagreement(teacher_logits, tokens)
    return torch.ones(len(tokens), dtype=torch.bool, device=tokens.device)


def episode_stats(trajs: list[Trajectory], rewards: torch.Tensor, batch: Batch, cfg: GAPDConfig) -> dict:
    """What the episodes `trajs` (with their `rewards`) of `batch` earned and how well-formed they were."""
    return {"reward": rewards.mean().item(),
            "f1": sum(f1(t.answer, t.question.answer_set) for t in trajs) / len(trajs),
            "valid_format": sum(s.valid for t in trajs for s in t.steps) / max(1, sum(len(t.steps) for t in trajs)),
            "zero_advantage_groups": zero_advantage_share(batch.advantages, cfg.group_size),
            "failed_episodes": float(sum(t.failed is not None for t in trajs)), "rollout_s": batch.rollout_seconds}


def zero_advantage_share(advantages: torch.Tensor, group_size: int) -> float:
    """The share of question groups whose rollouts all earned the same reward: GRPO learns nothing from them."""
    if advantages.numel() % group_size:  # not laid out in whole groups (a benchmark's single trajectory)
        return float("nan")
    groups = advantages.view(-1, group_size)
    return (groups.abs().amax(dim=1) == 0).float().mean().item()
