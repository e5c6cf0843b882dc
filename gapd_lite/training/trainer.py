"""Training runs: SFT on gold dialogues, GRPO/GAPD from a warm start — each the shared loop plus its loss."""
from __future__ import annotations

from typing import Iterator

import torch

from ..data import load_split, sample_questions
from ..kb import open_kb
from ..models import MergedGenerator, Policy
from .config import SPARSE_FUNCTIONS, GAPDConfig, SFTConfig, TrainConfig
from .gapd import gapd_update, sample_batch
from .gapd_fast import fast_update_parts
from .loop import Part, RunResult, run_loop, setup
from .sft import build_examples, repeat_functions, sft_loss, sft_parts


def training_questions(config: TrainConfig) -> list:
    """The run's questions: the split or file, narrowed to the `focus` (sparse: every question with a function a
    warm start rarely solves, interleaved with as many plain ones), then the first `max_questions`. Every logical
    form is parsed here, so a bad question file is reported before the model loads."""
    questions = load_split(config.questions, check_forms=True)
    if config.focus == "sparse":
        hard = [q for q in questions if q.function in SPARSE_FUNCTIONS]
        plain = [q for q in questions if q.function in (None, "none")]
        plain = plain[:: max(1, len(plain) // max(1, len(hard)))][: len(hard)]  # spread over the split
        questions = [q for pair in zip(hard, plain) for q in pair] + hard[len(plain):]
    return questions[: config.max_questions]


def heldout_gold_logp(policy: Policy, kb, questions) -> dict:
    """The dense held-out measure: mean log-prob (and top-1 rate) of the gold action tokens of gold dialogues."""
    from .hint_check import hint_check
    was_training = policy.model.training
    check = hint_check(policy, kb, questions)
    policy.model.train(was_training)
    return {"heldout_gold_logp": check.student_logp, "heldout_gold_top1": check.student_top1}


def one_by_one(config: SFTConfig, policy: Policy) -> bool:
    """Whether SFT runs one dialogue at a time: as configured, else on a CPU (where pads are pure cost)."""
    if config.one_at_a_time is not None:
        return config.one_at_a_time
    return next(policy.model.parameters()).device.type == "cpu"


def train_sft(config: SFTConfig, policy: Policy | None = None, kb=None, progress: bool = True,
              stop_after: int | None = None) -> RunResult:
    """Supervised warm start on gold trajectories (LoRA; QLoRA on CUDA)."""
    questions = training_questions(config)
    policy, optimizer, scheduler = setup(config, policy)
    kb = kb or open_kb("memory")
    examples = build_examples(questions, kb, policy.tokenizer, max_len=config.max_tokens, progress=progress)
    examples = repeat_functions(examples, questions, config.function_repeat)
    pad, fast = policy.tokenizer.pad_token_id, one_by_one(config, policy)

    def update_parts(update: int, indices: list[int], weight: float) -> Iterator[Part]:
        return sft_parts(policy.model, [examples[i] for i in indices], pad, weight, fast)

    return run_loop(config, policy, optimizer, scheduler, len(examples), update_parts, progress, stop_after)


def train_rl(config: GAPDConfig, policy: Policy | None = None, kb=None, progress: bool = True,
             stop_after: int | None = None) -> RunResult:
    """GRPO (λ = 0) or GAPD from a warm start: per update, G rollouts per question, rewards, one gradient step."""
    questions = training_questions(config)
    policy, optimizer, scheduler = setup(config, policy)
    kb = kb or open_kb("memory")
    heldout = sample_questions(load_split("dev"), config.heldout_questions) if config.heldout_every else []
    gold_dialogues = {}
    if config.sft_weight > 0:
        examples = build_examples(questions, kb, policy.tokenizer, max_len=config.max_tokens, progress=False)
        gold_dialogues = {e.qid: e for e in examples}
    generator = MergedGenerator(policy) if config.merged_generation else None

    def update_parts(update: int, indices: list[int], weight: float) -> Iterator[Part]:
        batch_questions = [questions[i] for i in indices]
        if generator is not None:
            generator.sync(policy)
        batch = sample_batch(policy, kb, batch_questions, config, seed=config.seed * 100_003 + update,
                             generator=generator)
        policy.model.train()
        lam = config.lam_at(update)
        if config.reference_update:  # the plain update that reads like the paper
            loss, stats = gapd_update(policy, batch, config, lam)
            yield Part(loss * weight, stats)
        else:
            yield from fast_update_parts(policy, batch, config, lam, weight)
        if heldout and update % config.heldout_every == 0:  # the policy before this update's step
            yield Part(torch.zeros(()), heldout_gold_logp(policy, kb, heldout), counted=False)
        gold = [gold_dialogues[q.qid] for q in batch_questions if q.qid in gold_dialogues]
        if gold:  # the "gold only as supervised data" ablation: + w × SFT loss on the gold dialogues
            aux, _ = sft_loss(policy.model, gold, policy.tokenizer.pad_token_id)
            yield Part(config.sft_weight * aux * weight, {"sft_loss": aux.item() * weight})

    return run_loop(config, policy, optimizer, scheduler, len(questions), update_parts, progress, stop_after)


def train(config: TrainConfig, **kwargs) -> RunResult:
    """Train with the method the config names."""
    return train_sft(config, **kwargs) if config.method == "sft" else train_rl(config, **kwargs)

