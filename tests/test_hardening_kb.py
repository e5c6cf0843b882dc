"""Numbers and files: huge integers, corrupted .gz KBs, KB paths that are folders or missing, malformed endpoint URLs;
each is one package error naming the problem (CLI: exit 2, one line, no traceback)."""
from __future__ import annotations

import gzip
import random

import pytest

from gapd_lite.cli import main
from gapd_lite.errors import ConfigError, GapdError, KBError
from gapd_lite.kb.io import read_triples
from gapd_lite.kb.memory import MemoryKB
from gapd_lite.kb.server import OxigraphServer
from gapd_lite.kb.sparql import HttpKB, OxigraphKB, RdflibKB
from gapd_lite.logic.sexpr import parse

HUGE = "1" * 5000  # past Python's 4,300-digit limit on int()


def _one_line_error(capsys, argv) -> str:
    """The CLI's error line (a form's error is followed by the form and a caret under the bad character)."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    line = next(line for line in err if line.startswith("error: "))
    assert "Traceback" not in "\n".join(err) and len(err) <= 3
    return line


@pytest.mark.parametrize("form", [f"(JOIN location.location.area {HUGE})", f'(lt location.location.area "{HUGE}"^^xsd:integer)'])
def test_an_integer_too_long_for_python_in_a_form(capsys, form):
    with pytest.raises(GapdError, match="5,000 digits is out of range"):
        parse(form)
    assert "out of range" in _one_line_error(capsys, ["query", form, "--no-execute"])


def test_an_integer_too_long_for_python_in_the_kb(tiny_nt, tmp_path, capsys):
    path = tmp_path / "kb.nt"
    path.write_text(tiny_nt.read_text() + f'<http://rdf.freebase.com/ns/m.0fr> <http://rdf.freebase.com/ns/x.y.z> '
                    f'"{HUGE}"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    with pytest.raises(KBError, match=f"{path}.*out of range"):
        MemoryKB.load(path)
    assert "out of range" in _one_line_error(capsys, ["kb-stats", "--kb", str(path)])


def _corruptions(data: bytes, n: int, seed: int = 0):
    rng = random.Random(seed)
    for _ in range(n):
        bad = bytearray(data)
        for pos in rng.sample(range(10, len(data)), 3):  # past the magic bytes: still looks like gzip
            bad[pos] = rng.randrange(256)
        yield bytes(bad)


def test_corrupted_gzip_kb_is_a_kb_error_never_a_zlib_one(tiny_nt, tmp_path):
    gz = gzip.compress(tiny_nt.read_bytes())
    path = tmp_path / "kb.nt.gz"
    outcomes = set()
    for bad in _corruptions(gz, 300):
        path.write_bytes(bad)
        try:
            list(read_triples(path))
            outcomes.add("read")
        except KBError as exc:  # anything else (zlib.error, EOFError, UnicodeDecodeError, ...) fails the test
            assert str(path) in str(exc)
            outcomes.add(str(exc).split("(")[1][:20])
    assert {"Error -3 while decom", "CRC check failed); r"} <= outcomes  # zlib.error and BadGzipFile both seen
    for backend in (OxigraphKB, RdflibKB):
        for bad in _corruptions(gz, 20, seed=1):
            path.write_bytes(bad)
            try:
                backend(path)
            except KBError as exc:
                assert str(path) in str(exc)


def test_kb_path_that_is_a_folder_or_missing(tmp_path, capsys):
    for backend in (MemoryKB.load, OxigraphKB, RdflibKB):
        with pytest.raises(KBError, match="is a folder"):
            backend(tmp_path)
        with pytest.raises(KBError, match="KB file not found"):
            backend(tmp_path / "no" / "such" / "kb.nt")
    assert "is a folder" in _one_line_error(capsys, ["kb-stats", "--kb", str(tmp_path)])
    assert "not found" in _one_line_error(capsys, ["query", "(JOIN a.b.c m.0fr)", "--kb", str(tmp_path / "x" / "kb.nt")])


def test_loopback_server_on_a_broken_kb_or_in_new_folders(tiny_nt, tmp_path):
    bad = tmp_path / "kb.nt.gz"
    bad.write_bytes(next(iter(_corruptions(gzip.compress(tiny_nt.read_bytes()), 1)))[:40])
    with pytest.raises(KBError, match="broken gzip"):
        OxigraphServer(bad, workdir=tmp_path / "w1")
    with pytest.raises(KBError, match="is a folder"):
        OxigraphServer(tmp_path, workdir=tmp_path / "w2")
    server = OxigraphServer(tiny_nt, workdir=tmp_path / "missing" / "parents")  # created as needed
    assert server.location.parent.is_dir()
    server.close()


@pytest.mark.parametrize("url,words", [
    ("http://[::1", "is not a valid URL"),
    ("http://local host:8890/sparql", "space or a control character"),
    ("http://localhost:8890/sparql\r\nX-Injected: 1", "space or a control character"),
    ("http://localhost:8890/sparql\n", "space or a control character"),
    ("http://localhost:99999/sparql", "is not a valid URL"),
    ("http://localhost:port/sparql", "is not a valid URL"),
    ("http:///sparql", "http(s) URL"),
    ("localhost:8890/sparql", "http(s) URL"),
    ("ftp://localhost/sparql", "http(s) URL"),
    ("http://user:secret@localhost/sparql", "credentials"),
    ("http://b\u00fccher.example/sparql", "non-ASCII"),
])
def test_malformed_endpoint_urls_are_one_config_error(capsys, url, words):
    with pytest.raises(ConfigError, match=__import__("re").escape(words)):
        HttpKB(url)
    assert words in _one_line_error(capsys, ["query", "(JOIN location.country.capital m.0fr)", "--kb-endpoint", url])
