"""SFT one dialogue at a time, the system prompt that every dialogue shares run once: the same loss and gradient
as the padded batch (`training.sft.sft_loss`), without pads and with one dialogue's activations alive at a time.

The prefix's keys and values are computed once, in the graph. Each dialogue reads detached copies of them, whose
gradients add up as the loop backpropagates each dialogue's loss; a final carrier term Σ kv · (added-up gradient)
then sends them into the prefix, so the prefix backpropagates once, exactly as if each dialogue had run it
(Σ_d ∂loss_d/∂kv · ∂kv/∂θ).
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch
import torch.nn.functional as F

from ..logprobs import logits_at, prefix_kv, target_positions

MIN_SHARED = 16  # below this many shared tokens, running the prefix separately is not worth its bookkeeping


def shared_prefix(batch: Sequence) -> int:
    """How many leading tokens every dialogue (`.ids`, `.mask`) shares before the first position whose logits a
    loss needs; each dialogue keeps at least one token after it."""
    first = batch[0].ids
    limit = min(min(len(e.ids) for e in batch) - 1,
                min((e.mask.index(1, 1) - 1 if 1 in e.mask[1:] else len(e.ids)) for e in batch))
    n = 0
    while n < limit and all(e.ids[n] == first[n] for e in batch):
        n += 1
    return n


def one_at_a_time(model, batch: Sequence, weight: float, share: bool = True) -> Iterator[tuple[torch.Tensor, bool]]:
    """(loss, counted) pairs, one per dialogue (× its share of the batch's policy tokens × `weight`), then, with a
    shared prefix, the carrier (counted False); the caller backpropagates each pair before asking for the next."""
    device = next(model.parameters()).device
    counts = [sum(e.mask[1:]) for e in batch]  # positions whose next token is the agent's
    total = sum(counts)
    n = shared_prefix(batch) if share else 0
    n = n if n >= MIN_SHARED else 0
    kv = prefix_kv(model, torch.tensor([batch[0].ids[:n]], device=device)) if n else None
    grad = torch.is_grad_enabled()
    copies = [(k.detach().requires_grad_(grad), v.detach().requires_grad_(grad)) for k, v in kv] if kv else None
    for i, e in enumerate(batch):
        ids = torch.tensor([e.ids], device=device)
        rows, cols = target_positions(torch.tensor([e.mask], device=device))
        logits = logits_at(model, ids[:, n:], None, rows, cols - n, copies)
        yield F.cross_entropy(logits, ids[rows, cols + 1]) * (counts[i] / total * weight), True
    if kv and grad:
        yield sum((t * c.grad).sum() for pair, cpair in zip(kv, copies) for t, c in zip(pair, cpair)
                  if c.grad is not None), False
