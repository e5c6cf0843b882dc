"""Conversations → token ids with a mask of the policy's own tokens, through the model's chat template.

One construction serves rollouts (generated ids are kept as generated), SFT (gold turns tokenized)
and the GAPD teacher (the same ids with a hint spliced in after an observation), so the three see
byte-identical contexts wherever they share them.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from ..errors import ConfigError
from .prompts import PromptConfig, Task, Turn, hint_message, observation_message

_A, _U = "\u00a7A\u00a7", "\u00a7U\u00a7"  # markers located in the rendered template
_ACTION = re.compile(r"<action>(.*?)</action>", re.S)


@dataclass(frozen=True)
class TemplatePieces:
    """The chat template cut into the fixed strings around user and assistant contents."""
    system_and_user_open: str  # system prompt, then the opening of the first user turn
    user_close_assistant_open: str  # end of a user turn, start of the assistant's
    assistant_close_user_open: str  # end of an assistant turn, start of the next user turn


@functools.lru_cache(maxsize=16)
def _pieces(tokenizer, system: str) -> TemplatePieces:
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError("this tokenizer has no chat template: use an instruct/chat model (e.g. SmolLM2-Instruct, Qwen2.5-Instruct)")
    first = tokenizer.apply_chat_template([{"role": "system", "content": system}, {"role": "user", "content": _U}],
                                          tokenize=False, add_generation_prompt=True)
    convo = tokenizer.apply_chat_template([{"role": "system", "content": system}, {"role": "user", "content": "q"},
                                           {"role": "assistant", "content": _A}, {"role": "user", "content": _U}],
                                          tokenize=False, add_generation_prompt=True)
    head, tail = first.split(_U)
    between = convo.split(_A)[1].split(_U)[0]
    return TemplatePieces(head, tail, between)


def encode(tokenizer, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


@dataclass
class Rendered:
    """Token ids of a conversation; mask 1 exactly on tokens the policy wrote."""
    ids: list[int] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)
    turn_spans: list[tuple[int, int]] = field(default_factory=list)  # [start, end) of each agent turn
    action_spans: list[tuple[int, int] | None] = field(default_factory=list)  # the call inside <action>…</action>
    obs_ends: list[int] = field(default_factory=list)  # where each observation's text ends (hint goes here)
    prompt_len: int = 0

    def add(self, ids: list[int], policy: bool) -> None:
        self.ids += ids
        self.mask += [int(policy)] * len(ids)


def truncate(r: Rendered, n: int) -> Rendered:
    """The first `n` tokens of a conversation, with the turn and action spans that fit (a benchmark's fixed length)."""
    return Rendered(ids=r.ids[:n], mask=r.mask[:n], turn_spans=[s for s in r.turn_spans if s[1] <= n],
                    action_spans=[s if s is not None and s[1] <= n else None for s in r.action_spans],
                    obs_ends=[e for e in r.obs_ends if e <= n], prompt_len=min(r.prompt_len, n))


def render_prompt(tokenizer, task: Task, config: PromptConfig = PromptConfig(), hint: str | None = None) -> Rendered:
    """System prompt, worked examples, and the question, ready for the first agent turn."""
    p = _pieces(tokenizer, config.system)
    out = Rendered()
    out.add(encode(tokenizer, p.system_and_user_open), False)
    for example, turns in config.few_shot:  # each worked example ends with an answer turn (no observation)
        out.add(encode(tokenizer, example.user_message()), False)
        for turn in turns:
            out.add(encode(tokenizer, p.user_close_assistant_open + turn.text + p.assistant_close_user_open), False)
            if turn.observation is not None:
                out.add(encode(tokenizer, observation_message(turn.observation)), False)
    out.add(encode(tokenizer, task.user_message()), False)
    out.obs_ends.append(len(out.ids))
    if hint is not None:
        out.add(encode(tokenizer, hint_message(hint)), False)
    out.add(encode(tokenizer, p.user_close_assistant_open), False)
    out.prompt_len = len(out.ids)
    return out


def add_turn(tokenizer, rendered: Rendered, turn_ids: list[int], turn_text: str | None = None) -> None:
    """Append one agent turn's token ids (policy tokens) and locate its action span."""
    start = len(rendered.ids)
    rendered.add(list(turn_ids), True)
    rendered.turn_spans.append((start, len(rendered.ids)))
    span = action_token_span(tokenizer, list(turn_ids), turn_text)
    rendered.action_spans.append(None if span is None else (start + span[0], start + span[1]))


def add_observation(tokenizer, rendered: Rendered, observation: str, system: str, hint: str | None = None) -> None:
    """Close the agent turn, show the observation (plus a teacher hint), open the next agent turn."""
    p = _pieces(tokenizer, system)
    rendered.add(encode(tokenizer, p.assistant_close_user_open + observation_message(observation)), False)
    rendered.obs_ends.append(len(rendered.ids))
    if hint is not None:
        rendered.add(encode(tokenizer, hint_message(hint)), False)
    rendered.add(encode(tokenizer, p.user_close_assistant_open), False)


def render_dialogue(tokenizer, task: Task, turns: list[Turn], config: PromptConfig = PromptConfig()) -> Rendered:
    """A whole conversation with tokenized agent turns (SFT on gold trajectories)."""
    out = render_prompt(tokenizer, task, config)
    for turn in turns:
        add_turn(tokenizer, out, encode(tokenizer, turn.text), turn.text)
        if turn.observation is not None:
            add_observation(tokenizer, out, turn.observation, config.system)
    return out


def action_token_span(tokenizer, ids: list[int], text: str | None = None) -> tuple[int, int] | None:
    """[start, end) of the tokens covering the call inside the last <action>…</action>, or None.

    Offsets come from decoding the ids themselves (`text` is accepted for symmetry and ignored).
    """
    text = tokenizer.decode(ids)
    matches = list(_ACTION.finditer(text))
    if not matches:
        return None
    lo, hi = matches[-1].span(1)
    ends = [len(tokenizer.decode(ids[: i + 1])) for i in range(len(ids))]
    starts = [0] + ends[:-1]
    covering = [i for i, (s, e) in enumerate(zip(starts, ends)) if e > lo and s < hi]
    return (covering[0], covering[-1] + 1) if covering else None
