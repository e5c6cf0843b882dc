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
from ..models import base_model
from .logprobs import backward_in_parts, logits_at, pad_batch, prefix_kv, target_positions


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


def shared_prefix(batch: list[SFTExample]) -> int:
    """How many leading tokens every dialogue of the batch shares (the system prompt) before the first position
    whose logits a loss needs; each dialogue keeps at least one token after it."""
    first = batch[0].ids
    limit = min(min(len(e.ids) for e in batch) - 1,
                min((e.mask.index(1, 1) - 1 if 1 in e.mask[1:] else len(e.ids)) for e in batch))
    n = 0
    while n < limit and all(e.ids[n] == first[n] for e in batch):
        n += 1
    return n


def sft_loss(model, batch: list[SFTExample], pad_id: int, unpadded: bool = False,
             scale: float = 1.0) -> tuple[torch.Tensor, int]:
    """Mean next-token cross-entropy over the agent's tokens of the batch, and how many there were.

    Logits are computed only where the next token is the agent's (never over prompt/observations). `unpadded`
    runs one dialogue at a time (no pads), each weighted by its share of the batch's tokens, through
    `backward_in_parts` (× `scale`), so only one dialogue's activations are alive: the returned tensor's backward
    adds the last, and its value is the whole batch's loss (as `rl.chunked_update_loss`). The cpu-small preset
    peaked at 14.5 GB resident with all four graphs alive, 6.6 GB this way (runs/COMMANDS.md). The prefix all
    dialogues share (the system prompt, a third of a dialogue's tokens) then runs once, not once per dialogue.
    """
    device = next(model.parameters()).device
    if not unpadded or len(batch) == 1:
        ids, attn, mask = pad_batch([e.ids for e in batch], [e.mask for e in batch], pad_id, device)
        rows, cols = target_positions(mask)
        logits = logits_at(model, ids, attn, rows, cols)
        targets = ids[rows, cols + 1]
        return F.cross_entropy(logits, targets), int(targets.numel())
    counts = [sum(e.mask[1:]) for e in batch]  # positions whose next token is the agent's
    total = sum(counts)
    n = 0 if _checkpointed(model) else shared_prefix(batch)  # a checkpointed forward returns no keys/values
    return _one_at_a_time(model, batch, n if n >= MIN_SHARED else 0, [c / total for c in counts], scale,
                          device), total


def _checkpointed(model) -> bool:
    """Whether gradient checkpointing is on (its forward keeps no cache), under either transformers name."""
    base = base_model(model)
    flag = getattr(base, "is_activation_checkpointing", None)
    return bool(flag if flag is not None else getattr(base, "is_gradient_checkpointing", False))


# Below this many shared tokens, running the prefix separately is not worth its bookkeeping.
MIN_SHARED = 16


def _one_at_a_time(model, batch: list[SFTExample], n: int, weights: list[float], scale: float,
                   device) -> torch.Tensor:
    """`backward_in_parts` over the dialogues, each weighted; with `n` > 0 they continue one prefix of n tokens,
    run once. Every dialogue but the last reads detached copies of the prefix's keys/values, whose gradients add
    up; the last reads the prefix itself, and a zero-valued term carries the added-up gradients into the prefix,
    so the prefix backpropagates once, exactly as if each dialogue had run it (Σ ∂loss/∂kv · ∂kv/∂θ)."""
    kv = prefix_kv(model, torch.tensor([batch[0].ids[:n]], device=device)) if n else None
    grad = torch.is_grad_enabled()
    copies = kv and [(k.detach().requires_grad_(grad), v.detach().requires_grad_(grad)) for k, v in kv]

    def part(i: int) -> torch.Tensor:
        ids = torch.tensor([batch[i].ids], device=device)
        rows, cols = target_positions(torch.tensor([batch[i].mask], device=device))
        logits = logits_at(model, ids[:, n:], None, rows, cols - n, kv if i == len(batch) - 1 else copies)
        return F.cross_entropy(logits, ids[rows, cols + 1]) * weights[i]

    loss = backward_in_parts(len(batch), part, scale)
    if not (kv and grad):
        return loss
    carried = sum((t * (c.grad / scale)).sum() for pair, cpair in zip(kv, copies) for t, c in zip(pair, cpair))
    return loss + (carried - carried.detach())
