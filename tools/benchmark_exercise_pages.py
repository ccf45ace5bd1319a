"""Benchmark of the exercise pages (not a test): time to the first visible-test result, cold and
warm, and the bytes a student downloads, per file.

    PYTHONPATH=$PWD nice .venv/bin/python tools/benchmark_exercise_pages.py [-n 3] [--exercise 01-chain-rule]

Serves the built site (_build/html) on 127.0.0.1 (every other host blocked) with the headers a
typical static host sends, GitHub Pages' (HEADERS below: `Cache-Control: max-age=600`, an ETag
and Last-Modified, answering If-None-Match / If-Modified-Since with 304). Opens the exercise page
in Debian's Chromium and presses Run on the first visible test, which runs the cells above it
first, so Python starts, loads numpy and runs the grading helpers.

- cold: a new persistent browser profile (empty HTTP cache, empty wasm code cache);
- warm: a student's second visit, the same profile (its HTTP cache and V8's code cache) and a
  reload of the page, then Run again.

Each run's time is split into phases (marks posted by the worker, exercise-worker.js): page load,
worker start, wasm fetch+compile, Python init, numpy load and import, the helpers, the first test.
Bytes: what the server sent (200s; a 304 sends none), per file, raw, and as gzip -6 would send
it (GitHub Pages compresses its responses with gzip when the browser asks).
Goals (issue 22): at most 6 s cold and 3 s warm on the course machines, at most 20 MB.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM_ARGS, SiteServer, chromium_path  # noqa: E402

BLOCK_OTHER_HOSTS = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
HEADERS = {"Cache-Control": "max-age=600"}  # plus ETag and Last-Modified, as GitHub Pages sends


class _Log:
    def __init__(self):
        self.lock = threading.Lock()
        self.entries = []  # (path, status, body bytes)

    def add(self, *entry):
        with self.lock:
            self.entries.append(entry)

    def take(self):
        with self.lock:
            out, self.entries = self.entries, []
        return out


class _StaticHostHandler(SimpleHTTPRequestHandler):
    """http.server's files with a static host's caching headers and 304s, every response logged."""

    log = None

    def log_message(self, *args):
        pass

    def end_headers(self):
        for key, value in HEADERS.items():
            self.send_header(key, value)
        super().end_headers()

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isfile(path):
            stat = os.stat(path)
            etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                self.log.add(urlsplit(self.path).path, 304, 0)
                return None
            self._etag = etag
            self._size = stat.st_size
        else:
            self._etag = None
        result = super().send_head()
        return result

    def send_response(self, code, message=None):
        super().send_response(code, message)
        if code == 200 and getattr(self, "_etag", None):
            self.send_header("ETag", self._etag)
            self.log.add(urlsplit(self.path).path, 200, self._size)
        elif code not in (200, 304):
            self.log.add(urlsplit(self.path).path, code, 0)


class StaticHost(SiteServer):
    """The test suite's site server, with GitHub Pages' caching headers and a log of bytes sent."""

    def __init__(self, root: Path):
        self.log = _Log()
        super().__init__(root, handler=type("Handler", (_StaticHostHandler,), {"log": self.log}))


# The size of the memory snapshot that the worker keeps in Cache Storage (exercise-worker.js)
SNAPSHOT_BYTES_JS = """async () => {
  const cache = await caches.open("bpcourse-python");
  let total = 0;
  for (const request of await cache.keys()) total += (await (await cache.match(request)).arrayBuffer()).byteLength;
  return total;
}"""

PHASES = [  # (label, from mark, to mark)
    ("page load (navigation to ready)", "navigation", "page-ready"),
    ("Run pressed -> worker running", "run", "worker-start"),
    ("pyodide.js", "worker-start", "pyodide.js-loaded"),
    ("loadPyodide: before wasm", "pyodide.js-loaded", "wasm-begin"),
    ("wasm fetch+compile", "wasm-begin", "wasm-end"),
    ("Python init (stdlib, after wasm)", "wasm-end", "python-ready"),
    ("numpy wheel load", "python-ready", "numpy-loaded"),
    ("import numpy", "numpy-loaded", "numpy-imported"),
    ("runner set-up", "numpy-imported", "runner-ready"),
    ("the cells above (helpers)", "runner-ready", "helpers-done"),
    ("the first visible test", "helpers-done", "test-done"),
]


def measure(page, url: str, host: StaticHost, test_id: str, reload: bool) -> dict:
    host.log.take()
    start = time.time() * 1000
    if reload:
        page.reload(wait_until="load")
    else:
        page.goto(url, wait_until="load")
    page.wait_for_selector(".bp-notebook[data-ready=yes]", timeout=120_000)
    marks = {"navigation": start, "page-ready": time.time() * 1000}
    page.wait_for_timeout(1000)  # late requests (fonts) land in this visit's log
    page_bytes = host.log.take()
    marks["run"] = time.time() * 1000
    page.click(f'.bp-cell[data-cell-id="{test_id}"] .bp-run-cell')
    test = page.wait_for_selector(f'.bp-cell[data-cell-id="{test_id}"][data-verdict]', timeout=180_000)
    marks["test-done"] = float(test.get_attribute("data-done-at"))
    done_cells = page.eval_on_selector_all(
        f'.bp-code[data-done-at]:not([data-cell-id="{test_id}"])', "els => els.map(e => Number(e.dataset.doneAt))"
    )
    marks["helpers-done"] = max(done_cells) if done_cells else marks["runner-ready"]
    for name, at in json.loads(page.get_attribute(".bp-notebook", "data-timing") or "[]"):
        marks[name] = at
    marks["wasm-begin"] = marks.get("wasm-instantiateStreaming-begin", marks.get("wasm-instantiate-begin"))
    marks["wasm-end"] = marks.get("wasm-instantiateStreaming-end", marks.get("wasm-instantiate-end"))
    page.wait_for_timeout(1000)  # late requests (fonts) land in this visit's log
    run_bytes = host.log.take()
    snapshot = page.evaluate(SNAPSHOT_BYTES_JS)
    phases = {}
    for label, a, b in PHASES:
        if marks.get(a) is not None and marks.get(b) is not None:
            phases[label] = round((marks[b] - marks[a]) / 1000, 3)
    return {
        "run_to_first_result_s": round((marks["test-done"] - marks["run"]) / 1000, 2),
        "navigation_to_first_result_s": round((marks["test-done"] - marks["navigation"]) / 1000, 2),
        "phases_s": phases,
        "files": page_bytes + run_bytes,
        "page_files": page_bytes,
        "streaming": "wasm-instantiateStreaming-begin" in marks,
        "from_snapshot": "python-from-snapshot" in marks,
        "snapshot_bytes": snapshot,
    }


@functools.cache
def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))


def byte_table(site: Path, files) -> tuple[list[tuple[str, int, int]], int, int]:
    per = defaultdict(lambda: [0, 0])
    for path, status, size in files:
        if status != 200:
            continue
        local = site / unquote(path).lstrip("/")
        per[path][0] += size
        per[path][1] += gzipped(local) if local.is_file() else size
    rows = sorted(((p, r, g) for p, (r, g) in per.items()), key=lambda row: -row[1])
    return rows, sum(r for _, r, _ in rows), sum(g for _, _, g in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=3, help="cold/warm pairs (default 3)")
    parser.add_argument("--exercise", default="01-chain-rule")
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--files", type=int, default=25, help="how many files of the cold visit to list")
    args = parser.parse_args(argv)
    release = json.loads((ROOT / "exercises" / args.exercise / f"{args.exercise}.ipynb").read_text())
    test_id = next(c["id"] for c in release["cells"] if c["metadata"].get("nbgrader", {}).get("grade"))
    from playwright.sync_api import sync_playwright

    runs = {"cold": [], "warm": []}
    foreign = []
    with StaticHost(args.site) as host, sync_playwright() as playwright:
        url = f"{host.url}/book/{args.exercise}/exercise.html"
        for _ in range(args.n):
            with tempfile.TemporaryDirectory() as profile:
                # Foreign hosts are blocked by the resolver, not by Playwright's routing: routing
                # turns Chromium's HTTP cache off, and the warm visit would measure no cache at all.
                context = playwright.chromium.launch_persistent_context(
                    profile, executable_path=chromium_path(), args=[*CHROMIUM_ARGS, BLOCK_OTHER_HOSTS]
                )

                context.on("request", lambda r: None if urlsplit(r.url).hostname in ("127.0.0.1", None)
                           or r.url.startswith(("data:", "blob:")) else foreign.append(r.url))  # fmt: skip
                page = context.pages[0] if context.pages else context.new_page()
                runs["cold"].append(measure(page, url, host, test_id, reload=False))
                runs["warm"].append(measure(page, url, host, test_id, reload=True))
                context.close()
    print(f"server headers: {HEADERS} + ETag + Last-Modified (304 on If-None-Match/If-Modified-Since)")
    print(f"requests for other hosts (all fail to resolve): {len(foreign)} {foreign[:3]}")
    for kind, results in runs.items():
        print(f"\n== {kind} (median of {len(results)}) ==")
        for label, _, _ in PHASES:
            values = [r["phases_s"][label] for r in results if label in r["phases_s"]]
            if values:
                print(f"  {label:36s} {statistics.median(values):6.2f} s   {values}")
        rows, raw, gz = byte_table(args.site, results[0]["files"])
        page_rows, page_raw, page_gz = byte_table(args.site, results[0]["page_files"])
        times = [r["run_to_first_result_s"] for r in results]
        nav = [r["navigation_to_first_result_s"] for r in results]
        print(f"  Run -> first visible-test result: median {statistics.median(times):.2f} s {times}")
        print(f"  navigation -> first visible-test result: median {statistics.median(nav):.2f} s {nav}")
        print(f"  wasm compiled by instantiateStreaming: {[r['streaming'] for r in results]}")
        print(
            f"  Python started from the memory snapshot: {[r['from_snapshot'] for r in results]}; "
            f"snapshot kept in Cache Storage after the visit: {[r['snapshot_bytes'] for r in results]} bytes"
        )
        print(f"  bytes sent (first run): {raw:,} raw, {gz:,} gzip -6, in {len(rows)} files "
              f"(page before Run: {page_raw:,} raw, {page_gz:,} gzip)")  # fmt: skip
        statuses = defaultdict(int)
        for _, status, _ in results[0]["files"]:
            statuses[status] += 1
        print(f"  responses by status (first run): {dict(statuses)}")
        if kind == "cold":
            for path, r, g in rows[: args.files]:
                print(f"    {r:>11,} {g:>11,}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
