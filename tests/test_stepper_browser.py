"""The step-through graphs on the built site, in Debian's Chromium (Playwright), offline.

For the figures of chapters 2, 3 and 9: each step changes exactly the node the schedule says and
highlights it and its edge; after Run every gradient equals the one the chapter's own Python
computes (autodiff's adjoint trace, gates.example_circuit, the engine's Tensor.backward) and the
numbers shown equal the chapter's glued numbers; edited inputs are recomputed in the page, and
agree with Python there too; the keyboard drives it; no console error, no request leaves the
site, nothing is clipped or overlaps at 1280 and 390 px.
"""

from __future__ import annotations

import json

import pytest

from bpcourse import autodiff, gates, stepper
from bpcourse.engine import Tensor
from tests.browser import CHROMIUM_ARGS, OVERFLOW_JS, SiteServer, chromium_path, open_page
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = REPO_ROOT / "artifacts"
CHAPTERS = {
    "ch2": "book/02-computational-graphs/computational-graphs",
    "ch3": "book/03-gate-patterns/gate-patterns",
    "ch9": "book/09-autograd-engine/autograd-engine",
}
WIDTHS = {"laptop": 1280, "phone": 390}
NEURON_LEAVES = ("x1", "w1", "x2", "w2", "b")


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


@pytest.fixture
def visit(server, browser, request):
    """open(chapter, width=1280) -> (page, figure locator, visit record); pages are closed after the test,
    and every visit must end without console errors, page errors or external requests."""
    opened = []

    def open_(chapter, width=1280):
        page, record = open_page(browser, f"{server.url}/{CHAPTERS[chapter]}.html", viewport=(width, 900))
        opened.append((page, record))
        figure = page.locator(".bp-stepper").first
        figure.wait_for(state="visible")
        assert figure.get_attribute("data-total"), "the stepper script did not run"
        figure.scroll_into_view_if_needed()
        return page, figure, record

    yield open_
    for page, record in opened:
        page.close()
        assert record.console_errors == [] and record.page_errors == [], (record.console_errors, record.page_errors)
        assert record.external_requests == [] and record.failed_requests == []


# -- what the page shows, and what Python says it should show -----------------------------------
STATE_JS = """
(root) => Array.from(root.querySelectorAll(".bp-panel")).map((panel) => ({
  rule: panel.querySelector(".bp-rule").textContent,
  edges: Array.from(panel.querySelectorAll(".bp-edge")).map((e) => [e.dataset.edge, e.getAttribute("class")]),
  nodes: Object.fromEntries(Array.from(panel.querySelectorAll(".bp-node")).map((g) => [g.dataset.node, {
    value: g.dataset.value, grad: g.dataset.grad, current: g.classList.contains("bp-current"),
    upstream: g.classList.contains("bp-upstream"),
    valueText: g.querySelector(".bp-val").textContent, gradText: g.querySelector(".bp-grad").textContent,
  }])),
}))
"""


def config_of(figure) -> dict:
    return json.loads(figure.get_attribute("data-config"))


def graph_of(panel: dict) -> stepper.Graph:
    """The Graph that a panel of the page's exported data describes."""
    inputs = {n["id"]: n["value"] for n in panel["nodes"] if n["kind"] == "input"}
    ops = [(n["id"], n["rule"], tuple(n["args"])) for n in panel["nodes"] if n["kind"] == "op"]
    return stepper.Graph(panel["title"], inputs, ops, of=panel["of"], seed=panel["seed"])


def neuron(values: dict) -> dict:
    t = {name: Tensor(values[name]) for name in NEURON_LEAVES}
    t["m1"], t["m2"] = t["x1"] * t["w1"], t["x2"] * t["w2"]
    t["m"] = t["m1"] + t["m2"]  # the chapter's names: m for the sum of products, n = m + b
    t["n"] = t["m"] + t["b"]
    t["o"] = stepper.tanh(t["n"])
    t["o"].backward()
    return t


def reference(chapter: str, panels_inputs: list[dict]) -> list[tuple[dict, dict]]:
    """(values, gradients) per panel from the chapter's own Python, not from bpcourse.stepper."""
    if chapter == "ch2":
        (at,) = panels_inputs
        return [(autodiff.primal(autodiff.EXAMPLE, at), autodiff.adjoints(autodiff.EXAMPLE, at))]
    if chapter == "ch9":
        (at,) = panels_inputs
        t = neuron(at)
        return [({k: float(v.data) for k, v in t.items()}, {k: float(v.grad) for k, v in t.items()})]
    add, max_, mul, tie = panels_inputs  # the panels of bpcourse.stepper.gate_panels
    ex = gates.example_circuit(mul["x"], mul["y"], max_["z"], max_["w"])
    assert (add["xy"], add["m"]) == (ex["xy"], ex["max"]), "the add panel's inputs are the circuit's"
    share = [float(s) for s in gates.max_shares(tie["z"], tie["w"])]
    return [
        ({**add, "s": ex["s"]}, {"xy": ex["dxy"], "m": ex["dm"], "s": ex["ds"]}),
        ({**max_, "m": ex["max"]}, {"z": ex["dz"], "w": ex["dw"], "m": ex["dm"]}),
        ({**mul, "xy": ex["xy"]}, {"x": ex["dx"], "y": ex["dy"], "xy": ex["dxy"]}),
        ({**tie, "m": max(tie["z"], tie["w"])}, {"z": share[0], "w": share[1], "m": 1.0}),
    ]


def assert_matches(state, expected, chapter):
    for shown, (values, grads) in zip(state, expected, strict=True):
        for node, s in shown["nodes"].items():
            # the same up to rounding: 1 - tanh² of a saturated tanh keeps few exact digits
            assert float(s["value"]) == pytest.approx(values[node], rel=1e-9, abs=1e-12), f"{chapter} {node}"
            assert float(s["grad"]) == pytest.approx(grads[node], rel=1e-9, abs=1e-12), f"{chapter} d{node}"


def run_to_the_end(page, figure):
    figure.locator(".bp-run").click()
    page.wait_for_function("(r) => r.dataset.position === r.dataset.total && !r.dataset.running",
                           arg=figure.element_handle(), timeout=20_000)  # fmt: skip


VERB = {"add": "add distributes", "mul": "mul swaps", "max": "max ", "sub": "sub ", "ln": "ln: ",
        "sin": "sin: ", "tanh": "tanh: "}  # fmt: skip


# -- the tests --------------------------------------------------------------------------------
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_each_step_changes_exactly_the_node_it_should(visit, chapter):
    page, figure, _ = visit(chapter)
    graphs = [graph_of(p) for p in config_of(figure)["panels"]]
    schedules = [stepper.schedule(g) for g in graphs]
    finals = [stepper.evaluate(g) for g in graphs]
    forward_steps = int(figure.get_attribute("data-forward-steps"))
    total = int(figure.get_attribute("data-total"))
    assert forward_steps == max(len(s[0]) for s in schedules)
    assert total == forward_steps + max(len(s[1]) for s in schedules)
    before = page.evaluate(STATE_JS, figure.element_handle())
    for panel in before:  # nothing computed yet but the inputs; no gradient anywhere
        assert all(n["grad"] == "" for n in panel["nodes"].values())
        assert not any(n["current"] for n in panel["nodes"].values())
    partial = [dict.fromkeys(g.inputs | {name: 0 for name, _, _ in g.ops}, 0.0) for g in graphs]
    for step in range(1, total + 1):
        button = ".bp-forward" if step <= forward_steps else ".bp-backward"
        figure.locator(button).click()
        assert int(figure.get_attribute("data-position")) == step
        after = page.evaluate(STATE_JS, figure.element_handle())
        for k, (graph, (fwd, bwd), (values, grads)) in enumerate(zip(graphs, schedules, finals, strict=True)):
            marks = ("current", "upstream")  # highlights, not content: compared on their own below
            changed = {n for n in after[k]["nodes"] if after[k]["nodes"][n] != {**before[k]["nodes"][n],
                       **{m: after[k]["nodes"][n][m] for m in marks}}}  # fmt: skip
            current = [n for n, s in after[k]["nodes"].items() if s["current"]]
            upstream = [n for n, s in after[k]["nodes"].items() if s["upstream"]]
            edges = {e: cls for e, cls in after[k]["edges"]}
            ops = {name: (rule, args) for name, rule, args in graph.ops}
            rule_text = after[k]["rule"]
            if step <= forward_steps:
                name = fwd[step - 1]
                assert changed == {name} and current == [name], f"{chapter} forward step {step}: {changed}"
                assert float(after[k]["nodes"][name]["value"]) == pytest.approx(values[name], rel=1e-12)
                lit = {e for e, cls in edges.items() if "bp-edge-forward" in cls}
                assert lit == {f"{a}>{name}" for a in ops[name][1]}
                assert rule_text.startswith("forward, " + ops[name][0])
            else:
                op, i = bwd[step - forward_steps - 1]
                if op == "seed":
                    target = graph.output
                    partial[k][target] = graph.seed
                    assert rule_text.startswith("seed: ")
                    assert not any("bp-edge-backward" in cls for cls in edges.values()) and upstream == []
                else:
                    rule, args = ops[op]
                    target = args[i]
                    local = stepper.RULES[rule][1](*(values[a] for a in args))[i]
                    partial[k][target] += local * grads[op]
                    assert {e for e, cls in edges.items() if "bp-edge-backward" in cls} == {f"{target}>{op}"}
                    assert rule_text.startswith(VERB[rule]), rule_text
                    assert upstream == [op], f"{chapter} step {step}: the gradient used comes from {op}"
                assert changed == {target} and current == [target], f"{chapter} backward step {step}: {changed}"
                assert float(after[k]["nodes"][target]["grad"]) == pytest.approx(partial[k][target], rel=1e-12)
        before = after
    assert figure.locator(".bp-backward").is_disabled() and figure.locator(".bp-forward").is_disabled()
    assert "done" in figure.locator(".bp-counter").inner_text()


# the glued numbers of the paragraph after each figure, and the nodes that show them, in order
GLUED = {
    "ch2": [(0, "v5", "value"), (0, "v-1", "grad"), (0, "v0", "grad")],
    "ch3": [(2, "x", "grad"), (2, "y", "grad"), (1, "z", "grad"), (1, "w", "grad"), (3, "z", "grad")],
    "ch9": [(0, "n", "value"), (0, "o", "value"), (0, "n", "grad"), (0, "w1", "grad"), (0, "x1", "grad"),
            (0, "x2", "grad"), (0, "w2", "grad"), (0, "b", "grad")],
}  # fmt: skip


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_after_run_every_gradient_is_the_chapters_and_the_glued_numbers_are_shown(visit, chapter):
    page, figure, _ = visit(chapter)
    config = config_of(figure)
    defaults = [{n["id"]: n["value"] for n in p["nodes"] if n["kind"] == "input"} for p in config["panels"]]
    run_to_the_end(page, figure)
    state = page.evaluate(STATE_JS, figure.element_handle())
    assert_matches(state, reference(chapter, defaults), chapter)
    # the paragraph right after the figure quotes glued numbers: the figure shows the same text
    glued = page.evaluate(
        """(root) => {
          let p = root.closest(".cell").nextElementSibling;
          const quotes = (q) => ["After the last step", "The forward pass ends"].some((t) => q.textContent.includes(t));
          while (p && !quotes(p))
            p = p.nextElementSibling;
          return p ? Array.from(p.querySelectorAll("span.pasted-text")).map((s) => s.textContent) : null;
        }""",
        figure.element_handle(),
    )
    assert glued, f"{chapter}: no paragraph of glued numbers after the figure"
    shown = [state[k]["nodes"][node][f"{kind}Text"] for k, node, kind in GLUED[chapter]]
    assert shown == glued[: len(shown)], f"{chapter}: the figure shows {shown}, the text says {glued}"


EDITS = {
    "ch2": [[{"v-1": 3.0, "v0": -1.5}], [{"v-1": 0.25, "v0": 0.0}]],
    "ch3": [
        # one circuit point for the three gate panels (w overtakes z; x and y swap signs), a tie moved
        [{"xy": 6.0, "m": 4.0}, {"z": 2.0, "w": 4.0}, {"x": -2.0, "y": -3.0}, {"z": -2.5, "w": -2.5}],
        # a tie in the max panel itself, made by editing; the tie panel no longer tied
        [{"xy": -1.0, "m": 1.5}, {"z": 1.5, "w": 1.5}, {"x": 0.5, "y": -2.0}, {"z": 3.0, "w": 1.0}],
    ],
    "ch9": [
        [{"x1": -1.0, "w1": 2.0, "x2": 0.5, "w2": -0.25, "b": 0.1}],
        [{"x1": 1.0, "w1": 1.0, "x2": 1.0, "w2": 1.0, "b": 6.0}],
    ],
}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_changing_an_input_recomputes_forward_and_backward(visit, chapter):
    page, figure, _ = visit(chapter)
    for _ in range(3):  # edits in the middle of the steps recompute what is shown
        figure.press("ArrowRight")
    for edit in EDITS[chapter]:
        for k, values in enumerate(edit):
            for name, value in values.items():
                figure.locator(".bp-panel").nth(k).locator(f'input[data-input="{name}"]').fill(repr(value))
        run_to_the_end(page, figure)
        state = page.evaluate(STATE_JS, figure.element_handle())
        assert_matches(state, reference(chapter, edit), chapter)
        figure.press("ArrowLeft")


def test_an_input_outside_the_domain_or_not_a_number_is_explained(visit):
    page, figure, record = visit("ch2")
    field = figure.locator('input[data-input="v-1"]')
    field.fill("-1")
    figure.press("End")
    assert "ln needs a positive number: x₁ = −1.000" in figure.locator(".bp-rule").inner_text()
    assert figure.locator('.bp-node[data-node="v5"] .bp-val').text_content() == "—"
    field.fill("")
    assert "x₁ needs a number" in figure.locator(".bp-rule").inner_text()
    assert field.get_attribute("aria-invalid") == "true"
    field.fill("2")
    assert field.get_attribute("aria-invalid") == "false"
    assert figure.locator('.bp-node[data-node="v5"] .bp-val').text_content() == "11.652"


def test_the_keyboard_works_the_figure(visit):
    page, figure, _ = visit("ch9")
    total, forward = int(figure.get_attribute("data-total")), int(figure.get_attribute("data-forward-steps"))
    position = lambda: int(figure.get_attribute("data-position"))  # noqa: E731
    figure.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert position() == 2
    page.keyboard.press("ArrowLeft")
    assert position() == 1
    page.keyboard.press("End")
    assert position() == total
    page.keyboard.press("Home")
    assert position() == 0
    # Tab reaches the real buttons; Enter and Space press them; the focus is visible
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('bp-forward')"):
            break
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    outline = page.evaluate("(s => s.outlineStyle + ' ' + s.outlineWidth)(getComputedStyle(document.activeElement))")
    assert outline.split()[0] != "none" and float(outline.split()[1].rstrip("px")) >= 2, outline
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    assert position() == 2
    for _ in range(forward - 2):
        page.keyboard.press("Enter")
    assert position() == forward
    # Forward step is now disabled: the focus moved on to Backward step, which Enter presses
    assert page.evaluate("document.activeElement.classList.contains('bp-backward')")
    page.keyboard.press("Enter")
    assert position() == forward + 1
    assert figure.locator(".bp-rule").get_attribute("aria-live") == "polite"
    assert figure.locator(".bp-rule").inner_text().startswith("seed: ∂o/∂o = 1")
    assert "Keys" in figure.locator(".bp-keys").inner_text()


GEOMETRY_JS = """
(root) => {
  const out = {problems: [], smallest: 1e9};
  const inside = (a, b, slack = 0.5) => a.left >= b.left - slack && a.right <= b.right + slack &&
                                        a.top >= b.top - slack && a.bottom <= b.bottom + slack;
  const fig = root.getBoundingClientRect();
  if (root.scrollWidth > root.clientWidth + 1)
    out.problems.push(["figure scrolls", root.scrollWidth, root.clientWidth]);
  for (const panel of root.querySelectorAll(".bp-panel")) {
    const svg = panel.querySelector("svg").getBoundingClientRect();
    if (!inside(svg, fig)) out.problems.push(["graph outside the figure"]);
    const rects = [];
    for (const g of panel.querySelectorAll(".bp-node")) {
      const box = g.querySelector("rect").getBoundingClientRect();
      if (!inside(box, svg)) out.problems.push(["node clipped", g.dataset.node]);
      for (const t of g.querySelectorAll("text")) {
        if (!t.textContent) continue;
        const r = t.getBoundingClientRect();
        const scale = svg.width / panel.querySelector("svg").viewBox.baseVal.width;
        out.smallest = Math.min(out.smallest, parseFloat(getComputedStyle(t).fontSize) * scale);
        if (!inside(r, box)) out.problems.push(["text outside its node", g.dataset.node, t.textContent]);
      }
      for (const other of rects)
        if (!(box.right <= other.left || other.right <= box.left || box.bottom <= other.top || other.bottom <= box.top))
          out.problems.push(["nodes overlap", g.dataset.node]);
      rects.push(box);
    }
    for (const el of panel.querySelectorAll(".bp-rule, .bp-inputs, .bp-inputs input"))
      if (!inside(el.getBoundingClientRect(), fig))
        out.problems.push(["outside the figure", el.className || el.dataset.input]);
  }
  for (const b of root.querySelectorAll("button"))
    if (!inside(b.getBoundingClientRect(), fig)) out.problems.push(["button outside the figure", b.textContent]);
  return out;
}
"""


@pytest.mark.parametrize("device", WIDTHS)
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_nothing_is_clipped_or_overlapping_and_text_stays_readable(visit, chapter, device):
    page, figure, _ = visit(chapter, WIDTHS[device])
    page.wait_for_load_state("networkidle")
    for stage in ("start", "end"):
        if stage == "end":
            figure.press("End")
        geometry = page.evaluate(GEOMETRY_JS, figure.element_handle())
        assert geometry["problems"] == [], f"{chapter} at {WIDTHS[device]} px ({stage}): {geometry['problems']}"
        assert geometry["smallest"] >= 11, f"{chapter} at {WIDTHS[device]} px: text {geometry['smallest']:.1f} px"
    overflow = page.evaluate(OVERFLOW_JS, [])
    assert overflow["page"] <= 0 and not [w for w in overflow["wide"] if "svg" in w[0]], overflow
    shot = ARTIFACTS / "screenshots" / "stepper" / f"{chapter}-{device}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    figure.screenshot(path=str(shot))
