"""Config fields that carry their own help: one place for what a setting means, read by the CLI and the docs."""
from __future__ import annotations

from dataclasses import field
from typing import Any


def h(text: str, default: Any = None, choices: tuple | None = None, factory=None):
    """A dataclass field with its help string (and allowed values) attached."""
    meta = {"help": text, **({"choices": choices} if choices else {})}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)
