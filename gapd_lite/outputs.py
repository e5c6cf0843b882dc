"""Files a command writes: checked before the work starts, written whole or not at all (never a truncated file
that looks complete, never over the command's own input)."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, TextIO

from .errors import ConfigError


def check_output(path: str | Path, suffixes: tuple[str, ...] = (), inputs: tuple[str | Path, ...] = ()) -> Path:
    """The output path, after checking (before any work) that it can be written where the command will write it."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"--out {str(path)!r} is a folder: give a file name inside it")
    if suffixes and path.suffix.lower() not in suffixes:
        raise ConfigError(f"--out {str(path)!r}: give a file ending in {' or '.join(suffixes)}")
    for source in inputs:
        if Path(source).exists() and path.exists() and os.path.samefile(source, path):
            raise ConfigError(f"--out {str(path)!r} is the input file: write the output to another file")
    folder = path.parent if str(path.parent) else Path(".")
    probe = folder
    while not probe.exists():  # the folder will be made: the nearest existing parent must take it
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {str(path)!r}: cannot write in {str(probe)!r} (not a writable folder); "
                          "choose another location")
    return path


@contextlib.contextmanager
def atomic_output(path: str | Path, mode: str = "w") -> Iterator[TextIO]:
    """Write to a temporary file beside `path` and rename it over `path` only when the block finishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: str | Path, text: str) -> None:
    """`path` holds exactly `text` afterwards, or is untouched."""
    with atomic_output(path) as f:
        f.write(text)
