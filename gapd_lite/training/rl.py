"""GRPO and GAPD updates: sample G rollouts per question, score them, and take one policy-gradient step —
plus, for GAPD, distil the gold-hinted policy into the plain one over the student's action tokens.

One update (`rl_update_loss`):
  1. rollouts (no grad), rewards = F1 + format bonus, group-normalised advantages;
  2. one student forward over every trajectory, logits only at the policy's own tokens → GRPO loss;
  3. GAPD (λ > 0): for each step t with an action, mid-anchor matching gives the aligned gold action;
     the teacher — same weights, context + hint — continues from the student's cached prefix (the
     contexts agree up to the hint), so it only reads hint + turn t; divergence over the action tokens.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

import torch
from transformers import DynamicCache

from ..agent.kv_cache import KVState, batch_layers, cache_attention_mask
from ..agent.render import encode
from ..agent.prompts import TURN_TOKENS, hint_message
from ..agent.rollout import RolloutConfig, rollout
from ..agent.trajectory import Trajectory
from ..anchors import MidAnchorMatcher, PrefixMatcher, align_trajectory
from ..env.kbqa_env import EnvConfig
from ..errors import ConfigError, EndpointError
from ..kb.base import KB
from ..logic.sexpr import parse
from ..logic.to_actions import GoldStep, gold_steps, to_actions
from ..models import base_model, decoder_call, output_cache
from .losses import distill_loss, gapd_loss, group_advantages, grpo_loss, selected_logp, until_first_disagreement
from .logprobs import backward_in_parts, pad_batch
from .rewards import f1, reward

logger = logging.getLogger(__name__)

MATCHERS = {"mid_anchor": MidAnchorMatcher, "prefix": PrefixMatcher}


@dataclass(frozen=True)
class RLSettings:
    """The RL part of a run's config (TrainConfig holds model, optimiser and budget)."""
    group_size: int = 4
    lam: float = 0.0  # distillation weight λ; 0 = plain GRPO
    lam_schedule: str = "constant"  # constant | linear_decay (λ → 0 at the last update) | warmup (0 → λ over 20%)
    divergence: str = "forward_kl"  # forward_kl | reverse_kl | jsd
    distill_tokens: str = "all"  # all | until_disagreement (each action's tokens up to the teacher's first other choice)
    jsd_beta: float = 0.5
    matcher: str = "mid_anchor"  # mid_anchor | prefix
    explore: bool = True  # the gold program looks at a topic entity's relations before its first hop, as the SFT data does
    jaccard: float = 1.0  # < 1: a gold state is covered by a student set with Jaccard ≥ this
    epsilon: float = 0.2
    kl_beta: float = 0.0
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = TURN_TOKENS
    env_steps: int = 6
    format_bonus: float = 0.1
    sft_weight: float = 0.0  # ablation: + w × SFT loss on the gold trajectory ("gold only as supervised data")
    teacher_cache: bool = True  # reuse the student's prefix KV for the teacher (False: full teacher forwards)
    teacher_batch: int = 8  # distilled steps whose teacher forwards run together (1: one step at a time)
    merged_generation: bool = False  # roll out from a merged 16-bit copy (fast on a GPU with a 4-bit base)
    update_chunk: int = 0  # trajectories per forward/backward (same loss and gradient; 0 = the whole batch at once)
    rollout_batch: int = 8  # episodes generated together (a GPU takes a whole update's G × questions at once)

    def __post_init__(self) -> None:
        if self.group_size < 2:
            raise ConfigError("group_size must be at least 2: GRPO compares rollouts of the same question")
        if self.lam < 0 or self.sft_weight < 0:
            raise ConfigError("lam and sft_weight must be >= 0")
        if self.lam_schedule not in ("constant", "linear_decay", "warmup"):
            raise ConfigError(f"lam_schedule={self.lam_schedule!r}: choose constant, linear_decay or warmup")
        if self.divergence not in ("forward_kl", "reverse_kl", "jsd"):
            raise ConfigError(f"divergence={self.divergence!r}: choose forward_kl, reverse_kl or jsd")
        if self.distill_tokens not in ("all", "until_disagreement"):
            raise ConfigError(f"distill_tokens={self.distill_tokens!r}: choose all or until_disagreement")
        if self.matcher not in MATCHERS:
            raise ConfigError(f"matcher={self.matcher!r}: choose {' or '.join(MATCHERS)}")
        if self.rollout_batch < 1:
            raise ConfigError(f"rollout_batch={self.rollout_batch}: must be >= 1")
        if self.teacher_batch < 1:
            raise ConfigError(f"teacher_batch={self.teacher_batch}: must be >= 1 (1 = one step at a time)")
        if self.update_chunk < 0:
            raise ConfigError(f"update_chunk={self.update_chunk}: must be >= 0 (0 = the whole batch at once)")

    def lam_at(self, step: int, total: int) -> float:
        if self.lam_schedule == "linear_decay":
            return self.lam * (1 - step / max(1, total))
        if self.lam_schedule == "warmup":
            return self.lam * min(1.0, step / max(1, 0.2 * total))
        return self.lam

    def rollout_config(self, seed: int) -> RolloutConfig:
        return RolloutConfig(group_size=self.group_size, batch_size=self.rollout_batch, max_new_tokens=self.max_new_tokens,
                             temperature=self.temperature, top_p=self.top_p, seed=seed,
                             env=EnvConfig(max_steps=self.env_steps))


@dataclass
class Batch:
    """What one update consumes: the trajectories, their rewards and advantages, the gold programs."""
    trajectories: list[Trajectory]
    rewards: torch.Tensor
    advantages: torch.Tensor
    gold: list[list[GoldStep]] = field(default_factory=list)
    rollout_seconds: float = 0.0
    gold_per_trajectory: bool = False  # gold[b] belongs to trajectory b (a chunk), not to question b // G

    def gold_for(self, b: int, group_size: int) -> list[GoldStep]:
        return self.gold[b if self.gold_per_trajectory else b // group_size]


def make_batch(policy, kb: KB, questions, settings: RLSettings, seed: int, generator=None) -> Batch:
    """Rollouts for the questions (G each) with rewards, advantages and the gold programs for matching.

    `generator`: a `models.MergedGenerator` synced to the policy, to generate from merged 16-bit weights.
    """
    t0 = time.perf_counter()
    trajs = rollout(generator.model if generator is not None else policy.model, policy.tokenizer, kb, questions, settings.rollout_config(seed), progress=False)
    rewards = torch.tensor([
        reward(t.answer, t.question.answer_set, sum(s.valid for s in t.steps), len(t.steps), _rc(settings))
        for t in trajs])
    failed = torch.tensor([t.failed is not None for t in trajs])
    advantages = group_advantages(rewards, settings.group_size).masked_fill(failed, 0.0)
    if failed.any():  # the KB failed (endpoint down after retries): those episodes teach nothing
        rewards = rewards.masked_fill(failed, 0.0)
        logger.warning("%d of %d episodes failed on the KB (%s); they get no gradient and training goes on",
                       int(failed.sum()), len(trajs), next(t.failed for t in trajs if t.failed))
    gold = _gold_programs(questions, kb)
    return Batch(trajs, rewards, advantages, gold, time.perf_counter() - t0)


def _gold_programs(questions, kb: KB) -> list[list[GoldStep]]:
    """The gold steps of each question; empty when the KB cannot run them now (the matcher then has no anchor)."""
    out = []
    for q in questions:
        try:
            out.append(gold_steps(to_actions(parse(q.s_expression)), kb))
        except EndpointError:
            out.append([])
    return out


def _rc(settings: RLSettings):
    from .rewards import RewardConfig
    return RewardConfig(format_bonus=settings.format_bonus)


@dataclass(frozen=True)
class TeacherJob:
    """One distilled step: trajectory row, where its context ends (before turn t), the hint ids, the action span."""
    row: int
    prefix_end: int
    hint: list[int]
    span: tuple[int, int]


@torch.no_grad()
def teacher_logits(decoder, head, ids: torch.Tensor, jobs: list[TeacherJob], cache=None,
                   batch: int = 8) -> list[torch.Tensor]:
    """The hinted teacher's logits at each job's action positions (stop-grad), `batch` steps per forward.

    The teacher's context is the student's up to the end of the observation before step t, then the hint, then
    turn t up to its last action token. With the student's KV `cache`, that prefix is not recomputed: the steps'
    prefixes are left-padded into one cache, their hint + turn tokens left-padded after it, and the mask hides
    the pads (positions follow from it), so each row sees exactly its own context. Without a cache (the naive
    ablation), each step is one full forward.
    """
    out: list[torch.Tensor] = []
    device = ids.device
    size = max(1, batch) if cache is not None else 1
    for i in range(0, len(jobs), size):
        group = jobs[i:i + size]
        new = [torch.cat([torch.tensor(j.hint, device=device), ids[j.row, j.prefix_end:j.span[1] - 1]]) for j in group]
        if cache is None:
            j = group[0]
            hidden = decoder_call(decoder, input_ids=torch.cat([ids[j.row, :j.prefix_end], new[0]]).unsqueeze(0),
                                  use_cache=False).last_hidden_state
            starts = [j.prefix_end]
        else:
            width_c, width_n = max(j.prefix_end for j in group), max(len(n) for n in new)
            layers = batch_layers([KVState([(layer.keys[j.row:j.row + 1, :, :j.prefix_end],
                                             layer.values[j.row:j.row + 1, :, :j.prefix_end]) for layer in cache.layers],
                                           j.prefix_end) for j in group], width_c)
            input_ids = torch.stack([torch.cat([n.new_zeros(width_n - len(n)), n]) for n in new])
            attention = cache_attention_mask([j.prefix_end for j in group], [len(n) for n in new], device)
            positions = (attention.cumsum(-1) - 1).clamp(min=0)[:, width_c:]
            hidden = decoder_call(decoder, input_ids=input_ids, attention_mask=attention, position_ids=positions,
                                  cache=DynamicCache(ddp_cache_data=layers), use_cache=True).last_hidden_state
            starts = [width_n - len(n) for n in new]
        for k, (j, n) in enumerate(zip(group, new)):
            first = starts[k] + len(j.hint)  # where turn t's tokens begin among this row's new tokens
            offset = j.span[0] - 1 - j.prefix_end  # the token before the action, counted from the end of the prefix
            out.append(head(hidden[k, first + offset:first + offset + j.span[1] - j.span[0]]).float())
    return out


def rl_update_loss(policy, batch: Batch, settings: RLSettings, lam: float, sft_examples=None,
                   weights: tuple[float, float] = (1.0, 1.0)) -> tuple[torch.Tensor, dict]:
    """The loss of one GRPO (λ = 0) or GAPD update on a batch of trajectories, with timing stats.

    `weights` multiply the GRPO and distillation means: a chunk's share of the whole batch's tokens, so
    that chunks (`chunked_update_loss`) add up to the token-level means over the whole batch.
    """
    tok, model = policy.tokenizer, policy.model
    device = next(model.parameters()).device
    trajs = batch.trajectories
    ids, attn, mask = pad_batch([t.rendered.ids for t in trajs], [t.rendered.mask for t in trajs],
                                tok.pad_token_id, device)
    base = base_model(model)
    decoder, head = base.get_decoder(), base.get_output_embeddings()
    t0 = time.perf_counter()
    need_cache = lam > 0 and settings.teacher_cache
    out = decoder_call(decoder, input_ids=ids, attention_mask=attn, use_cache=need_cache)
    hidden = out.last_hidden_state
    nxt = torch.zeros_like(mask)
    nxt[:, :-1] = mask[:, 1:]
    rows, cols = nxt.nonzero(as_tuple=True)
    logits = head(hidden[rows, cols]).float()
    logp = selected_logp(logits, ids[rows, cols + 1])
    adv = batch.advantages.to(device)[rows]
    loss_grpo = grpo_loss(logp, logp.detach(), adv, settings.epsilon)
    stats = {"reward": batch.rewards.mean().item(), "grpo_loss": loss_grpo.item(), "policy_tokens": float(rows.numel()),
             "f1": sum(f1(t.answer, t.question.answer_set) for t in trajs) / len(trajs),
             "valid_format": sum(s.valid for t in trajs for s in t.steps) / max(1, sum(len(t.steps) for t in trajs)),
             "rollout_s": batch.rollout_seconds, "lambda": lam,
             "failed_episodes": float(sum(t.failed is not None for t in trajs))}

    loss_distill = torch.zeros((), device=device)
    match_s = teacher_s = 0.0
    if lam > 0:
        matcher_cls = MATCHERS[settings.matcher]
        matcher = matcher_cls(settings.jaccard) if matcher_cls is MidAnchorMatcher else matcher_cls()
        cache = output_cache(out) if need_cache else None
        rebuild = need_cache and cache is None  # gradient checkpointing keeps no KV cache in training mode
        if rebuild:
            model.eval()  # so one no-grad pass builds the prefix cache, and the teacher may continue from it
            with torch.no_grad():
                cache = output_cache(decoder_call(decoder, input_ids=ids, attention_mask=attn, use_cache=True))
        student_parts, jobs = [], []
        for b, traj in enumerate(trajs):
            if not _distilled(traj, batch.gold_for(b, settings.group_size)):
                continue
            tm = time.perf_counter()
            alignments = align_trajectory(matcher, batch.gold_for(b, settings.group_size), traj.steps, settings.explore)
            match_s += time.perf_counter() - tm
            r = traj.rendered
            for t, (al, span) in enumerate(zip(alignments, r.action_spans)):
                if _distilled_step(r, t, span):
                    jobs.append(TeacherJob(b, r.obs_ends[t], encode(tok, hint_message(str(al.action))), span))
                    student_parts.append(head(hidden[b, span[0] - 1:span[1] - 1]).float())
        tt = time.perf_counter()
        teacher_parts = teacher_logits(decoder, head, ids, jobs, cache, settings.teacher_batch)
        keep_parts = [until_first_disagreement(logits, ids[j.row, j.span[0]:j.span[1]])
                      if settings.distill_tokens == "until_disagreement"
                      else torch.ones(j.span[1] - j.span[0], dtype=torch.bool, device=device)
                      for j, logits in zip(jobs, teacher_parts)]
        teacher_s += time.perf_counter() - tt
        if rebuild:
            model.train()
        if student_parts:
            loss_distill = distill_loss(torch.cat(student_parts), torch.cat(teacher_parts), settings.divergence,
                                        beta=settings.jsd_beta, keep=torch.cat(keep_parts))
        stats.update(distill_loss=loss_distill.item(), action_tokens=float(sum(p.shape[0] for p in student_parts)),
                     distilled_tokens=float(sum(int(k.sum()) for k in keep_parts)),
                     teacher_prefix_reused=float(cache is not None))
    loss = gapd_loss(weights[0] * loss_grpo, weights[1] * loss_distill, lam)
    if settings.sft_weight > 0 and sft_examples:
        from .sft import sft_loss
        aux, _ = sft_loss(model, sft_examples, tok.pad_token_id)
        loss = loss + settings.sft_weight * aux
        stats["sft_loss"] = aux.item()
    stats.update(forward_s=time.perf_counter() - t0, match_s=match_s, teacher_s=teacher_s)
    return loss, stats


def _distilled(traj: Trajectory, gold) -> bool:
    """Trajectories that get a teacher: the KB answered (not failed) and the gold program is known."""
    return traj.failed is None and bool(gold)


def _distilled_step(r, t: int, span) -> bool:
    """Steps whose action tokens are distilled: an action was written and an observation precedes it."""
    return span is not None and t < len(r.obs_ends)


def _token_counts(traj: Trajectory, gold) -> tuple[int, int]:
    """(policy tokens the GRPO mean runs over, action tokens the distillation mean runs over)."""
    r = traj.rendered
    policy = sum(r.mask[1:])
    action = sum(span[1] - span[0] for t, span in enumerate(r.action_spans) if _distilled_step(r, t, span)) \
        if _distilled(traj, gold) else 0
    return policy, action


_SUMMED = ("policy_tokens", "action_tokens", "distilled_tokens", "failed_episodes", "forward_s", "match_s", "teacher_s")


def chunked_update_loss(policy, batch: Batch, settings: RLSettings, lam: float, sft_examples=None,
                        scale: float = 1.0) -> tuple[torch.Tensor, dict]:
    """`rl_update_loss` `update_chunk` trajectories at a time, so only one chunk's activations are alive.

    Each chunk's GRPO and distillation means are weighted by its share of the batch's tokens, so the sum is
    exactly the whole batch's token-level loss (and gradient). Every chunk but the last is backpropagated here
    (× `scale`, `backward_in_parts`); the returned tensor's backward adds the last, and its value is the whole loss.
    `sft_examples`: one per question in batch order (None where there is none); a question's example goes
    with the chunk holding its first rollout, weighted by that chunk's share of the examples.
    """
    n, g = len(batch.trajectories), settings.group_size
    size = settings.update_chunk or n
    gold = [batch.gold_for(b, g) for b in range(n)]
    counts = [_token_counts(t, gold[b]) for b, t in enumerate(batch.trajectories)]
    total_policy, total_action = max(1, sum(c[0] for c in counts)), max(1, sum(c[1] for c in counts))
    examples = list(sft_examples or [])
    n_examples = max(1, sum(e is not None for e in examples))
    stats_sum: dict[str, float] = {}
    starts = list(range(0, n, size))

    def chunk_loss(k: int) -> torch.Tensor:
        i = starts[k]
        j = min(n, i + size)
        part = Batch(batch.trajectories[i:j], batch.rewards[i:j], batch.advantages[i:j], gold[i:j],
                     batch.rollout_seconds, gold_per_trajectory=True)
        mine = [examples[b // g] for b in range(i, j) if b % g == 0 and b // g < len(examples) and examples[b // g]]
        part_settings = replace(settings, sft_weight=settings.sft_weight * len(mine) / n_examples) if mine else settings
        weights = (sum(c[0] for c in counts[i:j]) / total_policy, sum(c[1] for c in counts[i:j]) / total_action)
        loss, stats = rl_update_loss(policy, part, part_settings, lam, mine or None, weights)
        for key, v in stats.items():
            stats_sum[key] = stats_sum.get(key, 0.0) + (v if key in _SUMMED else v * (j - i) / n)
        return loss

    loss = backward_in_parts(len(starts), chunk_loss, scale)
    stats_sum["rollout_s"] = batch.rollout_seconds
    return loss, stats_sum
