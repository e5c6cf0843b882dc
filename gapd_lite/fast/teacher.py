"""The hinted teacher without recomputing the student's context: it continues the student's KV cache.

The teacher's context is the student's up to the end of the observation before step t, then the hint, then turn t
up to its last action token. The student's forward already holds the keys and values of that prefix, so only
hint + turn t are new. Several steps run together: their prefixes are left-padded into one cache, their new
tokens left-padded after it, and the attention mask hides the pads (positions follow from it), so each row sees
exactly its own context. Equal to `training.gapd`'s full teacher forward (tests/test_rl.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache

from ..models import decoder_call
from .kv_cache import KVState, batch_layers, cache_attention_mask


@dataclass(frozen=True)
class TeacherJob:
    """One distilled step: its trajectory's row in the batch, where its context ends, the hint ids, the action span."""
    row: int
    prefix_end: int
    hint: list[int]
    span: tuple[int, int]


@torch.no_grad()
def teacher_logits(decoder, head, ids: torch.Tensor, jobs: list[TeacherJob], cache=None,
                   batch: int = 8) -> list[torch.Tensor]:
    """The hinted teacher's float32 logits at each job's action positions (stop-grad), `batch` steps per forward;
    without the student's `cache`, each step is one full forward of its whole context."""
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
