"""Per-episode KV caches for multi-turn rollouts: kept between turns, batched for decoding, grown in place."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import DynamicCache, StaticCache
from transformers.cache_utils import DynamicLayer

from ..models import base_model, decoder_call, output_cache


@dataclass
class KVState:
    """One episode's key/value cache: per layer (keys, values) [1, heads, n, dim] for its first n tokens."""
    layers: list[tuple[torch.Tensor, torch.Tensor]]
    length: int


class GrowingLayer(DynamicLayer):
    """A DynamicLayer that appends into a preallocated buffer instead of concatenating the whole cache per token.

    transformers' DynamicLayer copies every cached key and value at each decoded token (`torch.cat`), a cost that
    grows with batch × context and that batching does not share. Here `keys`/`values` are views of a buffer with
    `reserve` free positions; when it is full (or the views were replaced, e.g. by `batch_select_indices`) the
    buffer is rebuilt once. Attention sees exactly the cached length, as with DynamicLayer.
    """

    def __init__(self, reserve: int = 128):
        super().__init__()
        self.reserve = reserve
        self._buffers: tuple[torch.Tensor, torch.Tensor] | None = None

    def _fits(self, need: int, batch: int) -> bool:
        if self._buffers is None:
            return False
        kbuf = self._buffers[0]
        return (need <= kbuf.shape[-2] and kbuf.shape[0] == batch and self.keys.shape[0] == batch
                and self.keys.data_ptr() == kbuf.data_ptr() and self.keys.stride() == kbuf.stride())

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        n = self.keys.shape[-2] if self.keys.numel() else 0
        need = n + key_states.shape[-2]
        if not self._fits(need, key_states.shape[0]):
            b, h, _, d = key_states.shape
            kbuf = key_states.new_empty((b, h, need + self.reserve, d))
            vbuf = value_states.new_empty((b, value_states.shape[1], need + self.reserve, value_states.shape[3]))
            if n:
                kbuf[:, :, :n] = self.keys
                vbuf[:, :, :n] = self.values
            self._buffers = (kbuf, vbuf)
        kbuf, vbuf = self._buffers
        kbuf[:, :, n:need] = key_states
        vbuf[:, :, n:need] = value_states
        self.keys, self.values = kbuf[:, :, :need], vbuf[:, :, :need]
        return self.keys, self.values

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep only these batch rows (episodes whose turn is over leave the batch), buffer room included."""
        n = self.get_seq_length()
        if n and self._fits(n, self.keys.shape[0]):
            rows = indices.tolist()  # slices and one cat: 4x faster than advanced indexing on a CPU here
            self._buffers = tuple(torch.cat([buf[r:r + 1] for r in rows]) for buf in self._buffers)
            self.keys, self.values = self._buffers[0][:, :, :n], self._buffers[1][:, :, :n]
        else:
            super().batch_select_indices(indices)


def growing_cache(layers: list[tuple[torch.Tensor, torch.Tensor]], reserve: int) -> DynamicCache:
    """A DynamicCache of GrowingLayers holding `layers`, with room for `reserve` more tokens before a regrow."""
    cache = DynamicCache()
    cache.layers = [GrowingLayer(reserve) for _ in layers]
    for layer, (keys, values) in zip(cache.layers, layers):
        layer.update(keys, values)
    return cache


def batch_layers(states: list[KVState | None], width: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Left-pad every episode's cache to `width` positions and stack them, layer by layer."""
    ref = next(s for s in states if s is not None)
    layers = []
    for i, (k0, v0) in enumerate(ref.layers):
        keys = k0.new_zeros((len(states), k0.shape[1], width, k0.shape[3]))
        values = v0.new_zeros((len(states), v0.shape[1], width, v0.shape[3]))
        for r, s in enumerate(states):
            if s is not None and s.length:
                keys[r, :, width - s.length:] = s.layers[i][0][0]
                values[r, :, width - s.length:] = s.layers[i][1][0]
        layers.append((keys, values))
    return layers


def take_positions(kv: torch.Tensor, row: int, spans) -> torch.Tensor:
    """Row `row` of a [batch, heads, positions, dim] cache, at the positions of `spans` ((start, end) pairs).

    Slices and one cat: `index_select` along the positions costs ~100x more on a CPU (7 ms against 50 us per
    layer for a 900-position cache on 2 CPU cores), and it runs for every layer of
    every finished turn.
    """
    return torch.cat([kv[row:row + 1, :, a:b] for a, b in spans if b > a], dim=2)


def cache_attention_mask(cached: list[int], new: list[int], device=None) -> torch.Tensor:
    """The mask over [cached tokens, left-padded][new tokens, left-padded]: 1 on each row's own tokens only."""
    width_c, width_n = max(cached), max(new)
    return torch.tensor([[0] * (width_c - c) + [1] * c + [0] * (width_n - n) + [1] * n for c, n in zip(cached, new)],
                        device=device)


def batch_cache(model, states: list[KVState | None], width: int, capacity: int, kind: str):
    """The batch's starting cache for decoding up to `capacity` positions (None: nothing cached yet).

    kind: "growing" (default: appends in place), "dynamic" (transformers' DynamicCache, one copy of the whole
    cache per token) or "static" (a preallocated StaticCache; attention then spans all `capacity` positions).
    """
    layers = batch_layers(states, width) if width else None
    if kind == "growing":
        return growing_cache(layers, capacity - width) if layers else None
    if kind == "dynamic":
        return DynamicCache(ddp_cache_data=layers) if layers else None
    cache = StaticCache(config=base_model(model).config, max_cache_len=capacity)
    for layer, (keys, values) in zip(cache.layers, layers or []):
        layer.update(keys, values)
    return cache


@torch.no_grad()
def extend_state(model, state: KVState | None, ids: list[int]) -> KVState | None:
    """One episode's cache after prefilling `ids` on top of `state` (batch 1: no padding, positions follow on)."""
    if not ids:
        return state
    device = next(model.parameters()).device
    cache = DynamicCache(ddp_cache_data=state.layers) if state is not None and state.length else None
    out = decoder_call(base_model(model).get_decoder(), input_ids=torch.tensor([ids], device=device), cache=cache,
                       use_cache=True)
    layers = [(layer.keys, layer.values) for layer in output_cache(out).layers]
    return KVState(layers, (state.length if state is not None else 0) + len(ids))


def prefix_state(model, ids: list[int]) -> KVState:
    """The KV cache of a prompt prefix, computed once and handed to every episode as its starting cache."""
    return extend_state(model, None, ids)
