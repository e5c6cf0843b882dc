"""Log-probabilities only where they are needed: the LM head runs on selected positions, never on the
whole [batch, sequence, vocabulary] tensor (the dominant memory cost of a naive loss)."""
from __future__ import annotations

import torch
from transformers import DynamicCache

from .models import base_model, decoder_call, output_cache

KV = list[tuple[torch.Tensor, torch.Tensor]]  # per layer (keys, values) [batch, heads, n, dim]


def hidden_states(model, input_ids: torch.Tensor, attention_mask: torch.Tensor | None,
                  prefix: KV | None = None) -> torch.Tensor:
    """Last-layer hidden states [batch, seq, hidden] (LoRA adapters, if any, are active); with `prefix`, the
    ids continue a prefix whose keys and values are given (and gradients flow into them)."""
    cache = DynamicCache(ddp_cache_data=prefix) if prefix is not None else None
    out = decoder_call(base_model(model).get_decoder(), input_ids=input_ids, attention_mask=attention_mask,
                       cache=cache, use_cache=cache is not None)
    return out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]


def prefix_kv(model, input_ids: torch.Tensor) -> KV:
    """The keys and values of a prefix, kept in the autograd graph (so a loss on later tokens trains it too)."""
    cache = output_cache(decoder_call(base_model(model).get_decoder(), input_ids=input_ids, use_cache=True))
    return [(layer.keys, layer.values) for layer in cache.layers]


def logits_at(model, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, rows: torch.Tensor,
              cols: torch.Tensor, prefix: KV | None = None) -> torch.Tensor:
    """Float32 logits [n, vocab] predicting the token after each selected (row, col) position of `input_ids`."""
    hidden = hidden_states(model, input_ids, attention_mask, prefix)
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
