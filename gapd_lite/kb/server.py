"""A local `oxigraph serve` loaded with a KB file: a real SPARQL 1.1 endpoint on loopback.

Used by the tests of the HTTP backend and by anyone who wants the endpoint path without Virtuoso.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import KBError
from .io import _open_bytes, default_kb_path


def oxigraph_binary() -> str:
    """The `oxigraph` command from the PyPI package `oxigraph` (next to this Python, or on PATH)."""
    here = Path(sys.executable).parent / "oxigraph"
    found = str(here) if here.exists() else shutil.which("oxigraph")
    if not found:
        raise KBError("the `oxigraph` command is missing: pip install oxigraph (the server, not pyoxigraph)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OxigraphServer:
    """Load `path` into a store directory once; start, stop and restart `oxigraph serve` on it."""

    def __init__(self, path: str | Path | None = None, port: int | None = None, workdir: str | Path | None = None):
        self.path = Path(path) if path is not None else default_kb_path()
        self.port = port or free_port()
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="gapd-oxigraph-")
        self.location = Path(workdir or self._tmp.name) / "store"
        self.proc: subprocess.Popen | None = None
        self.log = Path(workdir or self._tmp.name) / "server.log"
        self._load()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/query"

    def _load(self) -> None:
        source = self.path
        try:
            self.location.parent.mkdir(parents=True, exist_ok=True)
            if source.suffix == ".gz" or not source.is_file():
                plain = self.location.parent / (source.name[:-3] if source.suffix == ".gz" else source.name)
                plain.write_bytes(_open_bytes(source))  # a missing, unreadable or broken file: one KBError
                source = plain
        except OSError as exc:
            raise KBError(f"cannot write the server's store under {self.location.parent} ({exc.strerror or exc}); "
                          "give a writable workdir") from None
        done = subprocess.run([oxigraph_binary(), "load", "--location", str(self.location), "--file", str(source)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise KBError(f"oxigraph load failed for {self.path}: {done.stderr.strip()[:500]}")

    def start(self, wait: float = 30.0) -> "OxigraphServer":
        if self.proc and self.proc.poll() is None:
            return self
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(self.location),
                                          "--bind", f"127.0.0.1:{self.port}"], stdout=log, stderr=log)
        deadline = time.time() + wait
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise KBError(f"oxigraph serve exited at once; see {self.log}")
            try:
                urllib.request.urlopen(f"{self.url}?query=ASK%7B%7D", timeout=1).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        self.stop()
        raise KBError(f"oxigraph serve did not answer on port {self.port} within {wait:g} s; see {self.log}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        if self._tmp:
            self._tmp.cleanup()

    def __enter__(self) -> "OxigraphServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
