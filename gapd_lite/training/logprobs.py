"""Log-probabilities only where they are needed: the LM head runs on selected positions, never on the
whole [batch, sequence, vocabulary] tensor (the dominant memory cost of a naive loss)."""
from __future__ import annotations

from typing import Callable

import torch

from ..models import base_model


def hidden_states(model, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Last-layer hidden states [batch, seq, hidden] (LoRA adapters, if any, are active)."""
    base = base_model(model)
    out = base.get_decoder()(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
    return out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]


def logits_at(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, rows: torch.Tensor,
              cols: torch.Tensor) -> torch.Tensor:
    """Float32 logits [n, vocab] predicting the token after each selected (row, col) position."""
    hidden = hidden_states(model, input_ids, attention_mask)
    head = base_model(model).get_output_embeddings()
    return head(hidden[rows, cols]).float()


def target_positions(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, cols) of positions whose *next* token is a policy token (mask 1)."""
    nxt = torch.zeros_like(mask)
    nxt[:, :-1] = mask[:, 1:]
    rows, cols = nxt.nonzero(as_tuple=True)
    return rows, cols


def pad_batch(sequences: list[list[int]], masks: list[list[int]], pad_id: int, device=None):
    """Right-pad ids, attention and policy masks into tensors."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(sequences), width), dtype=torch.long)
    pmask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, (s, m) in enumerate(zip(sequences, masks)):
        ids[i, : len(s)] = torch.tensor(s)
        attn[i, : len(s)] = 1
        pmask[i, : len(m)] = torch.tensor(m)
    return ids.to(device), attn.to(device), pmask.to(device)


def backward_in_parts(n: int, part: Callable[[int], torch.Tensor], scale: float = 1.0) -> torch.Tensor:
    """The sum of `part(0)` … `part(n - 1)`, each part but the last backpropagated (× `scale`) as soon as it is
    computed, so only one part's activations are alive at a time. The returned tensor's backward adds the last
    part, and its value is the whole sum. Under `torch.no_grad` nothing is backpropagated: only the value."""
    done = 0.0
    for k in range(n - 1):
        loss = part(k)
        if torch.is_grad_enabled():
            (loss * scale).backward()
        done += loss.item()
    return part(n - 1) + done
