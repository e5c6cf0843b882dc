"""GRPO/GAPD updates on the tiny model: the teacher's prefix reuse is exact, λ = 0 is GRPO, runs resume."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from gapd_lite.agent.gold import gold_trajectory
from gapd_lite.data import load_split
from gapd_lite.errors import ConfigError
from gapd_lite.logic.sexpr import parse
from gapd_lite.logic.to_actions import gold_steps, to_actions
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.training.rl import Batch, RLSettings, rl_update_loss
from gapd_lite.training.trainer import rl_preset, train_rl


@pytest.fixture(scope="module")
def tiny():
    return load_policy(ModelConfig(name="tiny", lora_dropout=0.0))


@pytest.fixture(scope="module")
def gold_batch(tiny, bundled_kb):
    """Two questions × G=2 trajectories that play the gold actions (so every step has an action)."""
    trajs, gold = [], []
    for q in load_split("dev")[1:3]:
        gold.append(gold_steps(to_actions(parse(q.s_expression)), bundled_kb))
        traj = gold_trajectory(tiny.tokenizer, q, bundled_kb)
        trajs += [replace(traj, sample=g) for g in range(2)]
    rewards = torch.tensor([1.0, 0.0, 0.5, 1.0])
    from gapd_lite.training.losses import group_advantages
    return Batch(trajs, rewards, group_advantages(rewards, 2), gold)


def test_teacher_prefix_reuse_equals_full_teacher_forward(tiny, gold_batch):
    s_cached = RLSettings(group_size=2, lam=1.0, teacher_cache=True)
    s_full = RLSettings(group_size=2, lam=1.0, teacher_cache=False)
    _, cached = rl_update_loss(tiny, gold_batch, s_cached, 1.0)
    _, full = rl_update_loss(tiny, gold_batch, s_full, 1.0)
    assert cached["action_tokens"] == full["action_tokens"] > 0
    assert cached["distill_loss"] == pytest.approx(full["distill_loss"], rel=1e-4, abs=1e-6)
    assert cached["distill_loss"] > 0


def test_batched_teacher_forwards_equal_one_step_at_a_time(tiny, gold_batch):
    """Steps of different trajectories and prefix lengths share one left-padded teacher forward; the mask and
    positions make each row see exactly its own context, so the divergence is the same as step by step."""
    from gapd_lite.training.rl import TeacherJob, teacher_logits
    from gapd_lite.models import base_model, decoder_call, output_cache
    from gapd_lite.training.logprobs import pad_batch

    results = {k: rl_update_loss(tiny, gold_batch, RLSettings(group_size=2, lam=1.0, teacher_batch=k), 1.0)[1]
               for k in (1, 3, 64)}
    assert results[1]["action_tokens"] == results[64]["action_tokens"] > 0
    for k in (3, 64):
        assert results[k]["distill_loss"] == pytest.approx(results[1]["distill_loss"], rel=1e-4, abs=1e-6)
    # the logits themselves, for steps whose prefixes differ in length
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


def test_lambda_zero_is_grpo_and_skips_the_teacher(tiny, gold_batch):
    loss, stats = rl_update_loss(tiny, gold_batch, RLSettings(group_size=2), 0.0)
    assert "distill_loss" not in stats and stats["teacher_s"] == 0.0
    assert loss.item() == pytest.approx(stats["grpo_loss"])
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tiny.model.parameters() if p.requires_grad)
    tiny.model.zero_grad()


def test_gapd_loss_adds_lambda_times_distillation(tiny, gold_batch):
    loss, stats = rl_update_loss(tiny, gold_batch, RLSettings(group_size=2, lam=0.5), 0.5)
    assert loss.item() == pytest.approx(stats["grpo_loss"] + 0.5 * stats["distill_loss"], rel=1e-5)


def test_prefix_matcher_ablation_runs(tiny, gold_batch):
    _, stats = rl_update_loss(tiny, gold_batch, RLSettings(group_size=2, lam=1.0, matcher="prefix"), 1.0)
    assert stats["action_tokens"] > 0


def test_rl_run_resumes_exactly(tmp_path):
    full = train_rl(rl_preset("smoke", "gapd", out_dir=str(tmp_path / "a"), max_steps=3), progress=False)
    train_rl(rl_preset("smoke", "gapd", out_dir=str(tmp_path / "b"), max_steps=3), progress=False, stop_after=1)
    resumed = train_rl(rl_preset("smoke", "gapd", out_dir=str(tmp_path / "b"), max_steps=3), progress=False)
    assert resumed.resumed_from == 1
    keys = ("loss", "reward", "policy_tokens")
    assert [[r[k] for k in keys] for r in resumed.log] == [[r[k] for k in keys] for r in full.log]


def test_bad_rl_settings():
    with pytest.raises(ConfigError, match="teacher_batch"):
        RLSettings(teacher_batch=0)
    with pytest.raises(ConfigError, match="group_size"):
        RLSettings(group_size=1)
    with pytest.raises(ConfigError, match="GRPO means"):
        rl_preset("smoke", "grpo", rl={"lam": 0.3})
    with pytest.raises(ConfigError, match="divergence"):
        RLSettings(divergence="kl")


def test_chunked_update_equals_the_whole_batch_update(tiny, gold_batch):
    """One trajectory per forward/backward: the same token-level loss and gradient as the whole batch at once."""
    from gapd_lite.training.rl import chunked_update_loss

    params = [p for p in tiny.model.parameters() if p.requires_grad]
    tiny.model.train()
    for lam, tokens in ((0.0, "all"), (0.5, "all"), (0.5, "until_disagreement")):
        tiny.model.zero_grad()
        whole, _ = rl_update_loss(tiny, gold_batch, RLSettings(group_size=2, lam=lam, distill_tokens=tokens), lam)
        whole.backward()
        ref = [p.grad.clone() for p in params]
        for chunk in (1, 3):
            tiny.model.zero_grad()
            loss, stats = chunked_update_loss(tiny, gold_batch, RLSettings(group_size=2, lam=lam, update_chunk=chunk,
                                                                           distill_tokens=tokens), lam)
            loss.backward()
            assert loss.item() == pytest.approx(whole.item(), rel=1e-5, abs=1e-7)
            assert lam == 0 or stats["action_tokens"] > 0
            for p, r in zip(params, ref):
                assert torch.allclose(p.grad, r, atol=1e-6, rtol=1e-4)
    with pytest.raises(ConfigError, match="update_chunk"):
        RLSettings(group_size=4, update_chunk=-1)


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
    teacher's divergence equals the full-forward one."""
    policy = load_policy(ModelConfig(name="tiny", lora_dropout=0.0, gradient_checkpointing=True))
    policy.model.train()
    _, cached = rl_update_loss(policy, gold_batch, RLSettings(group_size=2, lam=1.0), 1.0)
    _, full = rl_update_loss(policy, gold_batch, RLSettings(group_size=2, lam=1.0, teacher_cache=False), 1.0)
    assert cached["teacher_prefix_reused"] == 1.0 and full["teacher_prefix_reused"] == 0.0
    assert cached["distill_loss"] == pytest.approx(full["distill_loss"], rel=1e-4, abs=1e-6) and cached["distill_loss"] > 0
    assert policy.model.training


def test_until_disagreement_distils_each_action_up_to_the_teachers_first_other_choice(tiny, gold_batch):
    from gapd_lite.training.losses import distill_loss, until_first_disagreement

    teacher = torch.full((5, 7), -5.0)
    teacher[torch.arange(5), torch.tensor([1, 2, 6, 4, 5])] = 5.0  # the teacher's top choices
    assert until_first_disagreement(teacher, torch.tensor([1, 2, 3, 4, 5])).tolist() == [True, True, True, False, False]
    assert until_first_disagreement(teacher, torch.tensor([1, 2, 6, 4, 5])).all()
    student = torch.randn(5, 7)
    keep = torch.tensor([True, True, True, False, False])
    full = distill_loss(student, teacher, keep=torch.ones(5, dtype=torch.bool))
    assert full.item() == pytest.approx(distill_loss(student, teacher).item(), rel=1e-6)
    part = distill_loss(student, teacher, keep=keep)
    from gapd_lite.training.losses import token_divergence
    assert part.item() == pytest.approx(token_divergence(student, teacher, 0.0)[:3].sum().item() / 5, rel=1e-6)
    _, all_stats = rl_update_loss(tiny, gold_batch, RLSettings(group_size=2, lam=0.5), 0.5)
    _, cut = rl_update_loss(tiny, gold_batch, RLSettings(group_size=2, lam=0.5, distill_tokens="until_disagreement"), 0.5)
    assert cut["action_tokens"] == all_stats["action_tokens"] == all_stats["distilled_tokens"]
    assert 0 < cut["distilled_tokens"] < cut["action_tokens"]  # a random tiny teacher disagrees early
    assert cut["distill_loss"] < all_stats["distill_loss"]
    with pytest.raises(ConfigError, match="distill_tokens"):
        RLSettings(distill_tokens="some")
