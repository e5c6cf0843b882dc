"""`gapd-lite bench gpu`: does a QLoRA GAPD update fit a consumer GPU, and how fast are updates and rollouts?

Nothing is downloaded: the embedded model goes through the real QLoRA path, and Qwen2.5-shaped models
(0.5B/1.5B/3B, randomly initialised, saved to a temporary folder) are loaded like any local checkpoint,
so the memory figures are those of the real `load_policy` → `rl_update_loss` code.
"""
from __future__ import annotations

import gc
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path

import torch

from .benchio import machine, write_json
from .errors import ConfigError

# Qwen2.5 architecture shapes (from the published config.json files); weights here are random
QWEN25_SHAPES: dict[str, dict] = {
    "qwen2.5-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                         num_key_value_heads=2),
    "qwen2.5-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                         num_key_value_heads=2),
    "qwen2.5-3b": dict(hidden_size=2048, intermediate_size=11008, num_hidden_layers=36, num_attention_heads=16,
                       num_key_value_heads=2),
}
QWEN25_COMMON = dict(vocab_size=151936, max_position_embeddings=32768, rope_theta=1_000_000.0, rms_norm_eps=1e-6,
                     tie_word_embeddings=True, hidden_act="silu")
PEAK_GOAL_GB = 6.0  # a GAPD update of the 1.5B shape, micro-batch 1 × 1,024 tokens, must fit a 6 GB budget


def save_random_qwen(shape: str, folder: Path, tokenizer, scale: dict | None = None) -> Path:
    """A randomly initialised Qwen2.5-shaped checkpoint (plus the embedded tokenizer) in `folder`."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    if shape not in QWEN25_SHAPES and scale is None:
        raise ConfigError(f"unknown shape {shape!r}: choose {', '.join(QWEN25_SHAPES)}")
    config = Qwen2Config(**{**QWEN25_COMMON, **QWEN25_SHAPES.get(shape, {}), **(scale or {})})
    device = "cuda" if torch.cuda.is_available() else "cpu"
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)  # initialise in bf16: a 3B shape never exists in fp32
    try:
        with torch.device(device):
            model = Qwen2ForCausalLM(config)
    finally:
        torch.set_default_dtype(default)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return folder


def fixed_length_batch(policy, kb, tokens: int = 1024):
    """One gold trajectory cut to exactly `tokens` tokens (micro-batch 1), with its gold program for matching."""
    from .agent.gold import gold_trajectory
    from .agent.render import truncate
    from .data import load_split
    from .logic.sexpr import parse
    from .logic.to_actions import gold_steps, to_actions
    from .training.gapd import Batch

    best = None
    for q in load_split("train"):
        traj = gold_trajectory(policy.tokenizer, q, kb)
        if best is None or len(traj.rendered.ids) > len(best.rendered.ids):
            best = traj
        if len(traj.rendered.ids) >= tokens:
            break
    r = best.rendered
    while len(r.ids) < tokens:  # pad by repeating the conversation's own tokens as prompt (mask 0)
        r = replace(r, ids=r.ids[: r.prompt_len] + r.ids, mask=[0] * r.prompt_len + r.mask,
                    turn_spans=[(a + r.prompt_len, b + r.prompt_len) for a, b in r.turn_spans],
                    action_spans=[None if s is None else (s[0] + r.prompt_len, s[1] + r.prompt_len) for s in r.action_spans],
                    obs_ends=[e + r.prompt_len for e in r.obs_ends], prompt_len=2 * r.prompt_len)
    gold = [gold_steps(to_actions(parse(best.question.s_expression)), kb)]
    return Batch([replace(best, rendered=truncate(r, tokens))], torch.tensor([1.0]), torch.tensor([1.0]), gold)


def update_probe(policy, batch, lam: float, repeat: int = 2) -> dict:
    """Peak memory and time of one update (forward, backward, optimiser step) at micro-batch 1."""
    from .training.config import GAPDConfig
    from .training.gapd_fast import fast_update_parts
    from .training.loop import step_once

    settings = GAPDConfig(method="gapd" if lam else "grpo", group_size=2, lam=lam)
    params = [p for p in policy.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-6)
    policy.model.train()
    cuda = policy.device.type == "cuda"
    times = []
    for i in range(repeat + 1):  # the first is warm-up
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        step_once(optimizer, fast_update_parts(policy, batch, settings, lam))
        if cuda:
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t0)
    n = len(batch.trajectories[0].rendered.ids)
    out = {"seconds": min(times), "tokens_per_s": n / min(times)}
    if cuda:
        out["peak_gb"] = torch.cuda.max_memory_allocated() / 2**30
    optimizer.zero_grad(set_to_none=True)
    return out


def generation_probe(model, tokenizer, batch_size: int = 8, new_tokens: int = 128, prompt_tokens: int = 256,
                     cache_implementation: str | None = None) -> dict:
    """Tokens per second of `generate` at batch 8 with a fixed number of new tokens."""
    device = next(model.parameters()).device
    ids = torch.randint(100, 40000, (batch_size, prompt_tokens), generator=torch.Generator().manual_seed(0)).to(device)
    kwargs = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                  attention_mask=torch.ones_like(ids), pad_token_id=tokenizer.pad_token_id or 0)
    if cache_implementation:
        # with a static cache transformers would torch.compile the forward on CUDA first (minutes: the probe
        # that "hung" in the first H100 session); the cache alone is what is measured here
        kwargs.update(cache_implementation=cache_implementation, disable_compile=True)
    model.eval()
    with torch.no_grad():
        model.generate(ids[:, :16], **{**kwargs, "max_new_tokens": 4, "min_new_tokens": 4,
                                       "attention_mask": torch.ones_like(ids[:, :16])})
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        model.generate(ids, **kwargs)
        if device.type == "cuda":
            torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    return {"tokens_per_s": batch_size * new_tokens / seconds, "seconds": seconds}


def _say(text: str) -> None:
    """Progress on stderr, so a run cut short still shows how far each shape got."""
    print(f"[bench gpu {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def probe_model(name: str, cfg, kb, tokens: int = 1024, gen_tokens: int = 128, static_cache: bool = False) -> dict:
    """Load through `load_policy`, then time GRPO and GAPD updates and plain vs merged-weights generation."""
    from .models import MergedGenerator, load_policy

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    policy = load_policy(cfg)
    row: dict = {"shape": name, "load_s": time.perf_counter() - t0,
                 "quantized_4bit": bool(getattr(policy.model, "is_loaded_in_4bit", False)),
                 "trainable_params": policy.trainable_parameters()}
    if torch.cuda.is_available():
        row["weights_gb"] = torch.cuda.memory_allocated() / 2**30
    _say(f"{name}: loaded in {row['load_s']:.1f} s")
    batch = fixed_length_batch(policy, kb, tokens)
    row["tokens"] = len(batch.trajectories[0].rendered.ids)
    row["grpo"] = update_probe(policy, batch, 0.0)
    _say(f"{name}: GRPO update {row['grpo']}")
    row["gapd"] = update_probe(policy, batch, 0.5)
    _say(f"{name}: GAPD update {row['gapd']}")
    row["peak_gb"] = row["gapd"].get("peak_gb", float("nan"))
    row["generate_plain"] = generation_probe(policy.model, policy.tokenizer, new_tokens=gen_tokens)
    _say(f"{name}: generation from the 4-bit policy {row['generate_plain']}")
    merged = MergedGenerator(policy)
    row["generate_merged"] = generation_probe(merged.model, policy.tokenizer, new_tokens=gen_tokens)
    row["merged_speedup"] = row["generate_merged"]["tokens_per_s"] / row["generate_plain"]["tokens_per_s"]
    _say(f"{name}: generation from merged 16-bit weights {row['generate_merged']}")
    if static_cache:
        try:
            row["generate_merged_static_cache"] = generation_probe(merged.model, policy.tokenizer, new_tokens=gen_tokens,
                                                                   cache_implementation="static")
        except Exception as exc:  # an optional path: report, do not fail the benchmark
            row["generate_merged_static_cache"] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    del merged, policy, batch
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return row


def bench_gpu(shapes: tuple[str, ...] = ("embedded", "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b"),
              tokens: int = 1024, lora_r: int = 16, gen_tokens: int = 128, partial_out: str | None = None,
              tokenizer: str | None = None, static_cache: bool = False) -> dict:
    """The whole GPU check: one JSON with peak GB, update tokens/s and generation tokens/s per shape.

    `partial_out`: rewrite this JSON after each shape, so a run cut short still leaves its figures.
    `tokenizer`: a tokenizer folder for the random-weight shapes (default: the embedded model's)."""
    from .kb import open_kb
    from .models import ModelConfig, load_tokenizer

    if not torch.cuda.is_available():
        raise ConfigError("`bench gpu` needs a CUDA GPU (QLoRA is 4-bit bitsandbytes on CUDA); on CPU run "
                          "`gapd-lite bench all`, which skips it")
    kb = open_kb("memory")
    rows: list[dict] = []
    result = _gpu_result(rows, tokens, lora_r, gen_tokens)
    tok = None
    with tempfile.TemporaryDirectory(prefix="gapd-gpu-") as tmp:
        for shape in shapes:
            started = time.perf_counter()
            try:
                if shape == "embedded":
                    cfg = ModelConfig(name="embedded", lora_r=lora_r)
                else:
                    tok = tok or load_tokenizer(ModelConfig(name=tokenizer or "embedded"))
                    folder = save_random_qwen(shape, Path(tmp) / shape, tok)
                    cfg = ModelConfig(name=str(folder), lora_r=lora_r)
                row = probe_model(shape, cfg, kb, tokens, gen_tokens, static_cache)
            except torch.cuda.OutOfMemoryError as exc:
                row = {"shape": shape, "error": f"out of memory: {str(exc)[:200]}"}
            except Exception as exc:  # one shape failing must not cost the others' figures
                row = {"shape": shape, "error": f"{type(exc).__name__}: {str(exc)[:300]}",
                       "traceback": traceback.format_exc()[-1500:]}
            gc.collect()
            torch.cuda.empty_cache()
            row["wall_s"] = time.perf_counter() - started
            rows.append(row)
            result = _gpu_result(rows, tokens, lora_r, gen_tokens)
            if partial_out:
                write_json(partial_out, result)
    return result


def _gpu_result(rows: list[dict], tokens: int, lora_r: int, gen_tokens: int) -> dict:
    target = next((r for r in rows if r["shape"] == "qwen2.5-1.5b" and "peak_gb" in r), None)
    return {"benchmark": "gpu", "machine": machine(), "tokens": tokens, "lora_r": lora_r,
            "generation": f"batch 8, 256-token prompt, {gen_tokens} new tokens, greedy", "updates": rows,
            "goal": f"GAPD update of the 1.5B shape (4-bit, r={lora_r}, 1 × {tokens} tokens) peaks ≤ {PEAK_GOAL_GB} GB",
            "goal_met": bool(target and target["peak_gb"] <= PEAK_GOAL_GB)}
