"""Finding and reading the bundled KB file, with errors that say how to fix a missing or broken one."""
from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import Iterator

from ..errors import KBError, LiteralError
from .terms import FB_NS, Literal, Term, iri_to_term

KB_FILE = "freebase_subset.nt.gz"


def data_dir() -> Path:
    """`$GAPD_DATA_DIR`, else the checkout's data_samples/, else the copy installed with the package."""
    env = os.environ.get("GAPD_DATA_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2] / "data_samples"
    if repo.is_dir():
        return repo
    installed = Path(__file__).resolve().parents[1] / "data_samples"
    if installed.is_dir():
        return installed
    raise KBError("cannot find data_samples/: set GAPD_DATA_DIR to the folder holding "
                  f"{KB_FILE} or reinstall gapd_lite")


def default_kb_path() -> Path:
    return data_dir() / KB_FILE


def _open_bytes(path: Path) -> bytes:
    """The KB file's bytes, gunzipped; a missing, unreadable or broken file is a KBError naming it and the fix."""
    if not path.exists():
        hint = (" Rebuild it with `python data_samples/build_kb.py`." if path.name == KB_FILE
                else " Check the path, or leave it out to use the bundled KB.")
        raise KBError(f"KB file not found: {path}.{hint}")
    if path.is_dir():
        raise KBError(f"{path} is a folder; --kb takes the KB file itself (.nt or .nt.gz), or leave it out for the "
                      "bundled KB")
    if not path.is_file():
        raise KBError(f"{path} is not a regular file (a pipe or device?); give an N-Triples file (.nt or .nt.gz)")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KBError(f"cannot read the KB file {path} ({exc.strerror or exc}); check its permissions") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError; a bad deflate stream is zlib's
            raise KBError(f"{path} is a broken gzip file ({exc}); rebuild or re-download it") from None
    return raw


def read_triples(path: str | Path | None = None) -> Iterator[tuple[Term, str, Term]]:
    """(subject, relation, object) with Freebase IRIs as local names and canonical literals."""
    import pyoxigraph

    path = Path(path) if path is not None else default_kb_path()
    raw = _open_bytes(path)
    fmt = pyoxigraph.RdfFormat.TURTLE if path.name.endswith((".ttl", ".ttl.gz")) else pyoxigraph.RdfFormat.N_TRIPLES
    cache: dict[tuple, Literal] = {}
    seen = freebase = 0
    try:
        for triple in pyoxigraph.parse(raw, format=fmt):
            seen += 1
            freebase += triple.predicate.value.startswith(FB_NS)
            s, p, o = triple.subject, triple.predicate, triple.object
            if not isinstance(s, pyoxigraph.NamedNode):
                raise KBError(f"{path}: blank-node subjects are not supported (give every node an m. id)")
            if isinstance(o, pyoxigraph.Literal):
                key = (o.value, o.datatype.value, o.language)
                obj = cache.get(key)
                if obj is None:
                    try:
                        obj = Literal.typed(o.value, o.datatype.value, o.language)
                    except LiteralError as exc:
                        raise KBError(f"{path}: bad literal in triple <{s.value}> <{p.value}>: {exc}") from None
                    cache[key] = obj
            elif isinstance(o, pyoxigraph.NamedNode):
                obj = iri_to_term(o.value)
            else:
                raise KBError(f"{path}: blank-node objects are not supported")
            yield iri_to_term(s.value), iri_to_term(p.value), obj
    except SyntaxError as exc:
        raise KBError(f"{path} is not a valid {fmt.name} file: {exc}. Point --kb at an N-Triples "
                      f"(.nt/.nt.gz) file in the {FB_NS} namespace.") from None
    if not seen:
        raise KBError(f"{path} holds no triples. Point --kb at an N-Triples (.nt/.nt.gz) file in the {FB_NS} "
                      "namespace, or leave it out to use the bundled KB.")
    if not freebase:
        raise KBError(f"none of the {seen:,} triples in {path} uses a Freebase relation ({FB_NS}…): this is not a "
                      "Freebase-shaped KB. Map its IRIs to the Freebase namespace, or leave --kb out for the bundled KB.")


def to_ntriples_line(s: Term, p: str, o: Term) -> str:
    """One N-Triples line for a (local-name) triple."""
    def iri(t: str) -> str:
        return t if t.startswith("<") else f"<{FB_NS}{t}>"
    obj = o.to_ntriples() if isinstance(o, Literal) else iri(o)
    return f"{iri(s)} {iri(p)} {obj} ."
