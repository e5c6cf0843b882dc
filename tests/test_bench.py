"""`bench rollout` on the tiny model: both paths play the same episodes, and the JSON says what ran."""
from __future__ import annotations

import pytest

from gapd_lite.bench import bench_rollout


def test_bench_rollout_compares_equal_trajectories_and_reports_the_setup():
    out = bench_rollout(questions=3, max_new_tokens=8, max_turns=2, model="tiny", repeat=2, decode_chunk=3)
    assert out["identical_trajectories"] is True and out["dtype"] == "float32"
    assert len(out["seconds_each_run"]["batched"]) == len(out["seconds_each_run"]["one_at_a_time"]) == 2
    assert out["seconds"]["batched"] == min(out["seconds_each_run"]["batched"])
    assert out["speedup"] == pytest.approx(out["seconds"]["one_at_a_time"] / out["seconds"]["batched"])
    assert out["generated_tokens"]["batched"] == out["generated_tokens"]["one_at_a_time"] > 0
    # 3 questions and their observations; the system prompt all 3 start with counts once
    assert 0 < out["prefilled_tokens"] < 3 * 1000
    for name, split in out["seconds_split"].items():  # the decoder's prefill and decode and the rest add up
        assert split["prefill"] > 0 and split["decode"] > 0 and split["other"] >= 0
        assert sum(split.values()) == pytest.approx(out["seconds"][name])


def test_bench_rollout_runs_in_bfloat16_when_asked():
    out = bench_rollout(questions=2, max_new_tokens=4, max_turns=1, model="tiny", dtype="bfloat16")
    assert out["dtype"] == "bfloat16" and out["generated_tokens"]["batched"] > 0


def test_bench_step_times_every_variant_on_the_same_batch():
    from gapd_lite.bench import bench_step

    result = bench_step(model="tiny", repeat=1, max_tokens=768)
    assert set(result["seconds"]) == {"grpo", "gapd", "gapd_teacher_step_by_step", "gapd_naive_teacher"}
    assert result["trajectories"] == 4 and result["action_steps"] > 4 and all(v > 0 for v in result["seconds"].values())
    assert result["gapd_over_grpo"] == result["seconds"]["gapd"] / result["seconds"]["grpo"]
    assert isinstance(result["goal_met"], bool)


def test_bench_eval_times_both_paths_on_the_same_questions():
    from gapd_lite.bench import bench_eval

    out = bench_eval(questions=3, adapter=None, model="tiny", batch_size=1, fast_batch_size=3, max_turns=1)
    assert out["questions"] == 3 and set(out["questions_per_minute"]) == {"baseline", "fast"}
    assert out["speedup"] == out["questions_per_minute"]["fast"] / out["questions_per_minute"]["baseline"]
    assert out["fast"] == {"dtype": "bfloat16", "batch_size": 3, "lora": "merged"} and isinstance(out["goal_met"], bool)


def test_the_fast_evaluation_copy_computes_what_the_lora_policy_computes():
    """bench eval's fast path generates from `MergedGenerator`'s copy: the adapter merged into the base weights."""
    import torch

    from gapd_lite.models import MergedGenerator, ModelConfig, load_policy

    policy = load_policy(ModelConfig(name="tiny", lora_dropout=0.0))
    for p in policy.model.parameters():  # a trained-looking adapter: B is zero at initialisation
        if p.requires_grad:
            torch.nn.init.normal_(p, std=0.05)
    ids = torch.tensor([[1, 5, 9, 2, 7, 3]])
    policy.model.eval()
    copy = MergedGenerator(policy, "float32")
    with torch.no_grad():
        want = policy.model(input_ids=ids).logits
        got = copy.model(input_ids=ids).logits
    assert copy.merged  # the adapter lives in the base weights: no LoRA products per token
    assert torch.allclose(want, got, atol=1e-4)
