"""GRPO/GAPD updates: the fast path equals the plain reference (loss and gradient), λ = 0 is GRPO, runs resume."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from gapd_lite.agent.gold import gold_trajectory
from gapd_lite.data import load_split
from gapd_lite.errors import ConfigError
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.training.config import GAPDConfig, preset
from gapd_lite.training.gapd import Batch, gapd_update, gold_programs, sample_batch
from gapd_lite.training.gapd_fast import fast_update_parts
from gapd_lite.training.losses import group_advantages
from gapd_lite.training.trainer import train_rl

CFG = GAPDConfig(group_size=2, lam=1.0)


@pytest.fixture(scope="module")
def tiny():
    return load_policy(ModelConfig(name="tiny", lora_dropout=0.0))


def gold_batch_for(policy, kb, questions, rewards) -> Batch:
    """Questions × G=2 trajectories that play the gold actions (so every step has an action)."""
    trajs = []
    for q in questions:
        traj = gold_trajectory(policy.tokenizer, q, kb)
        trajs += [replace(traj, sample=g) for g in range(2)]
    gold = [g for g in gold_programs(questions, kb) for _ in range(2)]
    return Batch(trajs, rewards, group_advantages(rewards, 2), gold)


@pytest.fixture(scope="module")
def gold_batch(tiny, bundled_kb):
    return gold_batch_for(tiny, bundled_kb, load_split("dev")[1:3], torch.tensor([1.0, 0.0, 0.5, 1.0]))


def backprop(policy, parts) -> tuple[float, dict, list[torch.Tensor]]:
    """What the training loop does with an update's parts: backpropagate each; the loss, stats and gradients."""
    params = [p for p in policy.model.parameters() if p.requires_grad]
    policy.model.zero_grad()
    total, stats = 0.0, {}
    for part in parts:
        part.loss.backward()
        total += part.loss.item() if part.counted else 0.0
        for k, v in part.stats.items():
            stats[k] = stats.get(k, 0.0) + v
    grads = [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in params]
    policy.model.zero_grad()
    return total, stats, grads


def reference(policy, batch, cfg, lam):
    loss, stats = gapd_update(policy, batch, cfg, lam)
    loss.backward()
    params = [p for p in policy.model.parameters() if p.requires_grad]
    grads = [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in params]
    policy.model.zero_grad()
    return loss.item(), stats, grads


def assert_same_update(ref, fast, rtol=1e-4, atol=1e-6):
    (l1, s1, g1), (l2, s2, g2) = ref, fast
    assert l2 == pytest.approx(l1, rel=rtol, abs=atol)
    assert s2["action_tokens"] == s1["action_tokens"] and s2["policy_tokens"] == s1["policy_tokens"]
    assert s2["distill_loss"] == pytest.approx(s1["distill_loss"], rel=rtol, abs=atol)
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, rtol=rtol, atol=atol * 10)


@pytest.mark.parametrize("settings", [
    dict(),  # teacher continues the student's cache, 8 steps per forward, whole batch at once
    dict(teacher_batch=1), dict(teacher_batch=64), dict(teacher_cache=False),
    dict(update_chunk=1), dict(update_chunk=3), dict(distill_tokens="until_disagreement", update_chunk=1),
    dict(divergence="jsd", matcher="prefix"),
    dict(guidance="advantage"), dict(guidance="advantage", update_chunk=1, shaping_clip=0.05),
])
def test_fast_update_equals_the_reference(tiny, gold_batch, settings):
    """The contract of every fast path: same loss, same stats and same gradient as `gapd_update`."""
    tiny.model.train()
    cfg = replace(CFG, **settings)
    ref = reference(tiny, gold_batch, cfg, 1.0)
    assert ref[1]["action_tokens"] > 0 and ref[1]["distill_loss"] > 0
    assert_same_update(ref, backprop(tiny, fast_update_parts(tiny, gold_batch, cfg, 1.0)))


def test_fast_update_equals_the_reference_on_the_embedded_models_real_trajectories(embedded_policy, bundled_kb):
    """The embedded SmolLM2: per question one gold trajectory and one the model sampled itself, G = 2."""
    questions = load_split("dev")[3:5]
    cfg = replace(CFG, max_new_tokens=24, max_turns=2, rollout_batch=4)
    sampled = sample_batch(embedded_policy, bundled_kb, questions, cfg, seed=0)
    gold = gold_batch_for(embedded_policy, bundled_kb, questions, torch.tensor([1.0, 0.0, 0.5, 1.0]))
    trajs = [t for q in range(2) for t in (gold.trajectories[2 * q], sampled.trajectories[2 * q])]
    rewards = torch.tensor([1.0, 0.0, 1.0, 0.1])
    batch = Batch(trajs, rewards, group_advantages(rewards, 2), gold.gold)
    embedded_policy.model.train()
    ref = reference(embedded_policy, batch, cfg, 0.5)
    assert ref[1]["action_tokens"] > 0
    assert_same_update(ref, backprop(embedded_policy, fast_update_parts(embedded_policy, batch, replace(cfg, update_chunk=1), 0.5)),
                       rtol=2e-3, atol=1e-5)


def test_lambda_zero_is_grpo_and_skips_the_teacher(tiny, gold_batch):
    cfg = GAPDConfig(method="grpo", group_size=2, lam=0.0)
    loss, stats = gapd_update(tiny, gold_batch, cfg, 0.0)
    assert stats["action_tokens"] == 0 and loss.item() == pytest.approx(stats["grpo_loss"])
    _, fast_stats, grads = backprop(tiny, fast_update_parts(tiny, gold_batch, cfg, 0.0))
    assert fast_stats["teacher_s"] == 0.0 and any(g.abs().sum() > 0 for g in grads)


def test_advantage_shaping_moves_the_advantage_on_action_tokens_only(tiny, gold_batch):
    """guidance=advantage: L = L_GRPO with A_i + λ·clip(gap_i) on action tokens; λ = 0 is exactly GRPO."""
    grpo, _ = gapd_update(tiny, gold_batch, GAPDConfig(method="grpo", group_size=2, lam=0.0), 0.0)
    zero, _ = gapd_update(tiny, gold_batch, replace(CFG, guidance="advantage", lam=0.0), 0.0)
    shaped, stats = gapd_update(tiny, gold_batch, replace(CFG, guidance="advantage"), 1.0)
    assert zero.item() == pytest.approx(grpo.item(), abs=1e-7)
    assert shaped.item() == pytest.approx(stats["grpo_loss"]) and shaped.item() != pytest.approx(grpo.item())


def test_gapd_loss_adds_lambda_times_distillation(tiny, gold_batch):
    loss, stats = gapd_update(tiny, gold_batch, replace(CFG, lam=0.5), 0.5)
    assert loss.item() == pytest.approx(stats["grpo_loss"] + 0.5 * stats["distill_loss"], rel=1e-5)


def test_zero_advantage_groups_are_counted(tiny, gold_batch):
    flat = replace(gold_batch, rewards=torch.tensor([1.0, 1.0, 0.0, 1.0]),
                   advantages=group_advantages(torch.tensor([1.0, 1.0, 0.0, 1.0]), 2))
    assert gapd_update(tiny, flat, CFG, 1.0)[1]["zero_advantage_groups"] == 0.5


def test_rl_run_resumes_exactly(tmp_path):
    cfg = lambda out: preset("gapd", "smoke", out_dir=str(tmp_path / out), num_updates=3)  # noqa: E731
    full = train_rl(cfg("a"), progress=False)
    train_rl(cfg("b"), progress=False, stop_after=1)
    resumed = train_rl(cfg("b"), progress=False)
    assert resumed.resumed_from == 1
    keys = ("loss", "reward", "policy_tokens")
    assert [[r[k] for k in keys] for r in resumed.log] == [[r[k] for k in keys] for r in full.log]


def test_the_reference_update_trains_too(tmp_path):
    run = train_rl(preset("gapd", "smoke", out_dir=str(tmp_path), num_updates=1, reference_update=True), progress=False)
    assert run.steps == 1 and run.log[-1]["policy_tokens"] > 0


def test_bad_rl_settings():
    with pytest.raises(ConfigError, match="teacher_batch"):
        GAPDConfig(teacher_batch=0)
    with pytest.raises(ConfigError, match="group_size"):
        GAPDConfig(group_size=1)
    with pytest.raises(ConfigError, match="GRPO means"):
        preset("grpo", "smoke", lam=0.3)
    with pytest.raises(ConfigError, match="divergence"):
        GAPDConfig(divergence="kl")
    with pytest.raises(ConfigError, match="update_chunk"):
        GAPDConfig(group_size=4, update_chunk=-1)
    with pytest.raises(ConfigError, match="distill_tokens"):
        GAPDConfig(distill_tokens="some")
    with pytest.raises(ConfigError, match="function_repeat.*does not apply to method gapd"):
        preset("gapd", "smoke", function_repeat=2)


def test_batched_teacher_logits_equal_one_step_at_a_time(tiny, gold_batch):
    """Steps of different trajectories and prefix lengths share one left-padded teacher forward; the mask and
    positions make each row see exactly its own context, so the logits equal a full forward per step."""
    from gapd_lite.fast.teacher import TeacherJob, teacher_logits
    from gapd_lite.logprobs import pad_batch
    from gapd_lite.models import base_model, decoder_call, output_cache

    trajs = gold_batch.trajectories
    ids, attn, _ = pad_batch([t.rendered.ids for t in trajs], [t.rendered.mask for t in trajs], tiny.tokenizer.pad_token_id)
    base = base_model(tiny.model)
    decoder, head = base.get_decoder(), base.get_output_embeddings()
    tiny.model.eval()
    with torch.no_grad():
        cache = output_cache(decoder_call(decoder, input_ids=ids, attention_mask=attn, use_cache=True))
    jobs = [TeacherJob(b, r.obs_ends[t], [5, 6, 7][: 1 + t % 3], r.action_spans[t])
            for b, r in ((b, t.rendered) for b, t in enumerate(trajs)) for t in range(len(r.obs_ends))
            if r.action_spans[t] is not None]
    assert len({j.prefix_end for j in jobs}) > 3
    one, batched, full = (teacher_logits(decoder, head, ids, jobs, c, k) for c, k in ((cache, 1), (cache, len(jobs)), (None, 1)))
    tiny.model.train()
    for a, b, c in zip(one, batched, full):
        assert a.shape == b.shape == c.shape and torch.allclose(a, b, atol=1e-4) and torch.allclose(a, c, atol=1e-4)


def test_hint_check_scores_exactly_the_gold_action_tokens(bundled_kb):
    """The student side equals a plain forward's log-probabilities of the action tokens; the teacher side
    sees the same dialogue with the hint inside the observation before each action."""
    from gapd_lite.training.hint_check import hint_check
    from gapd_lite.training.losses import selected_logp

    policy = load_policy(ModelConfig(name="tiny"))
    q = load_split("dev")[0]
    result = hint_check(policy, bundled_kb, [q])
    r = gold_trajectory(policy.tokenizer, q, bundled_kb).rendered
    spans = [s for t, s in enumerate(r.action_spans) if s is not None and t < len(r.obs_ends)]
    assert result.questions == 1 and result.action_tokens == sum(b - a for a, b in spans) > 0
    ids = torch.tensor([r.ids])
    with torch.no_grad():
        logits = policy.model(input_ids=ids).logits[0]
    want = torch.cat([selected_logp(logits[a - 1:b - 1], ids[0, a:b]) for a, b in spans]).mean().item()
    assert abs(result.student_logp - want) < 1e-4
    assert result.teacher_logp != result.student_logp and abs(result.gain - (result.teacher_logp - result.student_logp)) < 1e-9


def test_teacher_reuses_the_prefix_under_gradient_checkpointing_too(gold_batch):
    """Checkpointing (on for QLoRA) keeps no KV cache in training mode; one no-grad pass rebuilds it, and the
    update equals the reference."""
    policy = load_policy(ModelConfig(name="tiny", lora_dropout=0.0, gradient_checkpointing=True))
    policy.model.train()
    assert_same_update(reference(policy, gold_batch, CFG, 1.0), backprop(policy, fast_update_parts(policy, gold_batch, CFG, 1.0)))
    assert policy.model.training


def test_until_disagreement_distils_each_action_up_to_the_teachers_first_other_choice(tiny, gold_batch):
    from gapd_lite.training.losses import distill_loss, token_divergence, until_first_disagreement

    teacher = torch.full((5, 7), -5.0)
    teacher[torch.arange(5), torch.tensor([1, 2, 6, 4, 5])] = 5.0  # the teacher's top choices
    assert until_first_disagreement(teacher, torch.tensor([1, 2, 3, 4, 5])).tolist() == [True, True, True, False, False]
    assert until_first_disagreement(teacher, torch.tensor([1, 2, 6, 4, 5])).all()
    student = torch.randn(5, 7)
    keep = torch.tensor([True, True, True, False, False])
    full = distill_loss(student, teacher, keep=torch.ones(5, dtype=torch.bool))
    assert full.item() == pytest.approx(distill_loss(student, teacher).item(), rel=1e-6)
    part = distill_loss(student, teacher, keep=keep)
    assert part.item() == pytest.approx(token_divergence(student, teacher, 0.0)[:3].sum().item() / 5, rel=1e-6)
    _, all_stats = gapd_update(tiny, gold_batch, replace(CFG, lam=0.5), 0.5)
    _, cut = gapd_update(tiny, gold_batch, replace(CFG, lam=0.5, distill_tokens="until_disagreement"), 0.5)
    assert cut["action_tokens"] == all_stats["action_tokens"] == all_stats["distilled_tokens"]
    assert 0 < cut["distilled_tokens"] < cut["action_tokens"]  # a random tiny teacher disagrees early
    assert cut["distill_loss"] < all_stats["distill_loss"]


def test_sparse_focus_keeps_every_hard_question_and_as_many_plain_ones():
    from gapd_lite.training.config import SPARSE_FUNCTIONS
    from gapd_lite.training.trainer import training_questions

    small = training_questions(preset("gapd", "smoke", focus="sparse"))  # capped at the preset's 8 after the focus
    assert len(small) == 8 and [q.function in SPARSE_FUNCTIONS for q in small] == [True, False] * 4
    qs = training_questions(preset("gapd", "cpu-small", focus="sparse"))
    hard = [q for q in qs if q.function in SPARSE_FUNCTIONS]
    plain = [q for q in qs if q.function == "none"]
    assert len(hard) == sum(q.function in SPARSE_FUNCTIONS for q in load_split("train")) > 100
    assert len(plain) == len(hard) and len(qs) == 2 * len(hard) and qs[0].function in SPARSE_FUNCTIONS


def test_the_heldout_gold_log_prob_is_logged_every_n_updates(tmp_path):
    run = train_rl(preset("grpo", "smoke", out_dir=str(tmp_path), num_updates=2, heldout_every=2,
                          heldout_questions=2), progress=False)
    records = [r for r in run.log if "loss" in r]
    assert "heldout_gold_logp" in records[0] and "heldout_gold_logp" not in records[1]
    assert records[0]["heldout_gold_logp"] < 0 and 0 <= records[0]["heldout_gold_top1"] <= 1
