"""Knowledge-base backends behind one interface; `open_kb` picks one by name."""
from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .base import KB
from .memory import MemoryKB

BACKENDS = ("memory", "oxigraph", "rdflib", "http")
LOCAL_BACKENDS = ("memory", "oxigraph", "rdflib")


def open_kb(backend: str = "memory", path: str | Path | None = None, endpoint: str | None = None,
            timeout: float = 30.0, max_mb: float | None = None) -> KB:
    """A KB on the named backend: the bundled file (or `path`) locally, or the SPARQL `endpoint` over HTTP."""
    if endpoint and backend in ("memory", "http"):
        backend = "http"
    if backend == "memory":
        return MemoryKB.load(path)
    if backend == "oxigraph":
        from .sparql import OxigraphKB
        return OxigraphKB(path)
    if backend == "rdflib":
        from .sparql import RdflibKB
        return RdflibKB(path)
    if backend == "http":
        if not endpoint:
            raise ConfigError("the http backend needs --kb-endpoint URL (e.g. http://localhost:8890/sparql)")
        from .sparql import HttpKB
        return HttpKB(endpoint, timeout=timeout, **({"max_mb": max_mb} if max_mb is not None else {}))
    raise ConfigError(f"unknown KB backend {backend!r}; choose one of {', '.join(BACKENDS)}")


__all__ = ["KB", "MemoryKB", "open_kb", "BACKENDS", "LOCAL_BACKENDS"]
