"""SPARQL backends: one query builder for the KB primitives, three transports (rdflib, pyoxigraph, HTTP).

Every query is assembled from validated ids (`ns:m.x`, `ns:a.b.c`) and escaped literals; raw text
from a model never reaches a query string.
"""
from __future__ import annotations

import functools
import http.client
import io
import json
import math
import re
import socket
import time
import urllib.parse
from abc import abstractmethod
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..errors import ConfigError, EndpointError, GapdError, KBError
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
        name = "dateTime" if m.group(2) == "xsd" and m.group(3) == "datetime" else m.group(3)  # as WebQSP writes it
        return f"<{ns}{name}>"
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
                if isinstance(r["n"], Literal):  # a name that is not text is no name
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
        n = rows[0]["n"] if rows else None
        return int(n.lexical) if isinstance(n, Literal) and n.datatype == "integer" else None

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


class _Unreachable(EndpointError):
    """No connection at all, as opposed to an endpoint that answers badly: the fix is to start it or fix the URL."""


class _TooLarge(Exception):
    """The response passed the size cap (raised inside http.client's reads, turned into an EndpointError)."""


class _Retry(Exception):
    """A fault worth one more attempt (connection refused or reset, HTTP 5xx)."""

    def __init__(self, message: str, down: bool):
        super().__init__(message)
        self.down = down


class _DeadlineReader(io.RawIOBase):
    """The socket as http.client reads it: no read waits past `deadline`, and all reads together stop at `cap` bytes.

    A socket timeout bounds only one wait, so an endpoint dripping a byte at a time (headers or body)
    would never time out; checking the clock before every read bounds the whole answer.
    """

    def __init__(self, sock: socket.socket, deadline: float, cap: int):
        self.sock, self.deadline, self.cap, self.seen = sock, deadline, cap, 0
        self.raw = sock.makefile("rb", buffering=0)  # keeps the socket open until closed, as http.client expects

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the query's deadline passed")
        self.sock.settimeout(left)
        n = self.raw.readinto(buffer)
        if n is None:  # SocketIO's answer to a timeout it swallowed
            raise TimeoutError("the query's deadline passed")
        self.seen += n
        if self.seen > self.cap:
            raise _TooLarge()
        return n

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()


class _BoundedSocket:
    """What HTTPResponse needs of a socket (`makefile`), reading through a _DeadlineReader."""

    def __init__(self, sock: socket.socket, deadline: float, cap: int):
        self.sock, self.deadline, self.cap = sock, deadline, cap

    def makefile(self, mode: str = "rb", *args, **kwargs) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self.sock, self.deadline, self.cap))


class _BoundedResponse(http.client.HTTPResponse):
    def __init__(self, sock, *args, deadline: float, cap: int, **kwargs):
        super().__init__(_BoundedSocket(sock, deadline, cap), *args, **kwargs)


class _Row(dict):
    """A result row whose missing variable is the endpoint's fault, not a KeyError deep inside a primitive."""

    url = ""

    def __missing__(self, var: str):
        raise EndpointError(f"SPARQL endpoint {self.url} answered a row without ?{var}, which the query binds in "
                            "every row: the endpoint is not answering this query")


REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3
_KINDS = {"uri": "uri", "bnode": "bnode", "literal": "literal", "typed-literal": "literal"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def endpoint_url(url: object) -> urllib.parse.SplitResult:
    """The parts of a valid http(s) endpoint URL, else one ConfigError saying what is wrong with it."""
    example = "e.g. http://localhost:8890/sparql"
    if not isinstance(url, str) or not url:
        raise ConfigError(f"--kb-endpoint needs a URL, {example}")
    if any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise ConfigError(f"--kb-endpoint {url!r} holds a space or a control character (a stray CR/LF?); "
                          f"give the URL alone, {example}")
    if not url.isascii():
        raise ConfigError(f"--kb-endpoint {url!r} holds non-ASCII characters: percent-encode them ({example})")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (parses the port: raises on a bad one)
    except ValueError as exc:
        raise ConfigError(f"--kb-endpoint {url!r} is not a valid URL ({exc}); {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--kb-endpoint must be an http(s) URL such as http://localhost:8890/sparql, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"--kb-endpoint {url!r} carries credentials, which are not supported; give the URL "
                          "without user:password@")
    return parts


def _origin(parts: urllib.parse.SplitResult) -> tuple[str, str, int]:
    return parts.scheme, (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)


def _number(value: object, flag: str, minimum: float, strict: bool, what: str) -> float:
    """A finite number above (or at) `minimum`, else a ConfigError naming the flag."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and (
        value > minimum if strict else value >= minimum)
    if not ok:
        raise ConfigError(f"{flag} {value!r}: {what}")
    return float(value)


def _kind(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def parse_bindings(result: object, url: str) -> list[dict[str, Term]]:
    """The rows of a SPARQL JSON SELECT answer; anything not of that shape is an EndpointError saying what came."""
    results = result.get("results") if isinstance(result, dict) else None
    if not isinstance(results, dict):
        got = f"a JSON {_kind(result)}" if not isinstance(result, dict) else 'an object without a "results" object'
        raise EndpointError(f'SPARQL endpoint {url} answered {got}, not SPARQL JSON results ({{"results": '
                            '{"bindings": [...]}}): is --kb-endpoint the SPARQL query URL?')
    bindings = results.get("bindings")
    if not isinstance(bindings, list):
        raise EndpointError(f'SPARQL endpoint {url} answered "results.bindings" as a {_kind(bindings)}, not a list')
    rows = []
    for binding in bindings:
        if not isinstance(binding, dict):
            raise EndpointError(f"SPARQL endpoint {url} answered a result row that is a {_kind(binding)}, not an object")
        row = _Row()
        row.url = url
        for var, val in binding.items():
            row[var] = _term(var, val, url)
        rows.append(row)
    return rows


def _term(var: str, val: object, url: str) -> Term:
    """One bound value of a SPARQL JSON row; a malformed one is the endpoint's fault, said as such."""
    where = f"SPARQL endpoint {url} answered ?{var} as"
    if not isinstance(val, dict) or val.get("type") not in _KINDS:
        got = f"an object with type {val.get('type')!r}" if isinstance(val, dict) else f"a {_kind(val)}"
        raise EndpointError(f"{where} {got}; SPARQL JSON needs an object with type uri, literal or bnode")
    value, datatype, lang = val.get("value"), val.get("datatype"), val.get("xml:lang")
    if not isinstance(value, str) or not all(x is None or isinstance(x, str) for x in (datatype, lang)):
        raise EndpointError(f"{where} an object whose value, datatype or xml:lang is not a string")
    if _SURROGATE.search(value) or _SURROGATE.search(datatype or "") or _SURROGATE.search(lang or ""):
        raise EndpointError(f"{where} text holding a lone surrogate (not valid Unicode)")
    try:
        return _from_parts(_KINDS[val["type"]], value, datatype, lang)
    except GapdError as exc:
        reason = str(exc).split(";")[0]  # what is wrong, without the fix meant for someone typing a literal
        raise EndpointError(f"{where} a literal gapd-lite cannot read ({reason}): the endpoint's data is "
                            "malformed, not your query") from None


class HttpKB(SparqlKB):
    """Any SPARQL 1.1 protocol endpoint (Virtuoso with the full Freebase, Oxigraph, Fuseki).

    Every query has one deadline of `timeout` seconds for everything (connect, send, headers, body,
    retries), answers larger than `max_mb` are refused, and redirects are followed only within the
    endpoint's own origin (scheme, host and port): answers come from the endpoint you named or not at all.
    """

    name = "http"

    def __init__(self, url: str, timeout: float = 30.0, retries: int = 2, backoff: float = 0.5, check: bool = True,
                 max_mb: float = 32.0):
        endpoint_url(url)
        self.timeout = _number(timeout, "--kb-timeout", 0, True, "give the seconds one query may take in all, a "
                               "number > 0 such as 30")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigError(f"HttpKB retries={retries!r}: a whole number >= 0")
        self.backoff = _number(backoff, "HttpKB backoff", 0, False, "seconds >= 0 before the first retry")
        self.max_mb = _number(max_mb, "HttpKB max_mb", 0, True, "the largest answer accepted, in MB, > 0")
        self.url, self.retries = url, retries
        self.queries = 0
        if check:
            self.ping()

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1_000_000)

    def ping(self) -> None:
        """Fail fast, with the fix, when the endpoint is not there, not answering SPARQL, or empty."""
        try:
            result = self._post("ASK { ?s ?p ?o }", retries=0)
        except _Unreachable as exc:
            raise EndpointError(f"{exc}. Start the endpoint (e.g. `oxigraph serve --location DIR --bind "
                                "127.0.0.1:7878`, or Virtuoso on :8890) or fix --kb-endpoint.") from None
        except EndpointError as exc:
            raise EndpointError(f"{exc} (on the test query ASK {{ ?s ?p ?o }} sent at start)") from None
        if not isinstance(result, dict) or not isinstance(result.get("boolean"), bool):
            got = f"a JSON {_kind(result)}" if not isinstance(result, dict) else 'an object without "boolean"'
            raise EndpointError(f"SPARQL endpoint {self.url} answered the test query ASK {{ ?s ?p ?o }} with {got}, "
                                'not {"boolean": true}: is --kb-endpoint the SPARQL query URL?')
        if not result["boolean"]:
            raise EndpointError(f"SPARQL endpoint {self.url} answers but holds no triples: load the KB into it "
                                "(e.g. `oxigraph load --location DIR --file freebase_subset.nt.gz`)")

    def _post(self, query: str, retries: int | None = None) -> dict:
        """POST one query: retries (with backoff) on refused connections and HTTP 5xx, all within one deadline."""
        body = urllib.parse.urlencode({"query": query}).encode()
        deadline = time.monotonic() + self.timeout
        attempts = (self.retries if retries is None else retries) + 1
        for attempt in range(attempts):
            try:
                result = self._exchange(body, deadline)
                self.queries += 1
                return result
            except _Retry as exc:
                last = exc
            pause = self.backoff * 2 ** attempt
            if attempt + 1 == attempts or time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
        raise (_Unreachable if last.down else EndpointError)(f"SPARQL endpoint {self.url}: {last}")

    def _exchange(self, body: bytes, deadline: float) -> object:
        """One attempt: the request, same-origin redirects, and the parsed JSON answer."""
        url = self.url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                status, location, payload = self._request(urllib.parse.urlsplit(url), body, deadline)
            except TimeoutError:
                raise EndpointError(f"SPARQL endpoint {self.url}: no complete answer within {self.timeout:g} s "
                                    "(--kb-timeout covers connect, headers and body): raise it or simplify "
                                    "the query") from None
            except _TooLarge:
                raise EndpointError(f"SPARQL endpoint {self.url} sent more than {self.max_mb:g} MB for one query, "
                                    "the cap (HttpKB max_mb): no KB primitive needs that much; check the endpoint, "
                                    "or raise the cap") from None
            except http.client.RemoteDisconnected as exc:
                raise _Retry(f"closed the connection without answering ({exc})", down=False) from None
            except http.client.HTTPException as exc:
                raise EndpointError(f"SPARQL endpoint {self.url} did not answer valid HTTP "
                                    f"({type(exc).__name__}: {str(exc)[:120]})") from None
            except (ConnectionRefusedError, socket.gaierror) as exc:
                raise _Retry(f"cannot connect ({exc.strerror or exc})", down=True) from None
            except OSError as exc:  # reset mid-answer, TLS failure, unreachable network
                raise _Retry(f"the connection failed ({exc.strerror or exc})", down=True) from None
            if status in REDIRECTS:
                url = self._redirect(url, status, location)
                continue
            return self._answer(status, payload)
        raise EndpointError(f"SPARQL endpoint {self.url} redirected more than {MAX_REDIRECTS} times: set "
                            "--kb-endpoint to the URL that answers")

    def _redirect(self, url: str, status: int, location: str | None) -> str:
        """The redirect's target if it stays on the endpoint's origin, else an EndpointError naming where it led."""
        if not location:
            raise EndpointError(f"SPARQL endpoint {self.url} redirected (HTTP {status}) without a Location header")
        target = urllib.parse.urljoin(url, location.strip())
        try:
            same = _origin(urllib.parse.urlsplit(target)) == _origin(urllib.parse.urlsplit(self.url))
        except ValueError:
            same = False
        if not same:
            raise EndpointError(f"SPARQL endpoint {self.url} redirected (HTTP {status}) to {target[:200]!r}, another "
                                "origin or scheme: gapd-lite follows redirects only within the endpoint's own "
                                "scheme, host and port (a query is never replayed elsewhere); if that is the real "
                                "endpoint, give it as --kb-endpoint")
        return target

    def _request(self, parts: urllib.parse.SplitResult, body: bytes, deadline: float) -> tuple[int, str | None, bytes]:
        """(status, Location, body) of one POST, every byte read before `deadline` and within the size cap."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = kind(parts.hostname, parts.port, timeout=left)
        conn.response_class = functools.partial(_BoundedResponse, deadline=deadline, cap=self.max_bytes)
        resp = None
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            conn.request("POST", path, body=body, headers={
                "Accept": "application/sparql-results+json", "Content-Type": "application/x-www-form-urlencoded",
                "Connection": "close"})
            resp = conn.getresponse()
            if resp.status in REDIRECTS:
                return resp.status, resp.getheader("Location"), b""
            if not 200 <= resp.status < 300:
                return resp.status, None, resp.read(300)
            length = resp.getheader("Content-Length", "")
            if length.isdigit() and int(length) > self.max_bytes:
                raise _TooLarge()
            chunks = []
            while chunk := resp.read(1 << 16):
                chunks.append(chunk)
            return resp.status, None, b"".join(chunks)
        finally:
            if resp is not None:
                resp.close()
            conn.close()

    def _answer(self, status: int, payload: bytes) -> object:
        """The JSON of a final (non-redirect) response; HTTP errors say whose fault they are."""
        text = payload.decode("utf-8", "replace")
        if 500 <= status < 600:
            raise _Retry(f"HTTP {status}, a server error ({text[:200].strip() or 'no message'}): it is running but "
                         "failing; see its log", down=False)
        if status == 404:
            raise EndpointError(f"SPARQL endpoint {self.url}: nothing at this URL (HTTP 404): check the path "
                                "(Virtuoso serves /sparql, Oxigraph /query)")
        if status in (401, 403, 407):
            raise EndpointError(f"SPARQL endpoint {self.url} refused access (HTTP {status}): it needs credentials "
                                "or forbids queries; gapd-lite sends none")
        if 400 <= status < 500:
            raise EndpointError(f"SPARQL endpoint {self.url} refused a query (HTTP {status}): {text[:300].strip()}")
        if not 200 <= status < 300:
            raise EndpointError(f"SPARQL endpoint {self.url} answered HTTP {status}, which is neither an answer nor "
                                "a redirect")
        try:
            return json.loads(payload.decode("utf-8"))
        except UnicodeDecodeError:
            raise EndpointError(f"SPARQL endpoint {self.url} answered bytes that are not UTF-8 text") from None
        except ValueError as exc:
            raise EndpointError(f"SPARQL endpoint {self.url} did not answer JSON ({exc}; it began "
                                f"{text[:60]!r})") from None
        except RecursionError:
            raise EndpointError(f"SPARQL endpoint {self.url} answered JSON nested too deeply to read") from None

    def _select(self, query: str) -> list[dict[str, Term]]:
        return parse_bindings(self._post(query), self.url)
