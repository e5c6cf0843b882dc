"""Atomic, verifiable checkpoints: adapter, optimizer, scheduler, RNG and loop state in one folder.

A checkpoint is written to `ckpt-XXXXXX.tmp/` and renamed only when complete, with a manifest of
sha256 sums; a torn or corrupted one is detected and skipped with a message, so killing a run at
any moment and rerunning the same command resumes from the last good state.

Nothing is pickled: tensors go to safetensors files and everything else to JSON, so loading a
checkpoint cannot run code. The manifest sits beside the files and proves only that a write was
complete, not who wrote it; a folder holding any other file (e.g. a `.pt` pickle) is refused.
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import torch

from ..errors import CheckpointError
from ..models import adapter_state, load_adapter_state

MANIFEST = "MANIFEST.json"
ADAPTER, TENSORS, TRAINER, STATE = "adapter.safetensors", "trainer.safetensors", "trainer.json", "state.json"
FILES = (ADAPTER, TENSORS, TRAINER, STATE)  # every file a checkpoint holds besides its manifest


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rng_state() -> dict:
    return {"python": random.getstate(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ---------------------------------------------------------------------------- tensors + JSON, no pickle
def encode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """A JSON-able copy of a state dict whose tensors are moved into `tensors` (saved as safetensors)."""
    if isinstance(obj, torch.Tensor):
        name = f"t{len(tensors)}"
        tensors[name] = obj.detach().cpu().contiguous().clone()
        return {"__tensor__": name}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v, tensors) for v in obj]}
    if isinstance(obj, list):
        return [encode(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: encode(v, tensors) for k, v in obj.items()}
        return {"__items__": [[encode(k, tensors), encode(v, tensors)] for k, v in obj.items()]}
    raise CheckpointError(f"cannot store a {type(obj).__name__} in a checkpoint (tensors, numbers, strings, "
                          "lists, tuples and dicts only)")


def decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of `encode`; anything it did not write is refused."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [decode(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if len(obj) == 1 and "__tensor__" in obj:
            if obj["__tensor__"] not in tensors:
                raise CheckpointError(f"{TRAINER} names a tensor {obj['__tensor__']!r} that {TENSORS} lacks")
            return tensors[obj["__tensor__"]]
        if len(obj) == 1 and "__tuple__" in obj and isinstance(obj["__tuple__"], list):
            return tuple(decode(v, tensors) for v in obj["__tuple__"])
        if len(obj) == 1 and "__items__" in obj and isinstance(obj["__items__"], list):
            if not all(isinstance(kv, list) and len(kv) == 2 for kv in obj["__items__"]):
                raise CheckpointError(f"{TRAINER} holds a malformed mapping")
            return {_key(decode(k, tensors)): decode(v, tensors) for k, v in obj["__items__"]}
        return {k: decode(v, tensors) for k, v in obj.items()}
    raise CheckpointError(f"{TRAINER} holds a {type(obj).__name__}, which `encode` never writes")


def _key(k: Any) -> Any:
    if isinstance(k, (list, dict, torch.Tensor)):
        raise CheckpointError(f"{TRAINER} holds a mapping with an unhashable key")
    return k


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, str(path))


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except Exception as exc:  # safetensors raises its own error type for any malformed header
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc}); delete {path.parent} to resume "
                              "from the checkpoint before it") from None


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); delete {path.parent} to resume from the "
                              "checkpoint before it") from None


# ---------------------------------------------------------------------------- writing
def save_checkpoint(run_dir: str | Path, step: int, model, optimizer, scheduler=None, state: dict | None = None,
                    keep: int = 2) -> Path:
    """Write checkpoint `step` atomically and keep the newest `keep` ones."""
    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"ckpt-{step:06d}"
    tmp = root / f"ckpt-{step:06d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    _save_tensors(adapter_state(model), tmp / ADAPTER)
    tensors: dict[str, torch.Tensor] = {}
    skeleton = encode({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict() if scheduler else None,
                       "rng": rng_state()}, tensors)
    _save_tensors(tensors, tmp / TENSORS)
    (tmp / TRAINER).write_text(json.dumps(skeleton))
    (tmp / STATE).write_text(json.dumps({"step": step, **(state or {})}, indent=1))
    files = {name: _sha(tmp / name) for name in FILES}
    (tmp / MANIFEST).write_text(json.dumps(files, indent=1))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in sorted(root.glob("ckpt-??????"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


# ---------------------------------------------------------------------------- reading
def refuse_foreign_files(path: Path) -> None:
    """Raise CheckpointError if `path` holds a file a checkpoint never has (a pickle such as adapter.pt could run code)."""
    foreign = sorted(p.name for p in path.iterdir() if p.name not in (*FILES, MANIFEST))
    if foreign:
        raise CheckpointError(
            f"checkpoint {path} holds {', '.join(foreign)}, which gapd-lite never writes (it saves only "
            f"{', '.join(FILES)}); a .pt/.pkl file is a pickle that could run code and is never loaded. Delete {path} to "
            "resume from the checkpoint before it (an older gapd-lite's checkpoint cannot be resumed: start a new run "
            "from its final/ adapter with --init-adapter)")


def verify(path: Path) -> str | None:
    """None if the checkpoint is complete and intact, else what is wrong with it (a foreign file raises)."""
    manifest = path / MANIFEST
    if not manifest.exists():
        return "no manifest (torn write)"
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "unreadable manifest"
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return f"{MANIFEST} is not an object of file names and checksums"
    for name, digest in files.items():
        f = path / name
        if "/" in name or "\\" in name or name in ("", ".", ".."):
            return f"{MANIFEST} names {name!r}, which is not a file of the checkpoint"
        if not f.is_file():
            return f"{name} is missing"
        if _sha(f) != digest:
            return f"{name} does not match its checksum (corrupted)"
    refuse_foreign_files(path)
    missing = [name for name in FILES if name not in files]
    if missing:
        return f"{MANIFEST} does not list {', '.join(missing)} (incomplete)"
    try:
        state = _load_json(path / STATE)
    except CheckpointError:
        return f"{STATE} is not valid JSON"
    if not isinstance(state, dict) or isinstance(state.get("step"), bool) or not isinstance(state.get("step"), int):
        return f"{STATE} has no integer step"
    return None


def _warn(message: str) -> None:
    print(message, file=sys.stderr)


def latest_checkpoint(run_dir: str | Path, log: Callable[[str], None] = _warn) -> Path | None:
    """The newest intact checkpoint; damaged ones are reported and skipped, foreign files are refused."""
    root = Path(run_dir) / "checkpoints"
    for path in sorted(root.glob("ckpt-*"), reverse=True):
        if not path.is_dir():
            log(f"skipping {path.name}: not a checkpoint folder")
            continue
        problem = "an interrupted write" if path.name.endswith(".tmp") else verify(path)
        if problem is None:
            return path
        log(f"skipping checkpoint {path.name}: {problem}")
    return None


def load_checkpoint(path: Path, model, optimizer, scheduler=None) -> dict:
    """Restore adapter, optimizer, scheduler and RNG (no pickle anywhere); returns the saved loop state."""
    refuse_foreign_files(path)
    state = _load_json(path / STATE)
    if not isinstance(state, dict) or isinstance(state.get("step"), bool) or not isinstance(state.get("step"), int):
        raise CheckpointError(f"{path / STATE} has no integer step; delete {path} to resume from the checkpoint "
                              "before it")
    adapter = _load_tensors(path / ADAPTER)
    trainer = decode(_load_json(path / TRAINER), _load_tensors(path / TENSORS))
    if not isinstance(trainer, dict) or not {"optimizer", "rng"} <= set(trainer):
        raise CheckpointError(f"{path / TRAINER} lacks the optimizer or RNG state; delete {path} to resume from the "
                              "checkpoint before it")
    load_adapter_state(model, adapter)
    optimizer.load_state_dict(trainer["optimizer"])
    if scheduler is not None and trainer.get("scheduler"):
        scheduler.load_state_dict(trainer["scheduler"])
    set_rng_state(trainer["rng"])
    return state


# ---------------------------------------------------------------------------- the run's metrics log
def read_jsonl(path: str | Path, log: Callable[[str], None] = _warn) -> list[dict]:
    """The records of a jsonl log. A torn or garbage last line (a write cut off by a kill) is skipped with a message,
    as a torn checkpoint is; damage before the last line is a CheckpointError naming the line."""
    path = Path(path)
    if not path.exists():
        return []
    lines = [(n, line) for n, line in enumerate(path.read_bytes().split(b"\n"), 1) if line.strip()]
    records = []
    for k, (n, line) in enumerate(lines):
        try:
            record = json.loads(line.decode("utf-8"))
            problem = None if isinstance(record, dict) else f"a JSON {type(record).__name__}, not a record"
        except (UnicodeDecodeError, RecursionError, ValueError) as exc:
            record, problem = None, f"not valid JSON ({type(exc).__name__})"
        if problem is None:
            records.append(record)
        elif k == len(lines) - 1:
            log(f"skipping the last line of {path} (line {n}): {problem}, a write cut off by a kill")
        else:
            raise CheckpointError(f"{path}: line {n} is {problem}, before the last line (not a torn write): fix or "
                                  "delete that line, or delete the log to start the curve afresh")
    return records
