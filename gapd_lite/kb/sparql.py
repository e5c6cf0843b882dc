"""SPARQL backends: one query builder for the KB primitives, three transports (rdflib, pyoxigraph, HTTP).

Every query is assembled from validated ids (`ns:m.x`, `ns:a.b.c`) and escaped literals; raw text
from a model never reaches a query string.
"""
from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from abc import abstractmethod
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..errors import EndpointError, KBError
from .base import KB, Step
from .compare import comparison
from .io import _open_bytes, default_kb_path
from .terms import FB_NS, RDF_LANGSTRING, XSD_NS, Literal, Term, is_entity_id, is_schema_id, iri_to_term

PREFIXES = f"PREFIX ns: <{FB_NS}>\nPREFIX xsd: <{XSD_NS}>\n"
CHUNK = 400  # VALUES rows per query


_STRING_OR_NAME = re.compile(r'("(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')|\b(ns|xsd):([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)')


def expand_prefixed(query: str) -> str:
    """`ns:a.b.c` → `<http://rdf.freebase.com/ns/a.b.c>` outside strings.

    Prefixed names with several dots are valid SPARQL (Virtuoso and rdflib read them) but
    pyoxigraph 0.5 mis-lexes them, so queries are sent with full IRIs.
    """
    def sub(m: re.Match) -> str:
        if m.group(1):
            return m.group(1)
        ns = FB_NS if m.group(2) == "ns" else XSD_NS
        return f"<{ns}{m.group(3)}>"
    return _STRING_OR_NAME.sub(sub, query)


def node(term: Term) -> str:
    """A validated constant for a query; anything that is not an id or a literal is refused."""
    if isinstance(term, Literal):
        return term.to_sparql()
    if isinstance(term, str) and (is_entity_id(term) or is_schema_id(term)):
        return f"ns:{term}"
    raise KBError(f"refusing to put {term!r} into a SPARQL query: not an m./g. id, a schema id or a literal")


def rel(relation: str) -> str:
    if not is_schema_id(relation):
        raise KBError(f"refusing to put {relation!r} into a SPARQL query: not a relation id such as a.b.c")
    return f"ns:{relation}"


def _chunks(items: Sequence[Term]) -> Iterator[Sequence[Term]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _path(subj: str, steps: tuple[Step, ...], obj: str) -> str:
    lines, cur = [], subj
    for i, (relation, forward) in enumerate(steps):
        nxt = obj if i == len(steps) - 1 else f"?c{i}"
        lines.append(f"{cur} {rel(relation)} {nxt} ." if forward else f"{nxt} {rel(relation)} {cur} .")
        cur = nxt
    return " ".join(lines)


class SparqlKB(KB):
    """The KB primitives as SPARQL queries; subclasses only say how a SELECT is run."""

    @abstractmethod
    def _select(self, query: str) -> list[dict[str, Term]]:
        """Run a SELECT written with full IRIs; rows map variable names (no '?') to canonical terms."""

    def select(self, query: str) -> list[dict[str, Term]]:
        """Run a SELECT (prefixed names allowed); rows map variable names to canonical terms."""
        return self._select(expand_prefixed(query))

    # ---- primitives -----------------------------------------------------------------------
    def follow(self, sources: Iterable[Term], relation: str, forward: bool = True) -> set[Term]:
        out: set[Term] = set()
        pattern = f"?s {rel(relation)} ?o ." if forward else f"?o {rel(relation)} ?s ."
        for chunk in _chunks(sorted(set(sources), key=str)):
            values = " ".join(node(t) for t in chunk)
            out |= {r["o"] for r in self.select(f"{PREFIXES}SELECT DISTINCT ?o WHERE {{ VALUES ?s {{ {values} }} {pattern} }}")}
        return out

    def having(self, relation: str, forward: bool = True) -> set[Term]:
        pattern = f"?s {rel(relation)} ?o ." if forward else f"?o {rel(relation)} ?s ."
        return {r["s"] for r in self.select(f"{PREFIXES}SELECT DISTINCT ?s WHERE {{ {pattern} }}")}

    def instances(self, cls: str) -> set[Term]:
        return {r["s"] for r in self.select(f"{PREFIXES}SELECT DISTINCT ?s WHERE {{ ?s ns:type.object.type {node(cls)} }}")}

    def relations_of(self, entities: Iterable[Term]) -> tuple[set[str], set[str]]:
        out, inc = set(), set()
        for chunk in _chunks(sorted(set(entities), key=str)):
            values = " ".join(node(t) for t in chunk)
            out |= {r["p"] for r in self.select(f"{PREFIXES}SELECT DISTINCT ?p WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}")}
            inc |= {r["p"] for r in self.select(f"{PREFIXES}SELECT DISTINCT ?p WHERE {{ VALUES ?s {{ {values} }} ?o ?p ?s }}")}
        keep = lambda ps: {p for p in ps if isinstance(p, str) and is_schema_id(p)}  # noqa: E731
        return keep(out), keep(inc)

    def names(self, entities: Iterable[Term]) -> dict[str, str]:
        found: dict[str, list[Literal]] = {}
        ids = [e for e in set(entities) if isinstance(e, str) and is_entity_id(e)]
        for chunk in _chunks(sorted(ids)):
            values = " ".join(node(t) for t in chunk)
            for r in self.select(f"{PREFIXES}SELECT ?s ?n WHERE {{ VALUES ?s {{ {values} }} ?s ns:type.object.name ?n }}"):
                found.setdefault(r["s"], []).append(r["n"])
        return {e: sorted(ns, key=lambda n: (n.lang != "en", n.lexical))[0].lexical for e, ns in found.items()}

    def knows(self, term: str, kind: str) -> bool:
        if kind == "relation":
            pattern = f"?s {rel(term)} ?o"
        elif kind == "class":
            pattern = f"?s ns:type.object.type {node(term)}"
        else:
            pattern = f"{{ {node(term)} ?s ?o }} UNION {{ ?o ?s {node(term)} }}"
        return bool(self.select(f"{PREFIXES}SELECT ?s WHERE {{ {pattern} }} LIMIT 1"))

    # ---- pushed-down operators ------------------------------------------------------------
    def values(self, entities: Iterable[Term], steps: tuple[Step, ...]) -> dict[Term, set[Term]]:
        out: dict[Term, set[Term]] = {}
        for chunk in _chunks(sorted(set(entities), key=str)):
            values = " ".join(node(t) for t in chunk)
            for r in self.select(f"{PREFIXES}SELECT DISTINCT ?s ?v WHERE {{ VALUES ?s {{ {values} }} {_path('?s', steps, '?v')} }}"):
                out.setdefault(r["s"], set()).add(r["v"])
        return out

    def filter_class(self, entities: Iterable[Term], cls: str) -> set[Term]:
        out: set[Term] = set()
        for chunk in _chunks(sorted(set(entities), key=str)):
            values = " ".join(node(t) for t in chunk)
            out |= {r["s"] for r in self.select(
                f"{PREFIXES}SELECT DISTINCT ?s WHERE {{ VALUES ?s {{ {values} }} ?s ns:type.object.type {node(cls)} }}")}
        return out

    def compare_all(self, steps: tuple[Step, ...], op: str, value: Literal) -> set[Term]:
        query = f"{PREFIXES}SELECT DISTINCT ?s WHERE {{ {_path('?s', steps, '?v')} FILTER{comparison('?v', op, value)} }}"
        return {r["s"] for r in self.select(query)}

    def count_triples(self) -> int | None:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        return int(rows[0]["n"].lexical) if rows else None

    def run_query(self, query: str) -> frozenset[Term]:
        """Answers of a query built by to_sparql: the ?x column, or the ?count value."""
        rows = self.select(query)
        if rows and "count" in rows[0]:
            return frozenset({rows[0]["count"]})
        return frozenset(r["x"] for r in rows if "x" in r)


# ---------------------------------------------------------------------------- transports
def _from_parts(kind: str, value: str, datatype: str | None = None, lang: str | None = None) -> Term:
    if kind == "uri":
        return iri_to_term(value)
    if kind == "bnode":
        return f"_:{value}"
    if lang:
        return Literal.typed(value, "string", lang)
    if datatype and datatype not in (XSD_NS + "string", RDF_LANGSTRING):
        return Literal.typed(value, datatype)
    return Literal.typed(value)


class RdflibKB(SparqlKB):
    """rdflib's pure-Python graph and SPARQL engine: slow, but the reference most people know."""

    name = "rdflib"

    def __init__(self, path: str | Path | None = None):
        import rdflib

        path = Path(path) if path is not None else default_kb_path()
        self.graph = rdflib.Graph()
        try:
            self.graph.parse(data=_open_bytes(path), format="nt")
        except Exception as exc:  # rdflib raises a zoo of parser errors
            if isinstance(exc, KBError):
                raise
            raise KBError(f"rdflib could not read {path} as N-Triples: {exc}") from None

    def _select(self, query: str) -> list[dict[str, Term]]:
        import rdflib

        rows = []
        for row in self.graph.query(query):
            out = {}
            for var, val in row.asdict().items():
                if isinstance(val, rdflib.URIRef):
                    out[var] = _from_parts("uri", str(val))
                elif isinstance(val, rdflib.Literal):
                    out[var] = _from_parts("literal", str(val), str(val.datatype) if val.datatype else None, val.language)
                elif val is not None:
                    out[var] = _from_parts("bnode", str(val))
            rows.append(out)
        return rows

    def count_triples(self) -> int:
        return len(self.graph)


class OxigraphKB(SparqlKB):
    """pyoxigraph's embedded Rust store: a real SPARQL 1.1 engine in-process."""

    name = "oxigraph"

    def __init__(self, path: str | Path | None = None):
        import pyoxigraph

        path = Path(path) if path is not None else default_kb_path()
        self.store = pyoxigraph.Store()
        try:
            self.store.bulk_load(_open_bytes(path), format=pyoxigraph.RdfFormat.N_TRIPLES)
        except SyntaxError as exc:
            raise KBError(f"pyoxigraph could not read {path} as N-Triples: {exc}") from None

    def _select(self, query: str) -> list[dict[str, Term]]:
        import pyoxigraph

        try:
            solutions = self.store.query(query)
        except SyntaxError as exc:
            raise KBError(f"pyoxigraph rejected a generated query ({exc}); please report it:\n{query}") from None
        names = [v.value for v in solutions.variables]
        rows = []
        for sol in solutions:
            out = {}
            for name in names:
                val = sol[name]
                if isinstance(val, pyoxigraph.NamedNode):
                    out[name] = _from_parts("uri", val.value)
                elif isinstance(val, pyoxigraph.Literal):
                    out[name] = _from_parts("literal", val.value, val.datatype.value, val.language)
                elif val is not None:
                    out[name] = _from_parts("bnode", str(val))
            rows.append(out)
        return rows

    def count_triples(self) -> int:
        return len(self.store)


class HttpKB(SparqlKB):
    """Any SPARQL 1.1 protocol endpoint (Virtuoso with the full Freebase, Oxigraph, Fuseki)."""

    name = "http"

    def __init__(self, url: str, timeout: float = 30.0, retries: int = 2, backoff: float = 0.5, check: bool = True):
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise KBError(f"--kb-endpoint must be an http(s) URL such as http://localhost:8890/sparql, got {url!r}")
        self.url, self.timeout, self.retries, self.backoff = url, timeout, retries, backoff
        self.queries = 0
        if check:
            self.ping()

    def ping(self) -> None:
        """Fail fast, with the fix, when the endpoint is not there."""
        try:
            self._post("ASK { ?s ?p ?o }", retries=0)
        except EndpointError as exc:
            raise EndpointError(f"{exc}. Start the endpoint (e.g. `oxigraph serve --location DIR --bind "
                                "127.0.0.1:7878`, or Virtuoso on :8890) or fix --kb-endpoint.") from None

    def _post(self, query: str, retries: int | None = None) -> dict:
        data = urllib.parse.urlencode({"query": query}).encode()
        request = urllib.request.Request(self.url, data=data, headers={
            "Accept": "application/sparql-results+json", "Content-Type": "application/x-www-form-urlencoded"})
        attempts = (self.retries if retries is None else retries) + 1
        last = ""
        for attempt in range(attempts):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                    self.queries += 1
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                body = exc.read().decode("utf-8", "replace")[:300]
                if 400 <= exc.code < 500:  # our query is wrong: retrying will not help
                    raise EndpointError(f"SPARQL endpoint {self.url} refused a query (HTTP {exc.code}): {body}") from None
                last = f"HTTP {exc.code}: {body}"
            except (socket.timeout, TimeoutError):
                last = f"no answer within {self.timeout:g} s (raise the timeout or simplify the query)"
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                last = f"cannot connect ({getattr(exc, 'reason', exc)})"
            except ValueError as exc:
                raise EndpointError(f"SPARQL endpoint {self.url} did not answer JSON: {exc}") from None
            if attempt + 1 < attempts:
                time.sleep(self.backoff * (2 ** attempt))
        raise EndpointError(f"SPARQL endpoint {self.url}: {last}")

    def _select(self, query: str) -> list[dict[str, Term]]:
        result = self._post(query)
        rows = []
        for binding in result.get("results", {}).get("bindings", []):
            out = {}
            for var, val in binding.items():
                kind = "uri" if val["type"] == "uri" else "bnode" if val["type"] == "bnode" else "literal"
                out[var] = _from_parts(kind, val["value"], val.get("datatype"), val.get("xml:lang"))
            rows.append(out)
        return rows
