"""Command-line flags generated from config dataclasses and function signatures: each setting is declared once,
with its help, and every one of them can be set from the shell."""
from __future__ import annotations

import argparse
import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from .errors import ConfigError


@dataclass(frozen=True)
class Option:
    """One setting as the CLI sees it: a field or parameter name, its annotation, default and help."""
    name: str
    kind: str
    default: Any
    help: str
    choices: tuple | None = None
    flags: tuple[str, ...] = ()  # the option strings; default: --name-with-dashes


def _flag(name: str) -> str:
    return name.replace("_", "-")


def dataclass_options(cls, skip: tuple[str, ...] = (), flags: dict[str, tuple[str, ...]] | None = None) -> list[Option]:
    """The fields of a config dataclass (help from `fields.h`), minus `skip`, with some option strings renamed."""
    out = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        out.append(Option(f.name, str(f.type), default, f.metadata.get("help", ""), f.metadata.get("choices"),
                          (flags or {}).get(f.name, ())))
    return out


def signature_options(fn: Callable, helps: dict[str, str], skip: tuple[str, ...] = ()) -> list[Option]:
    """The keyword parameters of a function (a benchmark), with help from `helps`."""
    sig = inspect.signature(fn)
    return [Option(p.name, str(p.annotation), p.default, helps.get(p.name, ""))
            for p in sig.parameters.values() if p.name not in skip and p.default is not inspect.Parameter.empty]


def _parser_for(kind: str) -> Callable[[str], Any]:
    """A string → value converter for an annotation such as 'int', 'float | None', 'tuple[int, ...] | None'."""
    kind = kind.replace(" | None", "").replace("None | ", "").strip()
    if kind.startswith("tuple[int"):
        return lambda s: tuple(int(x) for x in s.split(",") if x.strip())
    if kind.startswith("tuple[str"):
        return lambda s: tuple(x.strip() for x in s.split(",") if x.strip())
    if kind == "str | list[str]":
        return lambda s: s if "," not in s and s == "all-linear" else [x.strip() for x in s.split(",") if x.strip()]
    if kind == "bool | str":
        return lambda s: {"true": True, "false": False}.get(s.lower(), s)
    return {"int": int, "float": float}.get(kind, str)


def add_options(parser: argparse.ArgumentParser, options: list[Option], show_defaults: bool = True) -> None:
    """One flag per option; an option not given stays out of the namespace (so the config's own default holds).
    `show_defaults` False where a preset, not the dataclass, decides the value."""
    for o in options:
        flags = o.flags or (f"--{_flag(o.name)}",)
        shown = "" if o.default in (None, "") or not show_defaults else f" (default: {o.default})"
        text = (o.help + shown).replace("%", "%%")  # argparse formats help with %
        if o.kind in ("bool", "bool | None"):
            parser.add_argument(*flags, dest=o.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                                help=text)
        else:
            parser.add_argument(*flags, dest=o.name, type=_parser_for(o.kind), choices=o.choices,
                                default=argparse.SUPPRESS, metavar=None if o.choices else o.name.upper(),
                                help=text)


def given(args: argparse.Namespace, options: list[Option]) -> dict[str, Any]:
    """The options the user set on the command line, by field name."""
    return {o.name: getattr(args, o.name) for o in options if hasattr(args, o.name)}


def check_positive(values: dict[str, Any], *names: str) -> None:
    """Reject a flag that must count something but was given < 1, before anything loads."""
    for name in names:
        if name in values and values[name] is not None and values[name] < 1:
            raise ConfigError(f"--{_flag(name)}={values[name]}: must be at least 1")
