"""SFT warm start: gold action sequences, played through the env, as multi-turn chats; loss on the agent's tokens only."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..agent.gold import gold_episode, task_for
from ..agent.prompts import PromptConfig
from ..agent.render import render_dialogue
from ..data import Question
from ..kb.base import KB
from ..logic.sexpr import function_of, parse
from ..models import base_model
from ..fast.sft_prefix import one_at_a_time
from ..logprobs import logits_at, pad_batch, target_positions
from .loop import Part


@dataclass(frozen=True)
class SFTExample:
    qid: str
    ids: list[int]
    mask: list[int]  # 1 on the agent's own tokens (thoughts and actions)


def build_examples(questions: list[Question], kb: KB, tokenizer, prompt: PromptConfig = PromptConfig(),
                   max_len: int = 1024, progress: bool = True) -> list[SFTExample]:
    """Gold conversations with the KB's real observations (too-long ones are dropped)."""
    out = []
    for q in tqdm(questions, desc="gold dialogues", disable=not progress, leave=False):
        turns, _ = gold_episode(q, kb)
        rendered = render_dialogue(tokenizer, task_for(q, kb), turns, prompt)
        if len(rendered.ids) <= max_len:
            out.append(SFTExample(q.qid, rendered.ids, rendered.mask))
    return out


def repeat_functions(examples: list[SFTExample], questions: list[Question], times: int) -> list[SFTExample]:
    """Each example of a question with a function `times` times (copies side by side), so the rarer count,
    superlative, comparison and time-constraint dialogues are not drowned out by plain hops (data order still
    shuffles). A question without GrailQA's `function` field (WebQSP) gets it from its logical form."""
    def function(q: Question) -> str | None:
        return q.function or (function_of(parse(q.s_expression)) if q.s_expression else None)
    has_function = {q.qid for q in questions if function(q) not in (None, "none")}
    return [e for e in examples for _ in range(times if e.qid in has_function else 1)]


def sft_loss(model, batch: list[SFTExample], pad_id: int) -> tuple[torch.Tensor, int]:
    """Mean next-token cross-entropy over the agent's tokens of the batch (never prompt or observations), and
    how many there were: the plain reference, one right-padded forward."""
    device = next(model.parameters()).device
    ids, attn, mask = pad_batch([e.ids for e in batch], [e.mask for e in batch], pad_id, device)
    rows, cols = target_positions(mask)
    logits = logits_at(model, ids, attn, rows, cols)
    targets = ids[rows, cols + 1]
    return F.cross_entropy(logits, targets), int(targets.numel())


def sft_parts(model, batch: list[SFTExample], pad_id: int, weight: float, one_by_one: bool) -> Iterator[Part]:
    """The loss of one micro-batch (× `weight`) as parts for the loop: one part (plain), or with `one_by_one` the
    fast path (`fast/sft_prefix.py`: no pads, the shared prompt once; same loss and gradient)."""
    tokens = float(sum(sum(e.mask[1:]) for e in batch))
    if not one_by_one or len(batch) == 1:
        loss, _ = sft_loss(model, batch, pad_id)
        yield Part(loss * weight, {"tokens": tokens})
        return
    share = not _checkpointed(model)  # a checkpointed forward returns no keys/values to share
    for k, (loss, counted) in enumerate(one_at_a_time(model, batch, weight, share)):
        yield Part(loss, {"tokens": tokens} if k == 0 else {}, counted)


def _checkpointed(model) -> bool:
    """Whether gradient checkpointing is on (its forward keeps no cache), under either transformers name."""
    base = base_model(model)
    flag = getattr(base, "is_activation_checkpointing", None)
    return bool(flag if flag is not None else getattr(base, "is_gradient_checkpointing", False))
