"""Rollouts (masks, batching), SFT (loss goes down, resume is exact), checkpoints and metrics, on the tiny model."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from gapd_lite.agent.gold import gold_episode, task_for
from gapd_lite.agent.render import render_dialogue
from gapd_lite.agent.rollout import RolloutConfig, rollout
from gapd_lite.data import load_split
from gapd_lite.env.kbqa_env import EnvConfig
from gapd_lite.errors import ConfigError
from gapd_lite.models import ModelConfig, load_policy
from gapd_lite.training.checkpoint import latest_checkpoint
from gapd_lite.training.rewards import exact_match, f1, hits_at_1, reward
from gapd_lite.fast import sft_prefix
from gapd_lite.fast.sft_prefix import shared_prefix
from gapd_lite.training.config import preset as _preset
from gapd_lite.training.loop import JsonlLog, WarmupCosine, budget_horizon
from gapd_lite.training.sft import SFTExample, build_examples, sft_loss, sft_parts
from gapd_lite.training.trainer import train_sft


def preset(name: str, **overrides):
    return _preset("sft", name, **overrides)


def parts_loss(policy, batch, one_by_one: bool, weight: float = 1.0) -> tuple[float, int]:
    """What the loop does with an SFT micro-batch: backpropagate each part; the loss and its token count."""
    total, tokens = 0.0, 0
    for part in sft_parts(policy.model, batch, policy.tokenizer.pad_token_id, weight, one_by_one):
        if torch.is_grad_enabled():
            part.loss.backward()
        total += part.loss.item() if part.counted else 0.0
        tokens += int(part.stats.get("tokens", 0))
    return total, tokens


@pytest.fixture(scope="module")
def tiny():
    return load_policy(ModelConfig(name="tiny"))


@pytest.fixture(scope="module")
def dev():
    return load_split("dev")[:6]


def test_mask_is_exactly_the_generated_tokens(tiny, bundled_kb, dev):
    trajs = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev[:3], RolloutConfig(
        greedy=False, temperature=1.0, group_size=2, max_new_tokens=12, env=EnvConfig(max_turns=2)), progress=False)
    assert len(trajs) == 6 and [t.sample for t in trajs] == [0, 1] * 3
    for t in trajs:
        r = t.rendered
        inside = [0] * len(r.ids)
        for a, b in r.turn_spans:
            inside[a:b] = [1] * (b - a)
        assert inside == r.mask
        assert len(r.turn_spans) == len(t.steps)
        for (a, b), step in zip(r.turn_spans, t.steps):
            assert tiny.tokenizer.decode(r.ids[a:b], skip_special_tokens=True) == step.text
        assert sum(r.mask[: r.prompt_len]) == 0


def test_batched_rollouts_equal_one_at_a_time_under_greedy(tiny, bundled_kb, dev):
    cfg = dict(greedy=True, max_new_tokens=10, env=EnvConfig(max_turns=2))
    batched = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev, RolloutConfig(batch_size=6, **cfg), progress=False)
    single = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev, RolloutConfig(batch_size=1, **cfg), progress=False)
    assert [t.rendered.ids for t in batched] == [t.rendered.ids for t in single]


def test_gold_dialogue_masks_and_action_spans(tiny, bundled_kb, dev):
    q = dev[0]
    turns, _ = gold_episode(q, bundled_kb)
    r = render_dialogue(tiny.tokenizer, task_for(q, bundled_kb), turns)
    assert len(r.turn_spans) == len(turns) == len(r.action_spans)
    for (a, b), turn, span in zip(r.turn_spans, turns, r.action_spans):
        assert tiny.tokenizer.decode(r.ids[a:b]) == turn.text
        action = turn.text.split("<action>")[1].split("</action>")[0]
        assert tiny.tokenizer.decode(r.ids[span[0]:span[1]]).strip() == action
    observed = tiny.tokenizer.decode([i for i, m in zip(r.ids, r.mask) if m == 0])
    assert "<information>" in observed and "<information>" not in tiny.tokenizer.decode([i for i, m in zip(r.ids, r.mask) if m])


def test_sft_lowers_the_loss_on_a_fixed_batch(bundled_kb, dev):
    policy = load_policy(ModelConfig(name="tiny", seed=1))
    batch = build_examples(dev[:2], bundled_kb, policy.tokenizer, progress=False)
    opt = torch.optim.AdamW([p for p in policy.model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(8):
        loss, n = sft_loss(policy.model, batch, policy.tokenizer.pad_token_id)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert n == sum(sum(e.mask) for e in batch)
    assert losses[-1] < losses[0] - 0.5


def test_sft_loss_is_cross_entropy_over_agent_tokens_only(tiny, bundled_kb, dev):
    batch = build_examples(dev[:1], bundled_kb, tiny.tokenizer, progress=False)
    ex = batch[0]
    with torch.no_grad():
        loss, n = sft_loss(tiny.model, batch, tiny.tokenizer.pad_token_id)
        logits = tiny.model(input_ids=torch.tensor([ex.ids])).logits[0].float()
    logp = torch.log_softmax(logits, -1)
    picks = [-logp[t, ex.ids[t + 1]].item() for t in range(len(ex.ids) - 1) if ex.mask[t + 1]]
    assert n == len(picks) and loss.item() == pytest.approx(sum(picks) / len(picks), rel=1e-4)


def test_unpadded_sft_loss_equals_the_padded_batch(bundled_kb, dev, monkeypatch):
    """One dialogue at a time (no pads), with or without the shared system prompt run once, gives the padded
    batch's token-mean loss and the same gradient."""
    policy = load_policy(ModelConfig(name="tiny", seed=2))
    batch = build_examples(dev[:3], bundled_kb, policy.tokenizer, progress=False)
    assert len({len(e.ids) for e in batch}) > 1  # lengths differ: the padded batch carries pads
    assert shared_prefix(batch) >= sft_prefix.MIN_SHARED  # the system prompt is shared: the unpadded path runs it once
    policy.model.eval()  # LoRA dropout off: both paths must see the same inputs (gradients still flow)
    grads, shared = [], sft_prefix.MIN_SHARED
    for one_by_one, min_shared in ((False, shared), (True, shared), (True, 10**9)):
        monkeypatch.setattr(sft_prefix, "MIN_SHARED", min_shared)
        policy.model.zero_grad()
        loss, n = parts_loss(policy, batch, one_by_one)
        grads.append((loss, n, [p.grad.clone() for p in policy.model.parameters() if p.requires_grad]))
    monkeypatch.setattr(sft_prefix, "MIN_SHARED", shared)
    (l1, n1, g1), (l2, n2, g2), (l4, n4, g4) = grads
    assert n1 == n2 == n4 == sum(sum(e.mask[1:]) for e in batch)
    assert l1 == pytest.approx(l2, rel=1e-5) and l1 == pytest.approx(l4, rel=1e-5)
    assert l1 == pytest.approx(sft_loss(policy.model, batch, policy.tokenizer.pad_token_id)[0].item(), rel=1e-5)
    assert all(torch.allclose(a, b, atol=1e-6, rtol=1e-4) for a, b in zip(g1, g2))
    assert all(torch.allclose(a, b, atol=1e-6, rtol=1e-4) for a, b in zip(g1, g4))
    assert any(a.abs().sum() > 0 for a in g1)
    policy.model.zero_grad()  # weighted (as under gradient accumulation): every dialogue's share scales alike
    parts_loss(policy, batch, True, weight=0.5)
    g3 = [p.grad.clone() for p in policy.model.parameters() if p.requires_grad]
    assert all(torch.allclose(a * 0.5, b, atol=1e-6, rtol=1e-4) for a, b in zip(g1, g3))
    with torch.no_grad():  # no graph: the value alone
        assert parts_loss(policy, batch, True)[0] == pytest.approx(l1, rel=1e-5)


def test_the_shared_prefix_stops_before_the_first_position_a_loss_reads():
    """Shared tokens count only up to the first position whose next token is the agent's, and every dialogue
    keeps a token after the prefix."""
    a = SFTExample("a", [1, 2, 3, 4, 5, 6], [0, 0, 0, 0, 1, 1])
    b = SFTExample("b", [1, 2, 3, 4, 9, 9, 9], [0, 0, 0, 0, 0, 1, 1])
    assert shared_prefix([a, b]) == 3  # ids agree on 4 tokens, but a's loss reads the logits at position 3
    assert shared_prefix([a, SFTExample("c", [1, 2], [0, 1])]) == 0  # c's first token already predicts the agent
    assert shared_prefix([a, SFTExample("d", [7, 2, 3, 4, 5], [0, 0, 0, 0, 1])]) == 0
    assert shared_prefix([SFTExample("e", [1, 2, 3], [0, 0, 0]), SFTExample("f", [1, 2, 3], [0, 0, 0])]) == 2


def test_resume_gives_the_same_next_losses(tmp_path):
    full = train_sft(preset("smoke", out_dir=str(tmp_path / "a")), progress=False)
    train_sft(preset("smoke", out_dir=str(tmp_path / "b")), progress=False, stop_after=2)
    resumed = train_sft(preset("smoke", out_dir=str(tmp_path / "b")), progress=False)
    assert resumed.resumed_from == 2
    assert [round(r["loss"], 6) for r in resumed.log] == [round(r["loss"], 6) for r in full.log]
    assert (tmp_path / "b" / "final" / "adapter_config.json").exists()
    again = train_sft(preset("smoke", out_dir=str(tmp_path / "b")), progress=False)  # finished: nothing to do
    assert again.resumed_from == again.steps == 4 and again.last_loss == pytest.approx(full.last_loss, rel=1e-6)


def test_the_log_holds_each_update_once_after_a_fresh_rerun_or_a_lost_tail(tmp_path):
    cfg = preset("smoke", out_dir=str(tmp_path))
    first = train_sft(cfg, progress=False)
    shutil.rmtree(tmp_path / "checkpoints")  # e.g. a new checkout: logs are committed, checkpoints are not
    again = train_sft(cfg, progress=False)
    assert again.resumed_from == 0 and [r["step"] for r in again.log] == [1, 2, 3, 4]
    assert [round(r["loss"], 6) for r in again.log] == [round(r["loss"], 6) for r in first.log]
    # killed after logging update 3 but before its checkpoint: the resumed run redoes 3 and logs it once
    shutil.rmtree(tmp_path / "checkpoints")
    train_sft(cfg, progress=False, stop_after=2)
    JsonlLog(tmp_path / "log.jsonl").write({"step": 3, "loss": 123.0})
    resumed = train_sft(cfg, progress=False)
    assert resumed.resumed_from == 2 and [r["step"] for r in resumed.log] == [1, 2, 3, 4]
    assert [round(r["loss"], 6) for r in resumed.log] == [round(r["loss"], 6) for r in first.log]


def test_torn_and_corrupted_checkpoints_are_skipped(tmp_path):
    train_sft(preset("smoke", out_dir=str(tmp_path)), progress=False)
    root = tmp_path / "checkpoints"
    good = sorted(root.glob("ckpt-??????"))
    (root / "ckpt-000009.tmp").mkdir()
    bad = root / "ckpt-000008"
    bad.mkdir()
    (bad / "MANIFEST.json").write_text(json.dumps({"adapter.pt": "0" * 64}))
    (bad / "adapter.pt").write_bytes(b"garbage")
    messages = []
    assert latest_checkpoint(tmp_path, messages.append) == good[-1]
    assert any("interrupted" in m for m in messages) and any("checksum" in m for m in messages)


def test_function_questions_are_repeated_and_plain_ones_kept(tiny, bundled_kb):
    from gapd_lite.training.sft import repeat_functions

    every = load_split("dev")
    qs = [q for q in every if q.function in (None, "none")][:2] + [q for q in every if q.function == "count"][:1] + \
        [q for q in every if q.function == "argmax"][:1]
    examples = build_examples(qs, bundled_kb, tiny.tokenizer, max_len=4096, progress=False)
    assert len(examples) == 4
    assert repeat_functions(examples, qs, 1) == examples
    tripled = [e.qid for e in repeat_functions(examples, qs, 3)]
    assert tripled == [qs[0].qid, qs[1].qid] + [qs[2].qid] * 3 + [qs[3].qid] * 3
    from dataclasses import replace  # WebQSP records carry no function field: the logical form says it
    unlabelled = [replace(q, function=None) for q in qs]
    assert [e.qid for e in repeat_functions(examples, unlabelled, 3)] == tripled


def test_metrics_and_reward():
    gold = {"m.a", "m.b"}
    assert f1({"m.a"}, gold) == pytest.approx(2 / 3) and f1(None, gold) == 0 and f1(set(), set()) == 1
    assert hits_at_1({"m.a", "m.z"}, gold) == 1 and hits_at_1({"m.z"}, gold) == 0
    assert exact_match({"m.b", "m.a"}, gold) == 1 and exact_match({"m.a"}, gold) == 0
    assert reward({"m.a", "m.b"}, gold, valid_turns=2, turns=4) == pytest.approx(1.05)


def test_bad_training_config_is_a_clear_error():
    with pytest.raises(ConfigError, match="num_updates"):
        preset("smoke", num_updates=0)
    with pytest.raises(ConfigError, match="function_repeat"):
        preset("smoke", function_repeat=0)
    with pytest.raises(ConfigError, match="unknown sft preset"):
        preset("huge")


def test_shared_prompt_prefix_is_prefilled_once_and_changes_nothing(tiny, bundled_kb, dev):
    from gapd_lite.agent.rollout import shared_prefix_len

    cfg = dict(greedy=True, group_size=2, max_new_tokens=10, env=EnvConfig(max_turns=2))
    shared = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev[:3], RolloutConfig(batch_size=3, **cfg), progress=False)
    plain = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev[:3], RolloutConfig(batch_size=3, share_prefix=False, **cfg),
                    progress=False)
    assert [t.rendered.ids for t in shared] == [t.rendered.ids for t in plain]
    prompts = [t.rendered.ids[: t.rendered.prompt_len] for t in shared]
    n = shared_prefix_len(prompts)
    assert 100 < n < min(map(len, prompts))  # the system prompt, not the questions
    assert shared_prefix_len([[1, 2, 3], [1, 2, 3]]) == 2 and shared_prefix_len([[1, 2], [3]]) == 0


def test_ragged_prefill_changes_nothing(tiny, bundled_kb, dev, monkeypatch):
    """Prefilling each episode's observation alone (no pads) gives the same greedy episodes as one padded prefill,
    and the cache it builds holds exactly the context so far."""
    from gapd_lite.agent import rollout as rollout_module
    from gapd_lite.agent.rollout import extend_state

    calls = []
    monkeypatch.setattr(rollout_module, "extend_state", lambda *a: calls.append(1) or extend_state(*a))
    cfg = dict(greedy=True, group_size=2, max_new_tokens=10, env=EnvConfig(max_turns=3))
    ragged = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev[:4], RolloutConfig(batch_size=8, **cfg),
                     progress=False)
    padded = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev[:4], RolloutConfig(batch_size=8, ragged_prefill=False, **cfg),
                     progress=False)
    assert [t.rendered.ids for t in ragged] == [t.rendered.ids for t in padded]
    assert len(calls) > 2  # the ragged path ran (each run's shared system prompt is one call)
    assert max(len(t.steps) for t in ragged) >= 2  # observations were prefilled, not only the first prompt
    ids = ragged[0].rendered.ids[:40]
    state = extend_state(tiny.model, extend_state(tiny.model, None, ids[:25]), ids[25:])
    whole = extend_state(tiny.model, None, ids)
    assert state.length == whole.length == 40
    for (k1, v1), (k2, v2) in zip(state.layers, whole.layers):
        assert torch.allclose(k1, k2, atol=1e-5) and torch.allclose(v1, v2, atol=1e-5)


@pytest.mark.parametrize("kind", ["dynamic", "static"])
def test_kv_cache_kind_changes_nothing(tiny, bundled_kb, dev, kind):
    """Decoding into transformers' DynamicCache or a preallocated StaticCache gives the same greedy episodes as the
    default growing cache, batched and one at a time."""
    cfg = dict(greedy=True, group_size=2, max_new_tokens=10, env=EnvConfig(max_turns=3))
    growing = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev[:4], RolloutConfig(batch_size=8, **cfg), progress=False)
    for batch in (8, 1):
        other = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev[:4],
                        RolloutConfig(batch_size=batch, kv_cache=kind, **cfg), progress=False)
        assert [t.rendered.ids for t in other] == [t.rendered.ids for t in growing]
    assert max(len(t.steps) for t in growing) >= 2


def test_growing_layer_appends_in_place_and_matches_concatenation():
    """The growing layer returns exactly what DynamicLayer's concatenation returns, without reallocating while it
    has room, and rebuilds its buffer when the batch is reselected (e.g. by generate)."""
    from transformers.cache_utils import DynamicLayer

    from gapd_lite.fast.kv_cache import GrowingLayer

    torch.manual_seed(0)
    grow, plain = GrowingLayer(reserve=3), DynamicLayer()
    chunks = [torch.randn(2, 3, n, 4) for n in (5, 1, 1, 1, 1, 2)]
    pointers = []
    for c in chunks:
        k, v = grow.update(c, -c)
        k2, v2 = plain.update(c, -c)
        assert torch.equal(k, k2) and torch.equal(v, v2)
        pointers.append(k.data_ptr())
    assert len(set(pointers[:4])) == 1  # 5 + 3 reserved positions: no new buffer for the next three tokens
    assert pointers[4] != pointers[3]  # full: rebuilt once
    grow.batch_select_indices(torch.tensor([1]))
    plain.batch_select_indices(torch.tensor([1]))
    c = torch.randn(1, 3, 1, 4)
    assert torch.equal(grow.update(c, c)[0], plain.update(c, c)[0])
    assert grow.get_seq_length() == plain.get_seq_length() == 12


def test_rollout_config_rejects_an_unknown_cache_kind():
    with pytest.raises(ConfigError, match="kv_cache"):
        RolloutConfig(kv_cache="paged")
    with pytest.raises(ConfigError, match="decode_chunk"):
        RolloutConfig(decode_chunk=-1)


@pytest.mark.parametrize("kind", ["growing", "dynamic"])
def test_finished_episodes_leave_the_batch_and_change_nothing(bundled_kb, dev, monkeypatch, kind):
    """Decoding in chunks, where episodes whose turn is over leave the batch, gives the same greedy episodes as one
    call per turn. The tiny model gets larger random weights (its default init writes the same token everywhere)
    and a seventh of the vocabulary is made a stop token, so that turns end unevenly."""
    from transformers import DynamicCache

    from gapd_lite.agent import rollout as rollout_module
    from gapd_lite.models import ModelConfig, load_policy

    tiny = load_policy(ModelConfig(name="tiny"))
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in tiny.model.named_parameters():
            if p.dim() == 2 and "lora" not in name:
                p.normal_(0, 0.2)

    monkeypatch.setattr(rollout_module, "stop_token_ids", lambda tok: list(range(5, tok.vocab_size, 7)))
    sizes, dropped = [], []
    select = DynamicCache.batch_select_indices
    monkeypatch.setattr(DynamicCache, "batch_select_indices",
                        lambda self, idx: dropped.append(len(idx)) or select(self, idx))
    generate = type(tiny.model).generate
    monkeypatch.setattr(type(tiny.model), "generate",
                        lambda self, **kw: sizes.append(kw["input_ids"].shape[0]) or generate(self, **kw))
    cfg = dict(greedy=True, group_size=2, max_new_tokens=12, env=EnvConfig(max_turns=3), kv_cache=kind)
    whole = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev[:4], RolloutConfig(batch_size=8, decode_chunk=0, **cfg),
                    progress=False)
    calls = len(sizes)
    for batch in (8, 1):
        chunked = rollout(tiny.model, tiny.tokenizer, bundled_kb, dev[:4],
                          RolloutConfig(batch_size=batch, decode_chunk=2, **cfg), progress=False)
        assert [t.rendered.ids for t in chunked] == [t.rendered.ids for t in whole]
    assert len(sizes) > 2 * calls  # chunks: several generate calls per turn
    assert dropped and all(0 < n for n in dropped)  # ... and rows left the batch mid-turn
    assert max(len(t.steps) for t in whole) >= 2


def test_a_time_budget_fits_the_cosine_to_end_when_it_runs_out():
    # 4 updates took 40 s of a 100 s budget: 60 s left at 10 s each (less a 5% margin) is 5 more, so it ends at 9
    assert budget_horizon(4, 4, 40.0, 100.0, num_updates=84) == 9
    assert budget_horizon(4, 4, 4.0, 1000.0, num_updates=84) == 84  # a fast machine keeps the whole schedule
    assert budget_horizon(4, 4, 200.0, 100.0, num_updates=84) == 4  # already over: anneal now, never go back
    assert budget_horizon(8, 4, 40.0, 100.0, num_updates=84) == 13  # resumed at 4: only this run's updates are timed
    s = WarmupCosine(warmup=2, total=10)
    assert s(0) == pytest.approx(1 / 3) and s(2) == pytest.approx(1.0) and s(10) == pytest.approx(0.1)
    assert s(6) == pytest.approx(0.55)  # half-way down the cosine: the mean of peak and floor


def test_budgeted_run_anneals_by_its_budget_and_resumes_on_the_fitted_schedule(tmp_path, monkeypatch):
    import types

    from gapd_lite.training import loop as trainer

    calls = []  # a clock that gains 10 s whenever the trainer reads it
    monkeypatch.setattr(trainer, "time", types.SimpleNamespace(perf_counter=lambda: 10.0 * len(calls.append(0) or calls)))
    cfg = preset("smoke", out_dir=str(tmp_path), num_updates=40, warmup_updates=1, save_every=40, max_minutes=3.0)
    run = train_sft(cfg, progress=False)
    fitted = [r for r in run.log if "schedule_end" in r]
    assert len(fitted) == 1 and fitted[0]["step"] == trainer.FIT_AFTER
    end = fitted[0]["schedule_end"]
    assert trainer.FIT_AFTER < end < cfg.num_updates
    losses = [r for r in run.log if "loss" in r]
    for r in losses:  # every logged lr follows the fitted schedule from the fit on
        if r["step"] > trainer.FIT_AFTER:
            assert r["lr"] == pytest.approx(cfg.lr * WarmupCosine(1, end)(r["step"]))
    assert run.log[-1]["stopped"].startswith("time budget") and run.steps < cfg.num_updates
    assert min(r["lr"] for r in losses) == pytest.approx(0.1 * cfg.lr)  # annealed before the budget ran out
    # rerunning continues on the same (fitted) schedule: no second fit, the lr stays at its floor
    again = train_sft(cfg, progress=False, stop_after=run.steps + 2)
    assert not any("schedule_end" in r for r in again.log if r["step"] > run.steps)
    assert [r["lr"] for r in again.log if r["step"] > run.steps] == pytest.approx([0.1 * cfg.lr] * 2)
