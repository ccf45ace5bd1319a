"""Benchmark of the exercise pages (not a test): time to the first visible-test result, cold and
warm, and the bytes a student downloads.

    PYTHONPATH=$PWD .venv/bin/python tools/benchmark_exercise_pages.py [-n 3] [--exercise 01-chain-rule]

Serves the built site (_build/html) on 127.0.0.1 with every other host blocked (tests/browser.py),
opens the exercise page in Debian's Chromium and presses Run on the first visible test (which
runs the cells above it first, so Python starts, loads numpy and runs the grading helpers).
Cold: a fresh browser profile (empty cache). Warm: the same profile, page reloaded, so Python's
files come from the browser's cache (Python's http.server sends Last-Modified, no Cache-Control).
Goals (issue 22): at most 6 s cold and 3 s warm on the course machines, at most 20 MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM_ARGS, SiteServer, chromium_path  # noqa: E402


def measure(context, url: str, test_id: str) -> dict:
    page = context.new_page()
    sizes, foreign = [], []

    def route(route_):
        host = route_.request.url.split("/")[2].split(":")[0]
        if host == "127.0.0.1":
            route_.continue_()
        else:
            foreign.append(route_.request.url)
            route_.abort()

    def count(response):
        try:
            sizes.append((response.url, response.status, len(response.body())))
        except Exception:
            pass

    page.route("**/*", route)
    page.on("response", count)
    start = time.perf_counter()
    page.goto(url, wait_until="load")
    page.wait_for_selector(".bp-notebook[data-ready=yes]", timeout=120_000)
    loaded = time.perf_counter()
    page.click(f'.bp-cell[data-cell-id="{test_id}"] .bp-run-cell')
    page.wait_for_selector(f'.bp-cell[data-cell-id="{test_id}"][data-verdict]', timeout=180_000)
    done = time.perf_counter()
    page.wait_for_load_state("networkidle")
    page.close()
    return {
        "page_load_s": round(loaded - start, 2),
        "run_to_first_result_s": round(done - loaded, 2),
        "navigation_to_first_result_s": round(done - start, 2),
        "requests": len(sizes),
        "bytes": sum(size for _, status, size in sizes if status == 200),
        "pyodide_bytes": sum(size for url, status, size in sizes if "/_static/pyodide/" in url and status == 200),
        "foreign_requests": len(foreign),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=3, help="cold/warm pairs (default 3)")
    parser.add_argument("--exercise", default="01-chain-rule")
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    args = parser.parse_args(argv)
    release = json.loads((ROOT / "exercises" / args.exercise / f"{args.exercise}.ipynb").read_text())
    test_id = next(c["id"] for c in release["cells"] if c["metadata"].get("nbgrader", {}).get("grade"))
    from playwright.sync_api import sync_playwright

    runs = {"cold": [], "warm": []}
    with SiteServer(args.site) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        url = f"{server.url}/book/{args.exercise}/exercise.html"
        for _ in range(args.n):
            context = browser.new_context()
            runs["cold"].append(measure(context, url, test_id))
            runs["warm"].append(measure(context, url, test_id))
            context.close()
        browser.close()
    for kind, results in runs.items():
        for result in results:
            print(kind, json.dumps(result))
    for kind, results in runs.items():
        times = [r["run_to_first_result_s"] for r in results]
        nav = [r["navigation_to_first_result_s"] for r in results]
        print(f"{kind}: Run -> first visible-test result median {statistics.median(times):.2f} s "
              f"(min {min(times):.2f}, max {max(times):.2f}); from navigation {statistics.median(nav):.2f} s; "
              f"{results[0]['bytes']:,} bytes in {results[0]['requests']} responses")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
