"""The QLoRA path on a CPU (bitsandbytes runs NF4 there): the `gpu-small` SFT recipe's updates, adapter save →
reload → merge, and the merged 16-bit generator playing the 4-bit policy's own greedy turns. `pytest -m qlora_cpu`.

The tiny model stands in for the embedded one: a QLoRA update of the embedded model takes minutes on 2 CPU cores
(batch 8 × ~1,200 tokens, recomputed under gradient checkpointing), too slow for CI.
"""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
bnb = pytest.importorskip("bitsandbytes")

from gapd_lite.agent.rollout import RolloutConfig  # noqa: E402
from gapd_lite.data import load_split  # noqa: E402
from gapd_lite.errors import ConfigError  # noqa: E402
from gapd_lite.models import (MergedGenerator, ModelConfig, adapter_state, base_model, linear_weight,  # noqa: E402
                              load_policy)
from gapd_lite.training.config import preset  # noqa: E402
from gapd_lite.training.trainer import train_sft  # noqa: E402

pytestmark = pytest.mark.qlora_cpu

QLORA = {"name": "tiny", "quantize": "4bit", "dtype": "bfloat16"}  # the gpu-small recipe on the tiny model


def _recipe(tmp, **model) -> object:
    """The gpu-small SFT preset (batch 8, lr, max_tokens, data order, padded batches as on a GPU), a few updates."""
    return preset("sft", "gpu-small", model={**QLORA, **model}, out_dir=str(tmp), num_updates=4, warmup_updates=1,
                  max_questions=8, lr=3e-3, save_every=100, one_at_a_time=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, bundled_kb):
    """A few QLoRA SFT updates on gold dialogues: (policy, run result, saved adapter folder)."""
    out = tmp_path_factory.mktemp("qlora") / "run"
    cfg = _recipe(out)
    policy = load_policy(cfg.model, device="cpu")
    result = train_sft(cfg, policy=policy, kb=bundled_kb, progress=False)
    return policy, result, out / "final"


def _linear4bit(model):
    return [m for m in base_model(model).modules() if isinstance(m, bnb.nn.Linear4bit)]


def _logits(model, ids):
    model.eval()
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def _lora_state(policy) -> dict:
    return {k: v.float() for k, v in adapter_state(policy.model).items()}


def test_qlora_sft_updates_run_the_gpu_recipe_and_lower_the_loss(trained):
    policy, result, final = trained
    layers = _linear4bit(policy.model)
    assert layers and all(m.weight.quant_type == "nf4" and m.weight.quant_state.nested for m in layers)  # double quant
    assert all(m.compute_dtype == torch.bfloat16 for m in layers)
    assert getattr(base_model(policy.model), "is_gradient_checkpointing", False)
    losses = [r["loss"] for r in result.log if "loss" in r]
    assert len(losses) == 4 and all(torch.isfinite(torch.tensor(x)) for x in losses)
    assert losses[-1] < losses[0]
    assert (final / "adapter_config.json").is_file()


def test_the_saved_adapter_loads_into_4bit_plain_and_merged_models_without_dropping_weights(trained):
    policy, _, final = trained
    want = _lora_state(policy)
    assert want and any(v.abs().sum() > 0 for k, v in want.items() if "lora_B" in k)  # training moved B off zero
    ids = torch.randint(0, 1000, (2, 24), generator=torch.Generator().manual_seed(0))
    again = load_policy(ModelConfig(**QLORA), device="cpu", adapter=final)
    assert _lora_state(again).keys() == want.keys()
    assert all(torch.equal(_lora_state(again)[k], v) for k, v in want.items())
    assert torch.allclose(_logits(again.model, ids), _logits(policy.model, ids), atol=1e-5)
    plain = load_policy(ModelConfig(name="tiny", quantize="none", dtype="float32"), device="cpu", adapter=final)
    assert all(torch.equal(_lora_state(plain)[k], v) for k, v in want.items())  # every LoRA weight arrived
    merged = {k: v.float() for k, v in adapter_state(MergedGenerator(again).model).items()}
    assert all(torch.equal(merged[k], v) for k, v in want.items())


def test_an_adapter_missing_weights_is_refused_not_half_loaded(trained, tmp_path):
    from safetensors.torch import load_file, save_file

    policy, _, final = trained
    folder = tmp_path / "cut"
    folder.mkdir()
    for f in final.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    weights = load_file(str(final / "adapter_model.safetensors"))
    save_file({k: v for k, v in weights.items() if "layers.1." not in k}, str(folder / "adapter_model.safetensors"))
    with pytest.raises(ConfigError, match="lacks LoRA weights"):
        load_policy(ModelConfig(**QLORA), device="cpu", adapter=folder)


def _fp32_qlora_with_delta(**model):
    """A 4-bit policy computing in float32 with a real LoRA delta: the merged copy must match it to fp32 rounding."""
    policy = load_policy(ModelConfig(name="tiny", quantize="4bit", dtype="float32", lora_dropout=0.0, **model),
                         device="cpu")
    with torch.no_grad():
        for name, p in policy.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05, generator=torch.Generator().manual_seed(hash(name) % 2**31))
    return policy


def test_the_merged_generator_is_built_on_the_dequantized_nf4_base_it_was_trained_on(monkeypatch):
    """A merged copy on the original weights plays another policy than the 4-bit one: the adapter was trained on
    the NF4 base. On a CPU the 4-bit policy's eval forward runs bitsandbytes' own packed kernel, which rounds
    differently (≤ 3e-3 here), so the bound is 1e-2; the original-weight copy is off by ~0.1."""
    from gapd_lite import models

    policy = _fp32_qlora_with_delta()
    nf4 = {name: linear_weight(m).float() for name, m in base_model(policy.model).named_modules()  # before any eval
           if name.endswith("q_proj.base_layer")}  # forward: then bitsandbytes re-packs CPU weights for its kernel
    merged = MergedGenerator(policy)
    ids = torch.randint(0, 1000, (2, 24), generator=torch.Generator().manual_seed(1))
    want = _logits(policy.model, ids)
    assert (_logits(merged.model, ids) - want).abs().max() < 1e-2
    merged.model.unmerge_adapter()
    layers = dict(base_model(merged.model).named_modules())
    assert nf4 and all(torch.allclose(layers[name].weight, w, atol=1e-6) for name, w in nf4.items())  # unmerge rounds
    merged.sync(policy)  # re-merging after an unmerge gives the same policy
    assert (_logits(merged.model, ids) - want).abs().max() < 1e-2
    monkeypatch.setattr(models, "copy_base_weights", lambda source, target: 0)  # the copy as it was: original weights
    assert (_logits(MergedGenerator(policy).model, ids) - want).abs().max() > 5e-2


def test_merged_greedy_turns_at_batch_64_equal_the_4bit_policys_own(bundled_kb):
    """64 contexts of 60-700 tokens decoded together (each left-padded in the batch's cache) by the merged copy
    and by the 4-bit policy itself, and one at a time by the copy. In float32 compute the copy and the policy differ
    by rounding only (W·x + B·A·x against (W + B·A)·x); on a random tiny model a near-tie can flip once in a while,
    hence ≥ 99% of tokens. The policy decodes in train mode (LoRA dropout 0, no checkpointing: the same function),
    which keeps bitsandbytes off the bf16 kernel it switches to for eval forwards on a CPU."""
    from gapd_lite.agent.rollout import generate_turns
    from gapd_lite.training.sft import build_examples

    policy = _fp32_qlora_with_delta(gradient_checkpointing=False)
    merged = MergedGenerator(policy)
    examples = build_examples(load_split("train")[:64], bundled_kb, policy.tokenizer, max_len=4000, progress=False)
    contexts = [e.ids[: 60 + (i * 397) % 640] for i, e in enumerate(examples)]
    assert len(contexts) == 64 and max(map(len, contexts)) - min(map(len, contexts)) > 600
    cfg = RolloutConfig(greedy=True, max_new_tokens=10, batch_size=64)
    policy.model.train()
    with torch.no_grad():
        own, _ = generate_turns(policy.model, policy.tokenizer, contexts, cfg)
    batched, _ = generate_turns(merged.model, policy.tokenizer, contexts, cfg)
    single = [generate_turns(merged.model, policy.tokenizer, [c], cfg)[0][0] for c in contexts[:8]]
    assert batched[:8] == single  # left padding and the carried cache change nothing
    agree = sum(next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b))) for a, b in zip(batched, own))
    assert agree / sum(len(t) for t in own) >= 0.99


def test_fp16_compute_for_gpus_without_bf16_trains_with_finite_losses(tmp_path, bundled_kb):
    """The T4 path: NF4 base, float16 compute, LoRA weights in float32."""
    cfg = _recipe(tmp_path / "fp16", dtype="float16")
    policy = load_policy(cfg.model, device="cpu")
    assert all(m.compute_dtype == torch.float16 for m in _linear4bit(policy.model))
    assert all(p.dtype == torch.float32 for p in policy.model.parameters() if p.requires_grad)
    result = train_sft(cfg, policy=policy, kb=bundled_kb, progress=False)
    losses = [r["loss"] for r in result.log if "loss" in r]
    norms = [r["grad_norm"] for r in result.log if "loss" in r]
    assert all(torch.isfinite(torch.tensor(x)) for x in losses + norms) and all(n > 0 for n in norms)
    assert losses[-1] < losses[0]
