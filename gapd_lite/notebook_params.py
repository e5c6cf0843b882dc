"""Checks for papermill parameters: a wrong type or count stops a notebook at its first cell with the fix."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from .errors import ConfigError

INDEX = "index"  # a non-negative integer position
OPTIONAL_STR = "optional str"


def _ok(value: Any, kind: Any) -> tuple[bool, str]:
    if kind is bool:
        return isinstance(value, bool), "True or False"
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1, "a positive integer"
    if kind == INDEX:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0, "an integer >= 0"
    if kind is str:
        return isinstance(value, str) and bool(value.strip()), "a non-empty string"
    if kind == OPTIONAL_STR:
        return value is None or (isinstance(value, str) and bool(value.strip())), "a string or None"
    raise ConfigError(f"check_params: unknown kind {kind!r}")


def check_params(values: Mapping[str, Any], **expected: Any) -> None:
    """Raise ConfigError naming the first parameter whose value does not fit (`int` means a count >= 1)."""
    for name, kind in expected.items():
        if name not in values:
            raise ConfigError(f"notebook parameter {name!r} is missing from the parameters cell")
        ok, wanted = _ok(values[name], kind)
        if not ok:
            raise ConfigError(f"notebook parameter {name}={values[name]!r}: expected {wanted} "
                              f"(e.g. papermill … -p {name} <value>)")


def pick(items: Sequence[Any], index: int, name: str = "question_index") -> Any:
    """items[index], or a ConfigError saying the valid range."""
    if not 0 <= index < len(items):
        raise ConfigError(f"notebook parameter {name}={index}: choose 0 … {len(items) - 1}")
    return items[index]
