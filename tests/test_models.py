"""Models: the tiny model trains with LoRA, adapters round-trip, the embedded model answers, bad configs fail clearly."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from gapd_lite.errors import ConfigError  # noqa: E402
from gapd_lite.models import (  # noqa: E402
    ModelConfig,
    Policy,
    add_lora,
    chat_ids,
    load_base_model,
    load_policy,
    load_tokenizer,
)

TINY = dict(name="tiny", lora_dropout=0.0)  # no dropout: losses and logits are deterministic


@pytest.fixture(scope="module")
def tiny_policy() -> Policy:
    return load_policy(ModelConfig(**TINY), device="cpu")


def _batch(tok, texts):
    return tok(texts, return_tensors="pt", padding=True)


def test_tiny_model_is_built_in_code_with_the_embedded_vocab(tiny_policy):
    tok, base = tiny_policy.tokenizer, tiny_policy.model.get_base_model()
    assert base.config.vocab_size == len(tok) == 49152
    assert base.config.num_hidden_layers == 2 and base.config.hidden_size == 64 and base.config.tie_word_embeddings
    assert tok.pad_token is not None and tok.padding_side == "left" and tok.chat_template
    again = load_base_model(ModelConfig(**TINY), device="cpu")  # seeded: the same weights every time
    assert torch.equal(again.model.embed_tokens.weight, base.model.embed_tokens.weight)
    other = load_base_model(ModelConfig(name="tiny", seed=1), device="cpu")
    assert not torch.equal(other.model.embed_tokens.weight, base.model.embed_tokens.weight)


def test_tiny_model_generates_a_left_padded_batch(tiny_policy):
    tok = tiny_policy.tokenizer
    prompts = [chat_ids(tok, [{"role": "user", "content": q}]) for q in ("Hi", "What is the capital of France?")]
    assert prompts[0][-3:] == tok("<|im_start|>assistant\n")["input_ids"][-3:]  # ends with the generation prompt
    batch = tok.pad({"input_ids": prompts}, return_tensors="pt")
    assert batch["attention_mask"][0, 0] == 0  # left padding for the shorter prompt
    out = tiny_policy.model.generate(**batch, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.shape == (2, batch["input_ids"].shape[1] + 4)


def test_lora_trains_only_adapters_and_one_step_lowers_the_loss():
    policy = load_policy(ModelConfig(**TINY), device="cpu")
    model = policy.model
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    assert policy.trainable_parameters() == sum(p.numel() for n, p in model.named_parameters() if n in trainable) > 0
    assert policy.trainable_parameters() < sum(p.numel() for p in model.parameters()) / 10
    base_before = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}

    batch = _batch(policy.tokenizer, ["The capital of France is Paris.", "Berlin is the capital of Germany."])
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    loss0 = model(**batch, labels=labels).loss
    loss0.backward()
    opt.step()
    opt.zero_grad()
    loss1 = model(**batch, labels=labels).loss
    assert loss1.item() < loss0.item()
    assert all(torch.equal(p, base_before[n]) for n, p in model.named_parameters() if n in base_before)  # base frozen


def test_gradient_checkpointing_on_cpu_when_asked():
    cfg = ModelConfig(name="tiny", gradient_checkpointing=True, lora_dropout=0.0)
    model = add_lora(load_base_model(cfg, device="cpu"), cfg)
    assert model.get_base_model().model.gradient_checkpointing
    model.train()
    ids = torch.tensor([[1, 5, 7, 9, 11, 2]])
    model(input_ids=ids, labels=ids).loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_adapter_save_load_round_trip_gives_identical_logits(tiny_policy, tmp_path):
    with torch.no_grad():  # move the adapters away from their init (lora_B starts at zero)
        for name, p in tiny_policy.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05, generator=torch.Generator().manual_seed(hash(name) % 2**31))
    ids = torch.tensor([chat_ids(tiny_policy.tokenizer, [{"role": "user", "content": "Name a river in France."}])])
    tiny_policy.model.eval()
    with torch.no_grad():
        want = tiny_policy.model(input_ids=ids).logits
        with tiny_policy.model.disable_adapter():  # the frozen base is still reachable
            base = tiny_policy.model(input_ids=ids).logits
    assert not torch.allclose(want, base)

    path = tiny_policy.save_adapter(tmp_path / "adapter")
    size = sum(f.stat().st_size for f in path.iterdir())
    assert (path / "adapter_config.json").is_file() and size < 1_000_000  # adapters only, not the 13 MB base

    fresh = load_policy(ModelConfig(**TINY), device="cpu")
    fresh.model.eval()
    with torch.no_grad():
        assert torch.allclose(fresh.model(input_ids=ids).logits, base)  # before loading: base behaviour
        fresh.load_adapter(path)
        assert torch.equal(fresh.model(input_ids=ids).logits, want)


def test_load_adapter_rejects_missing_and_mismatched_adapters(tiny_policy, tmp_path):
    with pytest.raises(ConfigError, match="no adapter at"):
        tiny_policy.load_adapter(tmp_path / "nothing")
    other = load_policy(ModelConfig(name="tiny", lora_r=4), device="cpu")
    other.save_adapter(tmp_path / "r4")
    with pytest.raises(ConfigError, match="does not fit"):
        tiny_policy.load_adapter(tmp_path / "r4")


def test_chat_ids_is_a_plain_list_of_ints(tiny_policy):
    tok = tiny_policy.tokenizer
    msgs = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Hi"}]
    ids = chat_ids(tok, msgs)
    assert type(ids) is list and all(type(i) is int for i in ids)
    assert tok.decode(ids).endswith("<|im_start|>assistant\n")
    assert not tok.decode(chat_ids(tok, msgs, add_generation_prompt=False)).endswith("assistant\n")


@pytest.mark.parametrize("kwargs, words", [
    (dict(quantize="8bit"), ["quantize", "auto", "4bit", "none"]),
    (dict(dtype="fp8"), ["dtype", "float32", "bfloat16"]),
    (dict(lora_r=0), ["lora_r", "positive integer"]),
    (dict(lora_alpha=-1), ["lora_alpha"]),
    (dict(lora_dropout=1.5), ["lora_dropout", "[0, 1)"]),
    (dict(target_modules=[]), ["target_modules", "all-linear"]),
    (dict(gradient_checkpointing="yes"), ["gradient_checkpointing", "True", "False", "auto"]),
    (dict(name=""), ["name", "embedded", "tiny"]),
    (dict(tiny_hidden=60), ["tiny_hidden", "multiple of 8"]),
])
def test_bad_config_values_name_the_field_and_the_choices(kwargs, words):
    with pytest.raises(ConfigError) as err:
        ModelConfig(**kwargs)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_unknown_model_id_is_a_one_line_config_error_without_network(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigError) as err:
        load_base_model(ModelConfig(name="no-such-org/no-such-model-xyz", quantize="none"), device="cpu")
    msg = str(err.value)
    assert "'no-such-org/no-such-model-xyz' not found locally and downloads are off" in msg and "\n" not in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no chained hub traceback
    with pytest.raises(ConfigError, match="not found locally"):
        load_tokenizer(ModelConfig(name="no-such-org/no-such-model-xyz"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_base_model(ModelConfig(name="./no/such/dir"), device="cpu")


def test_a_local_model_folder_loads_offline(tiny_policy, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = tmp_path / "tiny-model"
    load_base_model(ModelConfig(**TINY), device="cpu").save_pretrained(folder)
    tiny_policy.tokenizer.save_pretrained(folder)
    policy = load_policy(ModelConfig(name=str(folder), lora_dropout=0.0), device="cpu")
    ids = torch.tensor([[1, 20, 30, 40]])
    with torch.no_grad(), tiny_policy.model.disable_adapter(), policy.model.disable_adapter():
        assert torch.allclose(policy.model(input_ids=ids).logits, tiny_policy.model(input_ids=ids).logits)
    assert policy.tokenizer.padding_side == "left" and chat_ids(policy.tokenizer, [{"role": "user", "content": "Hi"}])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="not a loadable"):
        load_base_model(ModelConfig(name=str(tmp_path / "empty")), device="cpu")


def test_unknown_target_modules_is_a_config_error():
    cfg = ModelConfig(name="tiny", target_modules=["no_such_proj"])
    with pytest.raises(ConfigError, match="target_modules"):
        add_lora(load_base_model(cfg, device="cpu"), cfg)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU defaults")
def test_4bit_is_opt_in_on_a_cpu():
    with pytest.raises(ConfigError, match="runs on CUDA \\(or, slowly, a CPU\\)"):
        load_policy(ModelConfig(name="tiny", quantize="4bit"), device="meta")
    policy = load_policy(ModelConfig(name="tiny"))  # "auto" on CPU: plain LoRA in float32
    assert policy.device.type == "cpu" and policy.model.get_base_model().dtype == torch.float32
    assert not getattr(policy.model.get_base_model(), "is_loaded_in_4bit", False)


@pytest.mark.slow
def test_embedded_model_loads_and_answers_the_capital_of_france():
    cfg = ModelConfig(quantize="none")
    tok = load_tokenizer(cfg)
    assert len(tok) == 49152 and tok.pad_token is not None and tok.padding_side == "left"
    ids = chat_ids(tok, [{"role": "user", "content": "What is the capital of France?"}])
    text = tok.decode(ids)
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    model = load_base_model(cfg, device="cpu")
    assert model.dtype == torch.float32 and 130e6 < model.num_parameters() < 140e6
    out = model.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    answer = tok.decode(out[0, len(ids):], skip_special_tokens=True)
    assert "Paris" in answer, answer  # it answers "The capital of France is Paris."
    again = load_base_model(cfg, device="cpu")  # from the per-process cache, a separate copy
    assert again.model.embed_tokens.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr()
    assert torch.equal(again.model.embed_tokens.weight, model.model.embed_tokens.weight)
