"""A hostile SPARQL endpoint (endless, dripping, huge, wrong-shape, redirecting answers) on loopback: every fault is an
EndpointError bounded in time and memory, ends an episode as a KB failure, and says what really happened."""
from __future__ import annotations

import functools
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gapd_lite.data import Question
from gapd_lite.env.kbqa_env import EnvConfig, KBQAEnv
from gapd_lite.errors import ConfigError, EndpointError
from gapd_lite.kb.sparql import HttpKB

CAPITAL = Question("t-capital", "What is the capital of France?", "(JOIN (R location.country.capital) m.0fr)")
# ---------------------------------------------------------------------------- a hostile endpoint
FB = "http://rdf.freebase.com/ns/"
XSD_INT = "http://www.w3.org/2001/XMLSchema#integer"
ROW = {v: {"type": "uri", "value": FB + "m.0paris"} for v in ("s", "o", "p", "x", "v")}
SHAPES = {  # a body of the wrong shape, and the words of the EndpointError it must give
    "list": (b"[]", "answered a JSON list"),
    "null": (b"null", "answered a JSON null"),
    "empty object": (b"{}", 'without a "results" object'),
    "bindings oops": (b'{"results": {"bindings": "oops"}}', '"results.bindings" as a string'),
    "row not an object": (b'{"results": {"bindings": [7]}}', "row that is a number"),
    "binding without type": (b'{"results": {"bindings": [{"o": {"value": "x"}}]}}', "type None"),
    "value not a string": (b'{"results": {"bindings": [{"o": {"type": "uri", "value": 5}}]}}', "is not a string"),
    "missing variable": (json.dumps({"results": {"bindings": [{"zz": ROW["o"]}]}}).encode(), "row without ?o"),
    "bad literal": (json.dumps({"results": {"bindings": [{"o": {"type": "literal", "value": "abc", "datatype": XSD_INT}}]}}
                               ).encode(), "endpoint's data is malformed"),
    "lone surrogate": (b'{"results": {"bindings": [{"o": {"type": "literal", "value": "\\ud800"}}]}}', "surrogate"),
    "not json": (b"<html>It works!</html>", "did not answer JSON"),
    "not utf-8": (b'{"results": "\xff\xfe"}', "not UTF-8"),
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
}


class FakeEndpoint:
    """A SPARQL endpoint on loopback that answers the start-up ASK properly and every other query as `mode` says:
    "ok", a key of SHAPES, "endless", "drip-headers", "drip-body", "huge", "redirect <status> <location>", "status <n>",
    "hang-up". Paths other than /query count as `elsewhere` hits (where a followed redirect would land)."""

    def __init__(self, mode: str = "ok", ask: bool = True, huge_mb: float = 50):
        self.mode, self.ask, self.huge_mb, self.elsewhere, self.stopping = mode, ask, huge_mb, 0, threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_FakeHandler, self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/query"

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


class _FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, fake: FakeEndpoint, *args):
        self.fake = fake
        super().__init__(*args)

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, body: bytes, status: int = 200, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, data: bytes) -> None:
        for i in range(len(data)):
            if self.fake.stopping.wait(0.5):
                return
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()

    def do_POST(self) -> None:
        try:
            self._answer()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what it should do

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        query = urllib.parse.parse_qs(body.decode()).get("query", [""])[0]
        ok = json.dumps({"head": {"vars": list(ROW)}, "results": {"bindings": [ROW]}}).encode()
        mode = self.fake.mode
        if self.path != "/query":
            self.fake.elsewhere += 1
            return self._send(ok)
        if query.startswith("ASK") and self.fake.ask:
            return self._send(b'{"boolean": true}')
        if mode == "ok":
            return self._send(ok)
        if mode in SHAPES:
            return self._send(SHAPES[mode][0])
        if mode == "endless":  # a 200 with no length whose body never ends
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\nConnection: close\r\n\r\n"
                             b'{"results": {"bindings": [')
            block = (json.dumps(ROW) + ",").encode() * 500
            while not self.fake.stopping.is_set():
                self.wfile.write(block)
        elif mode == "drip-headers":
            self._drip(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n" * 50)
        elif mode == "drip-body":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(ok))
            self._drip(ok)
        elif mode == "huge":  # `huge_mb` of valid rows, with an honest length, sent as fast as the client reads
            row = (json.dumps(ROW) + ",").encode()
            n = int(self.fake.huge_mb * 1e6) // len(row) // 500 * 500
            head, tail = b'{"results": {"bindings": [', json.dumps(ROW).encode() + b"]}}"
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (len(head) + n * len(row) + len(tail)))
            self.wfile.write(head)
            for _ in range(n // 500):
                self.wfile.write(row * 500)
            self.wfile.write(tail)
        elif mode.startswith("redirect"):
            _, status, location = mode.split(" ", 2)
            self._send(b"", int(status), {"Location": location})
        elif mode.startswith("status"):
            self._send(b"overloaded", int(mode.split()[1]))
        elif mode == "hang-up":
            self.close_connection = True
        elif mode.startswith("body "):
            self._send(mode[5:].encode())
        else:
            raise AssertionError(f"unknown fake mode {mode!r}")


@pytest.fixture()
def fake():
    endpoint = FakeEndpoint()
    yield endpoint
    endpoint.close()


def _bounded(call, seconds: float = 30.0):
    """Run `call` in a thread; a hang (the fault this guards against) fails the test instead of blocking the suite."""
    box: dict = {}

    def run():
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 (handed back to the test)
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds:g} s: the client is not bounded"
    if "error" in box:
        raise box["error"]
    return box.get("value")


HOSTILE_MODES = {  # mode -> words of the error; every one within a 1.5 s deadline and a 1 MB cap
    **{name: words for name, (_, words) in SHAPES.items()},
    "endless": "more than 1 MB",
    "huge": "more than 1 MB",
    "drip-headers": "no complete answer within 1.5 s",
    "drip-body": "no complete answer within 1.5 s",
    "hang-up": "closed the connection without answering",
    "status 500": "HTTP 500, a server error",
    "status 404": "nothing at this URL",
    "status 403": "refused access",
    "redirect 302 http://localhost:{port}/elsewhere": "another origin or scheme",
}


def _kb(fake: FakeEndpoint, **kw) -> HttpKB:
    return HttpKB(fake.url, **{"timeout": 1.5, "retries": 1, "backoff": 0.05, "max_mb": 1, **kw})


@pytest.mark.parametrize("mode", list(HOSTILE_MODES))
def test_hostile_endpoint_answers_are_bounded_endpoint_errors(fake, mode):
    import tracemalloc

    kb = _kb(fake)
    fake.mode = mode.format(port=fake.port)
    tracemalloc.start()
    try:
        with pytest.raises(EndpointError, match=re.escape(HOSTILE_MODES[mode])):
            _bounded(lambda: kb.follow(["m.0fr"], "location.country.capital"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40_000_000  # the 1 MB cap holds (the 100,000-deep JSON costs its parse, not the body)
    assert fake.elsewhere == 0


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("target", ["http://localhost:{port}/elsewhere", "http://127.0.0.1:9/query",
                                    "https://127.0.0.1:{port}/query", "ftp://127.0.0.1/query", "//evil.example/q"])
def test_redirects_to_another_origin_or_scheme_are_refused(fake, status, target):
    kb = _kb(fake)
    fake.mode = f"redirect {status} {target.format(port=fake.port)}"
    with pytest.raises(EndpointError, match=f"redirected \\(HTTP {status}\\) to .*another origin or scheme"):
        _bounded(lambda: kb.follow(["m.0fr"], "location.country.capital"))
    assert fake.elsewhere == 0  # the canned answer there was never fetched, let alone used


def test_a_redirect_within_the_endpoint_is_followed(fake):
    kb = _kb(fake)
    fake.mode = "redirect 308 /query"  # to itself: followed until the hop limit
    with pytest.raises(EndpointError, match="redirected more than 3 times"):
        _bounded(lambda: kb.follow(["m.0fr"], "location.country.capital"))
    fake.mode = "redirect 307 /elsewhere"
    assert _bounded(lambda: kb.follow(["m.0fr"], "location.country.capital")) == {"m.0paris"}
    assert fake.elsewhere == 1


@pytest.mark.parametrize("mode", [*SHAPES, "endless", "drip-body", "huge", "redirect 303 ftp://127.0.0.1/x"])
def test_a_faulty_endpoint_ends_the_episode_as_a_kb_failure(fake, mode):
    env = KBQAEnv(_kb(fake), CAPITAL.question, {"m.0fr": "France"}, EnvConfig(max_turns=5))
    fake.mode = mode
    record = _bounded(lambda: env.step("<action>get_neighbors(m.0fr, location.country.capital)</action>"))
    assert env.done and env.failed and record.error.startswith("KB failure: SPARQL endpoint")
    assert "did not answer" in record.observation


def test_a_healthy_fake_endpoint_answers(fake):
    kb = _kb(fake)
    assert kb.follow(["m.0fr"], "location.country.capital") == {"m.0paris"}


# ---------------------------------------------------------------------------- messages that say what really happened
@pytest.mark.parametrize("mode,words", [
    ("status 500", "HTTP 500, a server error (overloaded): it is running but failing; see its log (on the test query"),
    ("status 400", "refused a query (HTTP 400): overloaded (on the test query"),
    ("status 404", "nothing at this URL (HTTP 404): check the path"),
    ("redirect 307 http://localhost:{port}/query", "redirected (HTTP 307) to 'http://localhost:"),
    ("redirect 308 ftp://127.0.0.1/query", "redirected (HTTP 308) to 'ftp://127.0.0.1/query', another origin or scheme"),
    ("empty object", 'answered the test query ASK { ?s ?p ?o } with an object without "boolean"'),
    ("null", "answered the test query ASK { ?s ?p ?o } with a JSON null"),
    ('body {"boolean": false}', "answers but holds no triples: load the KB into it"),
])
def test_a_running_endpoint_that_fails_at_start_is_not_told_to_start(mode, words):
    fake = FakeEndpoint(ask=False)
    fake.mode = mode.replace("{port}", str(fake.port))
    try:
        with pytest.raises(EndpointError) as err:
            _bounded(lambda: HttpKB(fake.url, timeout=1.5, retries=1, backoff=0.05))
    finally:
        fake.close()
    assert words in str(err.value) and "Start the endpoint" not in str(err.value)


@pytest.mark.parametrize("timeout", [-1, 0, float("nan"), float("inf"), "5", True])
def test_a_bad_timeout_is_a_config_error_naming_the_flag(timeout):
    with pytest.raises(ConfigError, match=r"--kb-timeout .*: give the seconds one query may take in all"):
        HttpKB("http://127.0.0.1:9/query", timeout=timeout)


@pytest.mark.parametrize("flag", ["-1", "0", "nan"])
def test_cli_bad_timeout_is_one_line(fake, capsys, flag):
    from gapd_lite.cli import main

    assert main(["query", "(JOIN (R location.country.capital) m.0fr)", "--kb-endpoint", fake.url, "--kb-timeout", flag]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: --kb-timeout ") and "out of range" not in err[-1]


@pytest.mark.parametrize("mode,words", [
    ("bad literal", "answered ?o as a literal gapd-lite cannot read ('abc' is not an integer): the endpoint's data is "
                    "malformed, not your query"),
    ("empty object", 'answered an object without a "results" object'),
])
def test_cli_blames_the_endpoint_not_the_user(fake, capsys, mode, words):
    from gapd_lite.cli import main

    fake.mode = mode
    argv = ["query", "(JOIN (R location.country.capital) m.0fr)", "--kb-endpoint", fake.url, "--kb-timeout", "2"]
    assert _bounded(lambda: main(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: SPARQL endpoint") and words in err[-1]
    assert "write e.g." not in err[-1] and "does not exist" not in err[-1]
