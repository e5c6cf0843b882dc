"""`make book` renders the ten chapters and a landing page; a real headless Chromium opens every page of the built
site and checks that it loads, that its internal links resolve, and that its figures render with a size."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BROWSERS = ("chromium", "chromium-browser", "google-chrome")

# Served beside the site, so its script may read each page (same origin) and post back what it saw.
CHECKER = """<!doctype html><html><body><script>
const pages = %s;
function loaded(img) {
  return img.complete ? Promise.resolve() : new Promise(r => { img.onload = img.onerror = r; });
}
async function look(page) {
  const frame = document.createElement('iframe');
  frame.style.width = '1280px'; frame.style.height = '1000px';
  document.body.appendChild(frame);
  await new Promise(r => { frame.onload = r; frame.src = page; });
  const doc = frame.contentDocument;
  const imgs = [...doc.querySelectorAll('main img, article img')];
  await Promise.all(imgs.map(loaded));
  const seen = {
    page, title: doc.title, h1: (doc.querySelector('h1') || {}).textContent || '',
    images: imgs.map(i => ({src: i.getAttribute('src'), natural: [i.naturalWidth, i.naturalHeight],
                            shown: [i.getBoundingClientRect().width, i.getBoundingClientRect().height]})),
    links: [...doc.querySelectorAll('a[href]')].map(a => a.href),
  };
  frame.remove();
  return seen;
}
(async () => {
  const out = [];
  for (const p of pages) out.push(await look(p));
  await fetch('/__result__', {method: 'POST', body: JSON.stringify(out)});
  document.body.setAttribute('data-done', '1');
})();
</script></body></html>"""


def browser() -> str:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium binary (apt-get install chromium; .ci/run installs it): the rendered book is not checked")


class Site(SimpleHTTPRequestHandler):
    """The built site, plus the checker page and the endpoint its results are posted to."""

    pages: list[str] = []
    results: list = []

    def do_GET(self) -> None:
        if self.path == "/__check__.html":
            body = (CHECKER % json.dumps(self.pages)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            super().do_GET()

    def do_POST(self) -> None:
        self.results.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             f"--user-data-dir={profile}", "--window-size=1280,1000"]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The book built by the same command `make book` runs, into a temporary folder."""
    pytest.importorskip("jupyter_book", reason="the notebooks extra brings jupyter-book: pip install -e '.[notebooks]'")
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    done = subprocess.run([str(jb), "build", str(ROOT / "book"), "--path-output", str(out), "--warningiserror"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out / "_build" / "html"


@pytest.mark.slow
def test_every_chapter_page_loads_links_resolve_and_figures_render(built, tmp_path):
    binary = browser()
    pages = ["index.html"] + [f"chapters/{c}.html" for c in CHAPTERS]
    Site.pages, Site.results = pages, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Site, directory=str(built)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        run = chromium(binary, tmp_path / "profile", "--virtual-time-budget=60000", "--dump-dom", f"{base}/__check__.html")
        shot = chromium(binary, tmp_path / "profile", f"--screenshot={tmp_path / 'landing.png'}", f"{base}/index.html")
    finally:
        server.shutdown()
    assert Site.results, f"the browser reported nothing: {run.stderr[-2000:]}"
    seen = {s["page"]: s for s in Site.results[0]}
    assert list(seen) == pages

    assert "GAPD" in seen["index.html"]["h1"]
    for chapter in CHAPTERS:  # each chapter's page shows its notebook's title
        assert seen[f"chapters/{chapter}.html"]["h1"].startswith(chapter[:2] + " · "), chapter

    figures = [(s["page"], img) for s in seen.values() for img in s["images"]]
    assert any(p == "index.html" and "pipeline" in img["src"] for p, img in figures)  # the landing page's picture
    for page, img in figures:
        assert min(img["natural"]) > 0 and min(img["shown"]) > 0, (page, img)

    linked = {s["page"]: {h for h in s["links"] if h.startswith(base)} for s in seen.values()}
    assert {f"{base}/chapters/{c}.html" for c in CHAPTERS} <= linked["index.html"]  # the chapter map
    for page, hrefs in linked.items():
        for href in hrefs:
            url = urlsplit(href)
            target = built / unquote(url.path).lstrip("/")
            target = target / "index.html" if target.is_dir() else target
            assert target.is_file(), f"{page} links to a missing {url.path}"
            if url.fragment and target.suffix == ".html":
                assert re.search(rf'id="{re.escape(unquote(url.fragment))}"', target.read_text()), f"{page}: {href}"

    png = tmp_path / "landing.png"
    assert shot.returncode == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot.stderr[-2000:]
    assert int.from_bytes(png.read_bytes()[16:20], "big") == 1280  # the whole window, drawn
