"""The fast path of one GAPD update: the same loss and gradient as `gapd.gapd_update`, computed cheaply.

- the student runs once over the right-padded batch, the LM head only where the policy wrote a token;
- the teacher continues the student's KV cache (`teacher_cache`), several steps per forward (`teacher_batch`);
- the batch is cut into chunks of `update_chunk` trajectories, each weighted by its share of the tokens, so the
  parts add up to the whole batch's token-level means; the loop backpropagates each part as it comes, so only
  one chunk's activations are alive.
"""
from __future__ import annotations

import time
from typing import Iterator

import torch

from ..fast.teacher import TeacherJob, teacher_logits
from ..logprobs import pad_batch, target_positions
from ..models import base_model, decoder_call, output_cache
from .config import GAPDConfig
from .gapd import Batch, DistillStep, distill_steps, distilled, episode_stats
from .loop import Part
from .losses import distill_loss, gapd_loss, grpo_loss, selected_logp, shaped_advantage

_SUMMED = ("policy_tokens", "action_tokens", "distilled_tokens", "failed_episodes", "forward_s", "teacher_s")


def fast_update_parts(policy, batch: Batch, cfg: GAPDConfig, lam: float, weight: float = 1.0) -> Iterator[Part]:
    """The update's loss in parts (one per chunk), each already × `weight`; their sum is `gapd_update`'s loss."""
    trajs, tok = batch.trajectories, policy.tokenizer
    steps = [distill_steps(t, g, cfg, tok) if lam > 0 else [] for t, g in zip(trajs, batch.gold)]
    policy_tokens = [sum(t.rendered.mask[1:]) for t in trajs]
    action_tokens = [sum(s.span[1] - s.span[0] for s in st) for st in steps]
    total_policy, total_action = max(1, sum(policy_tokens)), max(1, sum(action_tokens))
    size = cfg.update_chunk or len(trajs)
    for i in range(0, len(trajs), size):
        rows = range(i, min(len(trajs), i + size))
        shares = (sum(policy_tokens[b] for b in rows) / total_policy, sum(action_tokens[b] for b in rows) / total_action)
        loss, stats = _chunk_loss(policy, batch, rows, [steps[b] for b in rows], cfg, lam, shares)
        weights = {"grpo_loss": shares[0], "distill_loss": shares[1]}  # means over tokens, the rest over episodes
        share = len(rows) / len(trajs)
        yield Part(loss * weight, {k: v if k in _SUMMED else v * weights.get(k, share) for k, v in stats.items()})


def _chunk_loss(policy, batch: Batch, rows: range, steps: list[list[DistillStep]], cfg: GAPDConfig, lam: float,
                shares: tuple[float, float]) -> tuple[torch.Tensor, dict]:
    """GRPO and distillation means of the trajectories `rows`, × their `shares` of the batch's tokens."""
    tok, model = policy.tokenizer, policy.model
    device = next(model.parameters()).device
    trajs = [batch.trajectories[b] for b in rows]
    ids, attn, mask = pad_batch([t.rendered.ids for t in trajs], [t.rendered.mask for t in trajs],
                                tok.pad_token_id, device)
    base = base_model(model)
    decoder, head = base.get_decoder(), base.get_output_embeddings()
    t0 = time.perf_counter()
    jobs = [TeacherJob(k, s.prefix_end, s.hint, s.span) for k, st in enumerate(steps) for s in st]
    need_cache = bool(jobs) and cfg.teacher_cache
    out = decoder_call(decoder, input_ids=ids, attention_mask=attn, use_cache=need_cache)
    hidden = out.last_hidden_state
    r, c = target_positions(mask)
    logp = selected_logp(head(hidden[r, c]).float(), ids[r, c + 1])
    adv = batch.advantages[rows.start:rows.stop].to(device)[r]
    loss_distill = torch.zeros((), device=device)
    teacher_s, keep = 0.0, []
    if jobs:
        cache = output_cache(out) if need_cache else None
        rebuild = need_cache and cache is None  # gradient checkpointing keeps no KV cache in training mode
        if rebuild:
            model.eval()  # one no-grad pass builds the prefix cache the teacher continues from
            with torch.no_grad():
                cache = output_cache(decoder_call(decoder, input_ids=ids, attention_mask=attn, use_cache=True))
        tt = time.perf_counter()
        teacher = teacher_logits(decoder, head, ids, jobs, cache, cfg.teacher_batch)
        teacher_s = time.perf_counter() - tt
        if rebuild:
            model.train()
        student = [head(hidden[j.row, j.span[0] - 1:j.span[1] - 1]).float() for j in jobs]
        keep = [distilled(t, ids[j.row, j.span[0]:j.span[1]], cfg) for j, t in zip(jobs, teacher)]
        loss_distill = distill_loss(torch.cat(student), torch.cat(teacher), cfg.divergence, cfg.jsd_beta,
                                    keep=torch.cat(keep))
        if cfg.guidance == "advantage":  # λ·clipped gap onto the advantage at each action token's position
            extra = torch.zeros(mask.shape, device=device)
            for j, t, s in zip(jobs, teacher, student):
                extra[j.row, j.span[0] - 1:j.span[1] - 1] = shaped_advantage(
                    t, s, ids[j.row, j.span[0]:j.span[1]], lam, cfg.shaping_clip)
            adv = adv + extra[r, c]
    loss_grpo = grpo_loss(logp, logp.detach(), adv, cfg.epsilon)
    stats = {"grpo_loss": loss_grpo.item(), "lambda": lam, "distill_loss": loss_distill.item(),
             "policy_tokens": float(r.numel()), "action_tokens": float(sum(j.span[1] - j.span[0] for j in jobs)),
             "distilled_tokens": float(sum(int(k.sum()) for k in keep)),
             **episode_stats(trajs, batch.rewards[rows.start:rows.stop], batch, cfg),
             "forward_s": time.perf_counter() - t0, "teacher_s": teacher_s}
    return gapd_loss(shares[0] * loss_grpo, shares[1] * loss_distill, lam if cfg.guidance == "kl" else 0.0), stats
