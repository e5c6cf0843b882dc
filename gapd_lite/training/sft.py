"""SFT warm start: gold action sequences, played through the env, as multi-turn chats; loss on the agent's tokens only."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..agent.gold import gold_episode, task_for
from ..agent.prompts import PromptConfig
from ..agent.render import render_dialogue
from ..data import Question
from ..kb.base import KB
from ..logic.sexpr import function_of, parse
from .logprobs import backward_in_parts, logits_at, pad_batch, target_positions


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


def sft_loss(model, batch: list[SFTExample], pad_id: int, unpadded: bool = False,
             scale: float = 1.0) -> tuple[torch.Tensor, int]:
    """Mean next-token cross-entropy over the agent's tokens of the batch, and how many there were.

    Logits are computed only where the next token is the agent's (never over prompt/observations). `unpadded`
    runs one dialogue at a time (no pads), each weighted by its share of the batch's tokens, through
    `backward_in_parts` (× `scale`), so only one dialogue's activations are alive: the returned tensor's backward
    adds the last, and its value is the whole batch's loss (as `rl.chunked_update_loss`). The cpu-small preset peaked at 14.5 GB resident with all four graphs alive, 6.6 GB this way (runs/COMMANDS.md).
    """
    if not unpadded or len(batch) == 1:
        device = next(model.parameters()).device
        ids, attn, mask = pad_batch([e.ids for e in batch], [e.mask for e in batch], pad_id, device)
        rows, cols = target_positions(mask)
        logits = logits_at(model, ids, attn, rows, cols)
        targets = ids[rows, cols + 1]
        return F.cross_entropy(logits, targets), int(targets.numel())
    counts = [sum(e.mask[1:]) for e in batch]  # positions whose next token is the agent's
    total = sum(counts)
    return backward_in_parts(len(batch), lambda k: sft_loss(model, [batch[k]], pad_id)[0] * (counts[k] / total),
                             scale), total
