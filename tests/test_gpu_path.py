"""The GPU benchmark's pieces on CPU: merged-weight generation plays the same policy, a Qwen2.5-shaped local
checkpoint loads through load_policy, the fixed-length update probe runs; `bench gpu` refuses to run without CUDA."""
from __future__ import annotations

import pytest
import torch

from gapd_lite.errors import ConfigError
from gapd_lite.gpu_bench import QWEN25_SHAPES, bench_gpu, fixed_length_batch, save_random_qwen, update_probe
from gapd_lite.models import MergedGenerator, ModelConfig, load_policy, load_tokenizer


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def test_merged_generator_plays_the_current_policy():
    policy = load_policy(ModelConfig(name="tiny"))
    with torch.no_grad():  # give the adapters a real delta (LoRA B starts at zero)
        for name, p in policy.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    ids = torch.randint(0, 1000, (2, 12), generator=torch.Generator().manual_seed(0))
    merged = MergedGenerator(policy)
    policy.model.eval()
    assert torch.allclose(_logits(merged.model, ids), _logits(policy.model, ids), atol=1e-4)
    with torch.no_grad():  # the policy moves on; sync follows it (and unmerges the old delta first)
        for name, p in policy.model.named_parameters():
            if "lora_A" in name:
                p.add_(0.1)
    assert not torch.allclose(_logits(merged.model, ids), _logits(policy.model, ids), atol=1e-4)
    merged.sync(policy)
    assert torch.allclose(_logits(merged.model, ids), _logits(policy.model, ids), atol=1e-4)


def test_qwen_shaped_local_checkpoint_loads_and_the_update_probe_runs(tmp_path, bundled_kb):
    small = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=49152)
    tok = load_tokenizer(ModelConfig(name="embedded"))
    folder = save_random_qwen("qwen2.5-0.5b", tmp_path / "qwen", tok, scale=small)
    policy = load_policy(ModelConfig(name=str(folder), lora_r=4))
    assert policy.model.config.model_type == "qwen2" and policy.trainable_parameters() > 0
    batch = fixed_length_batch(policy, bundled_kb, tokens=700)
    r = batch.trajectories[0].rendered
    assert len(r.ids) == len(r.mask) == 700 and any(s is not None for s in r.action_spans)
    assert all(s is None or s[1] <= 700 for s in r.action_spans)
    for lam in (0.0, 0.5):
        out = update_probe(policy, batch, lam, repeat=1)
        assert out["seconds"] > 0 and out["tokens_per_s"] > 0


def test_published_shapes_are_the_qwen25_configs():
    assert QWEN25_SHAPES["qwen2.5-1.5b"]["hidden_size"] == 1536 and QWEN25_SHAPES["qwen2.5-3b"]["num_hidden_layers"] == 36


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown without CUDA")
def test_bench_gpu_without_cuda_says_what_to_run_instead():
    with pytest.raises(ConfigError, match="needs a CUDA GPU.*bench all"):
        bench_gpu()
