"""Atomic, verifiable checkpoints: adapter, optimizer, scheduler, RNG and loop state in one folder.

A checkpoint is written to `ckpt-XXXXXX.tmp/` and renamed only when complete, with a manifest of
sha256 sums; a torn or corrupted one is detected and skipped with a message, so killing a run at
any moment and rerunning the same command resumes from the last good state.
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
import sys
from pathlib import Path
from typing import Callable

import torch

from ..models import adapter_state, load_adapter_state

MANIFEST = "MANIFEST.json"


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


def save_checkpoint(run_dir: str | Path, step: int, model, optimizer, scheduler=None, state: dict | None = None,
                    keep: int = 2) -> Path:
    """Write checkpoint `step` atomically and keep the newest `keep` ones."""
    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"ckpt-{step:06d}"
    tmp = root / f"ckpt-{step:06d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    torch.save(adapter_state(model), tmp / "adapter.pt")
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict() if scheduler else None,
                "rng": rng_state()}, tmp / "trainer.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step, **(state or {})}, indent=1))
    files = {p.name: _sha(p) for p in tmp.iterdir()}
    (tmp / MANIFEST).write_text(json.dumps(files, indent=1))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in sorted(root.glob("ckpt-??????"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def verify(path: Path) -> str | None:
    """None if the checkpoint is complete and intact, else what is wrong with it."""
    manifest = path / MANIFEST
    if not manifest.exists():
        return "no manifest (torn write)"
    try:
        files = json.loads(manifest.read_text())
    except json.JSONDecodeError:
        return "unreadable manifest"
    for name, digest in files.items():
        f = path / name
        if not f.exists():
            return f"{name} is missing"
        if _sha(f) != digest:
            return f"{name} does not match its checksum (corrupted)"
    return None


def _warn(message: str) -> None:
    print(message, file=sys.stderr)


def latest_checkpoint(run_dir: str | Path, log: Callable[[str], None] = _warn) -> Path | None:
    """The newest intact checkpoint; damaged ones are reported and skipped."""
    root = Path(run_dir) / "checkpoints"
    for path in sorted(root.glob("ckpt-*"), reverse=True):
        problem = "an interrupted write" if path.name.endswith(".tmp") else verify(path)
        if problem is None:
            return path
        log(f"skipping checkpoint {path.name}: {problem}")
    return None


def load_checkpoint(path: Path, model, optimizer, scheduler=None) -> dict:
    """Restore adapter, optimizer, scheduler and RNG; returns the saved loop state."""
    load_adapter_state(model, torch.load(path / "adapter.pt", map_location="cpu", weights_only=False))
    trainer = torch.load(path / "trainer.pt", map_location="cpu", weights_only=False)
    optimizer.load_state_dict(trainer["optimizer"])
    if scheduler is not None and trainer.get("scheduler"):
        scheduler.load_state_dict(trainer["scheduler"])
    set_rng_state(trainer["rng"])
    return json.loads((path / "state.json").read_text())
