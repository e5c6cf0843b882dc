"""Batched multi-turn rollouts: unfinished episodes generate together, the env steps between turns.

Each turn, the contexts of all unfinished episodes in a batch are left-padded and decoded together
by `model.generate`, in chunks between which episodes whose turn is over leave the batch; each
episode's KV cache carries over to its next turn (`fast/kv_cache.py`). Every episode then executes its
action in its own environment, appends the observation, and episodes that answered or ran out of
steps leave the batch. Token ids are kept exactly as generated; the mask marks them as the policy's own.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from ..data import Question
from ..env.kbqa_env import EnvConfig, KBQAEnv
from ..errors import ConfigError, require_positive
from ..kb.base import KB
from ..models import cache_kwargs, output_cache
from .gold import task_for
from ..fast.kv_cache import KVState, batch_cache, cache_attention_mask, extend_state, prefix_state, take_positions
from .prompts import TURN_TOKENS, PromptConfig
from .render import add_observation, add_turn, render_prompt
from .trajectory import Trajectory

STOP = "</action>"
KV_CACHES = ("growing", "dynamic", "static")


@dataclass(frozen=True)
class RolloutConfig:
    """How episodes are sampled: group size G, batch size, per-turn budget, sampling, seed."""
    group_size: int = 1
    batch_size: int = 8
    max_new_tokens: int = TURN_TOKENS
    max_context: int = 3072
    temperature: float = 1.0
    top_p: float = 1.0
    greedy: bool = False
    seed: int = 0
    env: EnvConfig = field(default_factory=EnvConfig)
    share_prefix: bool = True  # prefill the prompt prefix every episode shares (system prompt) once, not per episode
    ragged_prefill: bool = True  # prefill each episode's new tokens on its own (no pads), then decode the batch together,
    ragged_min_pad: int = 0  # ... when the padded batch would carry more than this many pads per episode on average
    decode_chunk: int = 16  # decode in chunks of this many tokens; episodes whose turn is over leave the batch
    kv_cache: str = "growing"  # growing (appends in place) | dynamic (transformers': copies the cache per token) | static

    def __post_init__(self) -> None:
        require_positive(self, "group_size", "batch_size", "max_new_tokens", "max_context")
        if not (isinstance(self.decode_chunk, int) and self.decode_chunk >= 0):
            raise ConfigError(f"RolloutConfig.decode_chunk={self.decode_chunk!r}: a number of tokens >= 0 "
                              "(0: decode each turn in one call)")
        if not self.greedy and not (self.temperature > 0 and 0 < self.top_p <= 1):
            raise ConfigError("sampling needs temperature > 0 and 0 < top_p <= 1 (or set greedy=True)")
        if self.kv_cache not in KV_CACHES:
            raise ConfigError(f"RolloutConfig.kv_cache={self.kv_cache!r}: choose one of {', '.join(KV_CACHES)}")


@dataclass
class _Episode:
    traj: Trajectory
    env: KBQAEnv
    kv: "KVState | None" = None


def stop_token_ids(tokenizer) -> list[int]:
    """eos plus the chat template's end-of-turn token, so a turn without an action still ends."""
    ids = {tokenizer.eos_token_id}
    for tok in ("<|im_end|>", "<|eot_id|>", "<|end|>"):
        tid = tokenizer.convert_tokens_to_ids(tok)
        if isinstance(tid, int) and tid != tokenizer.unk_token_id and tid >= 0:
            ids.add(tid)
    return sorted(i for i in ids if i is not None)


def cut_turn(tokenizer, new_ids: list[int], stops: list[int]) -> list[int]:
    """The generated turn up to and including `</action>` (or the first stop token)."""
    for i, tid in enumerate(new_ids):
        if tid in stops:
            new_ids = new_ids[: i + 1]
            break
    if STOP in tokenizer.decode(new_ids):
        for k in range(1, len(new_ids) + 1):
            if STOP in tokenizer.decode(new_ids[:k]):
                return new_ids[:k]
    return new_ids


def turn_over(tokenizer, new_ids: list[int], turn: list[int], stops: list[int]) -> bool:
    """Whether a turn being decoded has ended (a stop token or `</action>`), given its `cut_turn`."""
    return len(turn) < len(new_ids) or bool(turn) and turn[-1] in stops or STOP in tokenizer.decode(turn)


@functools.lru_cache(maxsize=4)
def _stop_criteria(tokenizer):
    """Built once per tokenizer: transformers precomputes a table over the whole vocabulary for it."""
    from transformers import StoppingCriteriaList, StopStringCriteria
    return StoppingCriteriaList([StopStringCriteria(tokenizer=tokenizer, stop_strings=[STOP])])


@torch.no_grad()
def generate_turns(model, tokenizer, contexts: list[list[int]], config: RolloutConfig,
                   states: list[KVState | None] | None = None) -> tuple[list[list[int]], list[KVState]]:
    """One turn for every context, decoded together; each episode's cache carries over to its next turn.

    Layout of the batch: [cached tokens, left-padded][new tokens, left-padded][generated]. Only the new
    tokens (the last turn's tail and the observation) are prefilled; the attention mask hides both pads
    and positions follow from it, so every episode sees exactly its own context. Decoding runs in chunks of
    `decode_chunk` tokens; a row whose turn is over keeps its cache and leaves the batch (columns stay put).
    """
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device
    states = states or [None] * len(contexts)
    cached = [s.length if s is not None else 0 for s in states]
    new = [len(c) - n for c, n in zip(contexts, cached)]
    if config.ragged_prefill and len(contexts) > 1 and len(new) * max(new) - sum(new) > config.ragged_min_pad * len(new):
        # observations differ in length (a relation list vs. one entity): padding them to the longest would
        # prefill pads; instead each episode prefills alone, and only its last token enters the batch
        # (`ragged_min_pad` > 0 keeps short, even observations in one batched prefill; measured: no faster here)
        states = [extend_state(model, s, c[n:-1]) for s, c, n in zip(states, contexts, cached)]
        cached = [len(c) - 1 for c in contexts]
    fresh = [c[n:] for c, n in zip(contexts, cached)]
    width_c, width_n = max(cached), max(len(f) for f in fresh)
    ids = torch.tensor([[pad] * width_c + [pad] * (width_n - len(f)) + f for f in fresh], device=device)
    attention = cache_attention_mask(cached, [len(f) for f in fresh], device)
    stops = stop_token_ids(tokenizer)
    kwargs = dict(do_sample=False) if config.greedy else dict(do_sample=True, temperature=config.temperature,
                                                              top_p=config.top_p, top_k=0)
    cache = batch_cache(model, states, width_c, width_c + width_n + config.max_new_tokens, config.kv_cache)
    if config.kv_cache == "static":
        kwargs["disable_compile"] = True  # generate would otherwise torch.compile the forward on a GPU (minutes)
    chunk = config.decode_chunk if config.decode_chunk and config.kv_cache != "static" else config.max_new_tokens
    width = width_c + width_n
    rows = list(range(len(contexts)))  # row j of the running batch is episode rows[j]
    tokens: list[list[int]] = [[] for _ in contexts]
    turns: list[list[int]] = [[] for _ in contexts]
    new_states: list[KVState | None] = [None] * len(contexts)
    while rows:
        budget = config.max_new_tokens - len(tokens[rows[0]])  # every running row has generated as many
        out = model.generate(input_ids=ids, attention_mask=attention, max_new_tokens=min(chunk, budget),
                             eos_token_id=stops, pad_token_id=pad, stopping_criteria=_stop_criteria(tokenizer),
                             return_dict_in_generate=True, use_cache=True,
                             **cache_kwargs(model, cache), **kwargs)
        step = out.sequences[:, ids.shape[1]:]
        cache = output_cache(out)
        running = []
        for j, r in enumerate(rows):
            tokens[r] += step[j].tolist()
            turn = cut_turn(tokenizer, tokens[r], stops)
            if step.shape[1] < min(chunk, budget) or len(tokens[r]) >= config.max_new_tokens \
                    or turn_over(tokenizer, tokens[r], turn, stops):
                turns[r] = turn  # this episode's turn is over: keep its cache, drop it from the batch
                spans = ((width_c - cached[r], width_c), (width - len(fresh[r]), width),  # its own positions only
                         (width, width + min(len(turn), len(tokens[r]) - 1)))
                new_states[r] = KVState([(take_positions(layer.keys, j, spans), take_positions(layer.values, j, spans))
                                         for layer in cache.layers], sum(b - a for a, b in spans))
            else:
                running.append(j)
        rows = [rows[j] for j in running]
        if not rows:
            break
        ids = out.sequences
        if len(running) < len(step):
            keep_rows = torch.tensor(running, device=device)
            cache.batch_select_indices(keep_rows)
            ids, attention = ids[keep_rows], attention[keep_rows]
        attention = torch.cat([attention, attention.new_ones((attention.shape[0], step.shape[1]))], dim=1)
    return turns, new_states


def shared_prefix_len(sequences: list[list[int]]) -> int:
    """Tokens every sequence starts with, leaving each at least one token of its own to prefill."""
    if not sequences:
        return 0
    first, n = sequences[0], min(len(s) for s in sequences) - 1
    for i in range(max(0, n)):
        if any(s[i] != first[i] for s in sequences):
            return i
    return max(0, n)


def rollout(model, tokenizer, kb: KB, questions: list[Question], config: RolloutConfig = RolloutConfig(),
            prompt: PromptConfig = PromptConfig(), progress: bool = True) -> list[Trajectory]:
    """G trajectories per question (question-major order), generated batch by batch."""
    torch.manual_seed(config.seed)
    episodes = []
    for q in questions:
        task = task_for(q, kb)
        for g in range(config.group_size):
            traj = Trajectory(task, render_prompt(tokenizer, task, prompt), [], None, q, g)
            episodes.append(_Episode(traj, KBQAEnv(kb, task.question, dict(task.entities), config.env)))
    was_training = model.training
    model.eval()
    shared = shared_prefix_len([e.traj.rendered.ids for e in episodes]) if config.share_prefix else 0
    if shared >= 16:  # the system prompt: hundreds of tokens that every episode would otherwise prefill again
        start_kv = prefix_state(model, episodes[0].traj.rendered.ids[:shared])
        for e in episodes:
            e.kv = start_kv
    bar = tqdm(total=len(episodes), desc="rollouts", unit="ep", disable=not progress, leave=False)
    try:
        for start in range(0, len(episodes), config.batch_size):
            active = episodes[start:start + config.batch_size]
            while active:
                turns, kvs = generate_turns(model, tokenizer, [e.traj.rendered.ids for e in active], config,
                                            [e.kv for e in active])
                still = []
                for episode, turn_ids, kv in zip(active, turns, kvs):
                    episode.kv = kv
                    text = tokenizer.decode(turn_ids, skip_special_tokens=True)
                    add_turn(tokenizer, episode.traj.rendered, turn_ids, text)
                    record = episode.env.step(text)
                    if not episode.env.done:
                        add_observation(tokenizer, episode.traj.rendered, record.observation, prompt.system)
                        if len(episode.traj.rendered.ids) + config.max_new_tokens > config.max_context:
                            episode.env.done, episode.traj.truncated = True, True
                    if episode.env.done:
                        episode.traj.steps, episode.traj.answer = episode.env.history, episode.env.answer
                        episode.traj.failed = episode.env.failed
                        episode.kv = None
                        bar.update(1)
                    else:
                        still.append(episode)
                active = still
    finally:
        bar.close()
        model.train(was_training)
    return [e.traj for e in episodes]
