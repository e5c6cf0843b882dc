"""Trained LoRA adapters shipped inside the package, by short name, so a fresh install can act without training.

Each bundled policy is a folder next to this file: `adapter_config.json`, `adapter_model.safetensors` (bf16) and
`gapd_model_config.json` (the ModelConfig it was trained with) as written by `Policy.save_adapter`, plus a model
card `README.md`. `resolve("sft")` gives that folder; `bundle(run/final, "sft", card)` (the CLI's
`gapd-lite export-adapter`) writes one. GAPD_LITE_POLICY_DIR points the registry at another folder (tests).
"""
from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

from ..errors import ConfigError

ADAPTER_CONFIG, WEIGHTS, MODEL_CONFIG, CARD = "adapter_config.json", "adapter_model.safetensors", "gapd_model_config.json", "README.md"
ENV_DIR = "GAPD_LITE_POLICY_DIR"
NONE = "none"

# name → (what it is, the command whose run folder's final/ adapter is bundled under that name)
POLICIES: dict[str, tuple[str, str]] = {
    "sft": ("the SFT warm start on gold dialogues", "gapd-lite train --method sft --preset cpu-long"),
    "grpo": ("GRPO (outcome reward only) from the bundled SFT policy",
             "gapd-lite train --method grpo --preset cpu-small --init-adapter sft"),
    "gapd": ("GAPD (GRPO + gold-action distillation) from the bundled SFT policy",
             "gapd-lite train --method gapd --preset cpu-small --init-adapter sft"),
}


def root() -> Path:
    """The folder holding the bundled policies: this package folder, or $GAPD_LITE_POLICY_DIR when set."""
    override = os.environ.get(ENV_DIR, "").strip()
    return Path(override).expanduser() if override else Path(__file__).resolve().parent


def folder(name: str) -> Path:
    """Where the bundled policy `name` lives (whether or not it is there yet)."""
    if name not in POLICIES:
        raise ConfigError(f"no bundled policy named {name!r}: use one of {', '.join(POLICIES)}")
    return root() / name


def available() -> list[str]:
    """The bundled policies present in this install."""
    return [name for name in POLICIES if (root() / name / ADAPTER_CONFIG).is_file()]


def _out_dir(command: str) -> str:
    """The run folder a training command writes to (its preset's out_dir convention: runs/METHOD-PRESET)."""
    words = command.split()
    return f"runs/{words[words.index('--method') + 1]}-{words[words.index('--preset') + 1]}"


def resolve(spec: str | os.PathLike | None) -> Path | None:
    """`sft|grpo|gapd` → the bundled folder, `none` (or nothing) → None, any other value → that adapter folder."""
    if spec is None or str(spec).strip() in ("", NONE):
        return None
    text = str(spec).strip()
    if text in POLICIES:
        path = folder(text)
        if not (path / ADAPTER_CONFIG).is_file():
            command = POLICIES[text][1]
            raise ConfigError(f"the bundled {text} policy is not in this install; train it with `{command}` and pass "
                              f"--adapter {_out_dir(command)}/final (or bundle that folder: `gapd-lite export-adapter "
                              f"{_out_dir(command)}/final {text}`)")
        return path
    path = Path(text).expanduser()
    if not (path / ADAPTER_CONFIG).is_file():
        raise ConfigError(f"no adapter at {text!r}: pass a LoRA adapter folder written by training (RUN/final, holding "
                          f"{ADAPTER_CONFIG}), a bundled name ({', '.join(POLICIES)}) or {NONE}")
    return path


def card_text(name: str, fields: dict[str, str]) -> str:
    """The model card: what the policy is, then one line per field (base model, data, command, seed, time, scores)."""
    lines = [f"# Bundled policy `{name}`", "", f"{POLICIES[name][0]}. Load it with `--adapter {name}` on any command, "
             f"or `load_policy(adapter=\"{name}\")` in Python.", ""]
    lines += [f"- **{key}**: {value}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def _first(config: dict, *keys: str):
    """The first of `keys` the config has (run folders written by older versions name some fields differently)."""
    return next((config[k] for k in keys if config.get(k) is not None), None)


def _run_fields(src: Path) -> dict[str, str]:
    """Card fields read from the run folder around `src` (RUN/final): base model, method, data, seed, updates, time."""
    fields: dict[str, str] = {}
    model_cfg = src / MODEL_CONFIG
    if model_cfg.is_file():
        m = json.loads(model_cfg.read_text())
        fields["base model"] = f"{m.get('name')} with LoRA r={m.get('lora_r')}, alpha={m.get('lora_alpha')} on {m.get('target_modules')}"
    run_cfg = src.parent / "config.json"
    if run_cfg.is_file():
        c = json.loads(run_cfg.read_text())
        found = {"method": _first(c, "method"), "data": _first(c, "questions", "split"), "seed": _first(c, "seed"),
                 "updates": _first(c, "num_updates", "max_steps"), "batch size": _first(c, "batch_size"),
                 "learning rate": _first(c, "lr")}
        fields.update({k: str(v) for k, v in found.items() if v is not None})
    log = src.parent / "log.jsonl"
    if log.is_file():
        rows = [line for line in log.read_text().splitlines() if line.strip()]
        try:
            last = json.loads(rows[-1]) if rows else {}
        except ValueError:
            last = {}
        if isinstance(last.get("seconds"), (int, float)):
            fields["training time"] = f"{last['seconds'] / 3600:.1f} h to update {last.get('step')}"
    return fields


def bundle(src: str | os.PathLike, name: str, card_fields: dict[str, str] | None = None) -> Path:
    """Copy the adapter at `src` into the package as policy `name`: weights in bf16 safetensors, configs, a model card.

    Fields read from the run folder (base model, method, seed, updates, data) come first; `card_fields` (command,
    machine, training time, scores and the eval command that reproduces them) add to or replace them."""
    import torch
    from safetensors.torch import load_file, save_file

    src = Path(src)
    if not (src / ADAPTER_CONFIG).is_file() or not (src / WEIGHTS).is_file():
        raise ConfigError(f"no adapter to bundle at {src}: expected {ADAPTER_CONFIG} and {WEIGHTS} (a run's final/ folder)")
    dest = folder(name)
    tmp = dest.with_name(f".{name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.to(torch.bfloat16).contiguous() if v.is_floating_point() else v for k, v in load_file(str(src / WEIGHTS)).items()}
    save_file(weights, str(tmp / WEIGHTS), metadata={"format": "pt"})
    for extra in (ADAPTER_CONFIG, MODEL_CONFIG):
        if (src / extra).is_file():
            shutil.copyfile(src / extra, tmp / extra)
    fields = {**_run_fields(src), "bundled": f"{date.today().isoformat()} from {src} (weights rounded to bf16)",
              **(card_fields or {})}
    (tmp / CARD).write_text(card_text(name, fields))
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest
