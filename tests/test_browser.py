"""The published site in a real browser (Debian's Chromium driven by Playwright), offline.

For every page of the table of contents, at a laptop's width (1280 px) and a phone's (390 px):
no request leaves 127.0.0.1, no console or page error, math is typeset by the vendored MathJax,
every image loads, nothing is wider than its column (display equations included), and the
favicon the page names loads. Screenshots of every page at both widths go to
artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import json

import pytest

from tests.browser import CHROMIUM_ARGS, OVERFLOW_JS, SiteServer, chromium_path, open_page
from tests.conftest import REPO_ROOT
from tests.test_site import toc_files

pytestmark = pytest.mark.browser
ARTIFACTS = REPO_ROOT / "artifacts"


@pytest.fixture(scope="module")
def server(site):
    with SiteServer(site) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


WIDTHS = {"laptop": 1280, "phone": 390}
# On a phone, code and tables may scroll sideways inside their own box (as on every site);
# equations, figures and explorers may not, and nothing may widen the page.
SCROLLING_OK = {"laptop": [], "phone": ["pre", "table", ".bp-table"]}


@pytest.mark.parametrize("device", WIDTHS)
@pytest.mark.parametrize("file", toc_files())
def test_page_works_offline_and_fits_its_column(server, browser, site, file, device):
    page, visit = open_page(browser, f"{server.url}/{file}.html", viewport=(WIDTHS[device], 900))
    try:
        if 'class="math' in (site / f"{file}.html").read_text():
            page.wait_for_selector("mjx-container", state="attached", timeout=15_000)
            assert page.locator("mjx-container").count() > 0
            assert "$$" not in page.inner_text("main"), "raw TeX left on the page"
        page.wait_for_load_state("networkidle")
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        assert broken == [], f"images that did not load: {broken}"
        overflow = page.evaluate(OVERFLOW_JS, SCROLLING_OK[device])
        assert overflow["page"] <= 0, f"the page scrolls sideways by {overflow['page']} px"
        assert overflow["wide"] == [], f"wider than the column at {WIDTHS[device]} px: {overflow['wide']}"
        shot = ARTIFACTS / "screenshots" / device / f"{file.replace('/', '__')}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        if device == "laptop":
            _record_weight(file, visit.bytes_transferred)
        # Headless Chromium asks for no favicon by itself, so ask for the one the page names and
        # for /favicon.ico (what browsers ask for when a page names none) with the page's context.
        named = page.evaluate("document.querySelector('link[rel~=icon]').href")
        for url in (named, f"{server.url}/favicon.ico"):
            answer = page.context.request.get(url)
            assert answer.status == 200 and "icon" in answer.headers["content-type"], f"{url}: {answer.status}"
    finally:
        page.close()
    assert visit.external_requests == [], "requests left the site"
    assert visit.page_errors == []
    assert visit.console_errors == []
    assert visit.failed_requests == [], "requests that failed (a 404 favicon among them?)"
    assert not [url for url, status in visit.statuses if status >= 400], "requests answered with an error"


def _record_weight(file: str, size: int) -> None:
    path = ARTIFACTS / "page-weight.json"
    weights = json.loads(path.read_text()) if path.exists() else {}
    weights[file] = size
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(weights, indent=2, sort_keys=True) + "\n")


def test_b3_explorer_responds_and_descends_to_the_fitted_b3(server, browser):
    from bpcourse import b3

    page, visit = open_page(browser, f"{server.url}/book/05-gradient-descent-b3/gradient-descent-b3.html")
    try:
        explorer = page.locator(".bp-explorer[data-kind=b3]")
        explorer.scroll_into_view_if_needed()
        squiggle_before = page.locator(".bp-squiggle").get_attribute("d")
        page.locator(".bp-b3").fill("1.0")  # drag the slider to b3 = 1
        assert float(explorer.get_attribute("data-b3")) == 1.0
        assert page.locator(".bp-squiggle").get_attribute("d") != squiggle_before
        page.locator(".bp-reset").click()
        page.locator(".bp-step").click()
        path = b3.gradient_descent_b3(b3.DOSAGE, b3.OBSERVED, b3.TRAINED, lr=0.1)
        assert float(explorer.get_attribute("data-b3")) == pytest.approx(path[1], abs=1e-4)
        page.locator(".bp-run").click()
        assert float(explorer.get_attribute("data-b3")) == pytest.approx(path[-1], abs=1e-4)  # about 2.61
        assert page.locator(".bp-table tr").count() == len(path) + 1  # header + every b3 visited
        explorer.screenshot(path=str(ARTIFACTS / "screenshots" / "b3-explorer-after-run.png"))
    finally:
        page.close()
    assert visit.page_errors == [] and visit.console_errors == [] and visit.external_requests == []


def test_gradient_norm_explorer_changes_with_the_activation(server, browser):
    page, visit = open_page(
        browser, f"{server.url}/book/06-vanishing-exploding-gradients/vanishing-exploding-gradients.html"
    )
    try:
        explorer = page.locator(".bp-explorer[data-kind=norms]")
        sigmoid_ratio = float(explorer.get_attribute("data-ratio"))
        page.locator("select.bp-activation").select_option("relu")
        relu_ratio = float(explorer.get_attribute("data-ratio"))
        page.locator("select.bp-depth").select_option("20")
        assert page.locator(".bp-bar").count() == 20
        # the weight gradients of ReLU at s = 4 hide the explosion the activation gradients show
        page.locator("select.bp-activation").select_option("relu")
        page.locator("select.bp-scale").select_option("4")
        page.locator("select.bp-depth").select_option("10")
        page.locator("select.bp-gradient").select_option("dh")
        exploding = float(explorer.get_attribute("data-ratio"))
        page.locator("select.bp-gradient").select_option("dW")
        weights = float(explorer.get_attribute("data-ratio"))
        assert "W_l" in page.locator(".bp-explorer[data-kind=norms] svg").inner_html()  # the axis says which
    finally:
        page.close()
    assert sigmoid_ratio < 1e-3 < relu_ratio  # sigmoid's first layer gets almost nothing back
    assert exploding > 1e3 > 10 > weights
    assert visit.page_errors == [] and visit.console_errors == []


def test_b3_explorer_shows_residuals_tangent_and_divergence(server, browser):
    page, visit = open_page(browser, f"{server.url}/book/05-gradient-descent-b3/gradient-descent-b3.html")
    try:
        explorer = page.locator(".bp-explorer[data-kind=b3]")
        explorer.scroll_into_view_if_needed()
        frame = [float(v) for v in (page.locator(".bp-explorer rect").first.get_attribute(k) for k in ("x", "width"))]
        for line in page.locator(".bp-residual").all():  # every residual inside the frame, none on its edge
            x = float(line.get_attribute("x1"))
            assert frame[0] + 5 < x < frame[0] + frame[1] - 5
        tangent = page.locator(".bp-tangent")
        assert float(tangent.get_attribute("stroke-width")) >= 2 and tangent.get_attribute("stroke-dasharray") is None
        span = float(tangent.get_attribute("x2")) - float(tangent.get_attribute("x1"))
        assert span > 0.3 * frame[1]  # long enough to read its slope
        rates = [float(v) for v in page.locator("select.bp-lr option").all_inner_texts()]
        assert max(rates) > 1 / 3
        page.locator("select.bp-lr").select_option(str(max(rates)))
        page.locator(".bp-run").click()
        assert abs(float(explorer.get_attribute("data-b3"))) > 10  # each step overshoots farther
        assert "diverges" in page.locator(".bp-status").inner_text()
        explorer.screenshot(path=str(ARTIFACTS / "screenshots" / "b3-explorer-diverging.png"))
    finally:
        page.close()
    assert visit.page_errors == [] and visit.console_errors == [] and visit.external_requests == []


@pytest.mark.parametrize("device", WIDTHS)
def test_circuit_labels_are_legible(server, browser, device):
    """Graphviz draws edge labels at 14 pt; a figure scaled down to its column shrinks them."""
    from bpcourse.graphs import FONT_PT

    edge_font_px = FONT_PT * 4 / 3  # an SVG point is 4/3 CSS pixels
    chapters = ("01-chain-rule/chain-rule", "02-computational-graphs/computational-graphs",
                "03-gate-patterns/gate-patterns")  # fmt: skip
    for chapter in chapters:
        page, _ = open_page(browser, f"{server.url}/book/{chapter}.html", viewport=(WIDTHS[device], 900))
        try:
            page.wait_for_load_state("networkidle")
            svgs = "Array.from(document.images).filter(i => i.src.endsWith('.svg'))"
            scales = page.evaluate(svgs + ".map(i => i.clientWidth / i.naturalWidth)")
        finally:
            page.close()
        assert scales, f"{chapter} shows no circuit"
        smallest = min(scales) * edge_font_px
        assert smallest >= 10, f"{chapter} at {WIDTHS[device]} px: edge labels {smallest:.1f} px high"
