"""Serve the built site on 127.0.0.1 and drive Debian's Chromium with Playwright.

Every request that leaves 127.0.0.1 is aborted and recorded; console errors and page errors
are recorded; the bytes of every response are counted (page weight).
"""

from __future__ import annotations

import functools
import shutil
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class SiteServer:
    """A static file server for `root` on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, root: Path, handler: type[SimpleHTTPRequestHandler] = _QuietHandler):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class PageVisit:
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    statuses: list[tuple[str, int]] = field(default_factory=list)  # every response: (url, HTTP status)
    bytes_transferred: int = 0


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Chromium is not installed: apt-get install chromium (tools/install-system-packages.sh)")
    return path


def open_page(browser, url: str, *, viewport=(1280, 900)):
    """A new page on `url` with every request watched; returns (page, visit)."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    visit = PageVisit(url)
    page.on("console", lambda m: visit.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
    page.on("requestfailed", lambda r: visit.failed_requests.append(r.url))

    def count(response):
        visit.statuses.append((response.url, response.status))
        try:
            visit.bytes_transferred += len(response.body())
        except Exception:  # redirects and aborted requests have no body
            pass

    page.on("response", count)

    def route(route_):
        host = route_.request.url.split("/")[2] if "://" in route_.request.url else ""
        if host.split(":")[0] in ("127.0.0.1", "") or route_.request.url.startswith(("data:", "blob:")):
            route_.continue_()
        else:
            visit.external_requests.append(route_.request.url)
            route_.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    return page, visit


# What overflows its column on the current page, measured in the browser. Returns
# {"page": horizontal overflow of the whole page in px, "wide": [[kind, detail...], ...]}.
# Display equations are compared with their own box (MathJax would clip or scroll them);
# figures, explorers, code blocks and tables with the article's column. `scrolling_ok` lists
# the selectors allowed to scroll inside their own box (code and tables on a phone).
OVERFLOW_JS = """
(scrollingOk) => {
  const out = {page: document.documentElement.scrollWidth - window.innerWidth, wide: []};
  const article = document.querySelector("article.bd-article") || document.querySelector("main");
  const right = article.getBoundingClientRect().right + 1;
  for (const m of article.querySelectorAll('mjx-container[display="true"]')) {
    const inner = m.firstElementChild.getBoundingClientRect().width, box = m.getBoundingClientRect();
    if (inner > box.width + 1 || box.right > right)
      out.wide.push(["display math", Math.round(inner), Math.round(box.width), m.textContent.slice(0, 60)]);
  }
  for (const e of article.querySelectorAll("img, svg, figure, .bp-explorer, table, pre")) {
    if (e.closest("mjx-container")) continue;
    const box = e.getBoundingClientRect();
    const scrolls = scrollingOk.some((sel) => e.matches(sel));
    const inScroller = e.parentElement.closest(".pst-scrollable-table-container, .cell_output, .highlight");
    if (box.right > right && !(scrolls && inScroller))
      out.wide.push([e.tagName.toLowerCase() + " past the column", Math.round(box.right), Math.round(right)]);
    if (e.scrollWidth > e.clientWidth + 1 && !scrolls)
      out.wide.push([e.tagName.toLowerCase() + " scrolls", e.scrollWidth, e.clientWidth, e.textContent.slice(0, 60)]);
  }
  return out;
}
"""
