"""Sphinx extension: a "Work on it here" page per exercise, where Python runs in the browser.

For every release notebook `exercises/<id>/<id>.ipynb` present at build time, the site gets
`book/<id>/exercise.html` (the chapter's folder): the notebook's cells in order, the text rendered
(math typeset by the site's MathJax), the answer cells in a code editor, the locked cells
(grading helpers, visible tests) read-only with Run buttons. The page's script
(`_static/exercise/exercise-page.js`) runs the cells in a Web Worker with Pyodide, vendored in
`book/_vendor/pyodide` (nothing of it is requested before the first Run), keeps the student's
answers in localStorage and downloads the release with them as an .ipynb for hand-in.

The page carries only what the release carries: it is made from `exercises/`, never from
`solutions/` (tests/test_site.py and tests/test_exercise_pages.py check the page and its data).

A chapter links its page with {{ work_01_chain_rule }} (a substitution defined here).
Every build also checks that the vendored runtime is the pinned one
(tools/vendor_browser_runtime.py check): a changed or missing file fails the build.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
from pathlib import Path

from markdown_it import MarkdownIt
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from sphinx.errors import ExtensionError

HERE = Path(__file__).resolve().parent
STATIC = HERE / "exercise_static"
PAGE = "exercise"  # book/<id>/exercise.html
LINK_TEXT = "Work on it here, in your browser"


def _exercises(srcdir: Path) -> list[Path]:
    return sorted(p for p in (srcdir / "exercises").glob("*/*.ipynb") if p.stem == p.parent.name)


def pagename(assignment: str) -> str:
    return f"book/{assignment}/{PAGE}"


# --- Markdown of the release, rendered as Sphinx renders MyST (math as MathJax reads it) ---------


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(dollarmath_plugin, double_inline=True).use(amsmath_plugin)
    esc = html.escape

    def inline(self, tokens, idx, options, env):
        return f'<span class="math notranslate nohighlight">\\({esc(tokens[idx].content, quote=False)}\\)</span>'

    def display(self, tokens, idx, options, env):
        return f'<div class="math notranslate nohighlight">\\[{esc(tokens[idx].content, quote=False)}\\]</div>\n'

    for rule in ("math_inline", "math_inline_double"):
        md.add_render_rule(rule, inline)
    for rule in ("math_block", "math_block_label", "amsmath"):
        md.add_render_rule(rule, display)
    md.add_render_rule("table_open", lambda *a: '<div class="pst-scrollable-table-container"><table class="table">\n')
    md.add_render_rule("table_close", lambda *a: "</table></div>\n")
    return md


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _kind(cell) -> str:
    """markdown, helpers (locked code that is no test), test, answer (a solution cell), code (other unlocked code)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell["cell_type"] != "code":
        return "markdown"
    if meta.get("grade"):
        return "test"
    if meta.get("solution"):
        return "answer"
    if meta.get("locked"):
        return "helpers"
    return "code"


LABELS = {"helpers": "Locked (read-only)", "test": "Visible test (read-only)", "answer": "Your answer", "code": "Code"}


def page_body(notebook: dict, assignment: str, highlight) -> tuple[str, str]:
    """The page's HTML body and title for one release notebook."""
    md = _markdown()
    title, cells = assignment, []
    for index, cell in enumerate(notebook["cells"]):
        kind, text = _kind(cell), _source(cell)
        cell_id = html.escape(cell.get("id") or f"cell-{index}")
        if kind == "markdown":
            if index == 0 and text.lstrip().startswith("# "):
                title = text.lstrip()[2:].splitlines()[0].strip()
            cells.append(f'<div class="bp-cell bp-markdown" data-cell-id="{cell_id}">{md.render(text)}</div>')
            continue
        points = cell.get("metadata", {}).get("nbgrader", {}).get("points")
        label = LABELS[kind] + (f" · {points:g} point{'s' if points != 1 else ''}" if kind == "test" and points else "")
        if kind in ("answer", "code"):
            shown = f'<div class="bp-editor"><pre class="bp-plain">{html.escape(text)}</pre></div>'
        elif kind == "helpers":  # long and not for reading: folded, as in the chapters' hidden cells
            lines = text.count("\n") + 1
            shown = (
                f'<details class="bp-fold"><summary>Show the code ({lines} lines)</summary>{highlight(text)}</details>'
            )
        else:
            shown = highlight(text)
        cells.append(
            f'<div class="bp-cell bp-code bp-{kind}" data-cell-id="{cell_id}" data-kind="{kind}" data-index="{index}">'
            f'<div class="bp-cell-head"><span class="bp-label">{label}</span>'
            f'<button type="button" class="bp-run-cell" disabled>Run</button></div>'
            f'{shown}<div class="bp-output" aria-live="polite"></div></div>'
        )
    data = json.dumps(notebook, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    toolbar = (
        '<div class="bp-toolbar" role="toolbar" aria-label="Notebook">'
        '<button type="button" class="bp-run-all" disabled>Run all</button>'
        '<button type="button" class="bp-stop" disabled>Stop</button>'
        '<button type="button" class="bp-reset" disabled>Reset</button>'
        '<button type="button" class="bp-download" disabled>Download notebook</button>'
        '<span class="bp-status" role="status">Python is not loaded yet: it starts (about 17 MB, once) '
        "when you first press Run.</span></div>"
    )
    intro = (
        '<p class="bp-about">This page runs the exercise notebook in your browser: nothing to install, '
        "no account, and your code never leaves this computer. Your answers are kept in this browser "
        f"as you type. When you are done, press <em>Download notebook</em> and hand in "
        f"<code>{html.escape(assignment)}.ipynb</code>: it is graded exactly like the notebook from Jupyter. "
        '<span class="bp-noscript">This page needs JavaScript; without it, download the notebook from '
        "the chapter and use Jupyter.</span></p>"
    )
    head = ""
    if cells and cells[0].startswith('<div class="bp-cell bp-markdown"'):  # the title first, then the tools
        head, cells = cells[0], cells[1:]
    body = (
        f'<section class="bp-notebook" id="exercise-notebook" data-assignment="{html.escape(assignment)}">'
        f"{head}{intro}{toolbar}{''.join(cells)}"
        f'<script type="application/json" id="bp-release">{data}</script>'
        '<p class="bp-credits">Python on this page is <a href="../../_static/pyodide/THIRD-PARTY-NOTICES.txt">Pyodide '
        "(MPL-2.0) with numpy (BSD-3-Clause)</a>; the editor is "
        '<a href="../../_static/codemirror/LICENSES.txt">CodeMirror (MIT)</a>. All are served from this site.</p>'
        "</section>"
    )
    return body, title


# --- Sphinx hooks -------------------------------------------------------------------------------


def _check_runtime(app):
    spec = importlib.util.spec_from_file_location(
        "vendor_browser_runtime", Path(app.srcdir) / "tools" / "vendor_browser_runtime.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    problems = module.check()
    if problems:
        raise ExtensionError(
            "the vendored browser runtime is not the pinned one: "
            + "; ".join(problems)
            + ". Restore it from git or run: python tools/vendor_browser_runtime.py pyodide"
        )


def _config_inited(app, config):
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    subs = dict(config.myst_substitutions or {})
    for notebook in _exercises(Path(app.srcdir)):
        key = "work_" + notebook.parent.name.replace("-", "_")
        subs[key] = f'<a class="bp-work-link reference internal" href="{PAGE}.html">{LINK_TEXT}</a>'
    config.myst_substitutions = subs


def _collect_pages(app):
    if app.builder.format != "html":
        return
    _check_runtime(app)
    highlighter = app.builder.highlighter
    math = app.env.get_domain("math")
    for path in _exercises(Path(app.srcdir)):
        assignment = path.parent.name
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ExtensionError(f"{path}: not a readable notebook ({error}); regenerate it: make release") from None
        body, title = page_body(notebook, assignment, lambda text: highlighter.highlight_block(text, "python"))
        name = pagename(assignment)
        math.data["has_equations"][name] = True  # so that sphinx.ext.mathjax adds MathJax to the page
        yield name, {"title": f"{title} (in your browser)", "body": body, "display_toc": False}, "page.html"


def _page_assets(app, pagename_, templatename, context, doctree):
    if pagename_.startswith("book/") and pagename_.endswith("/" + PAGE) and doctree is None:
        app.builder.add_css_file("exercise/exercise-page.css")
        app.builder.add_js_file("codemirror/codemirror.js")
        app.builder.add_js_file("exercise/exercise-page.js", defer="defer")


# The theme's fontawesome.js (1.5 MB) turns <i class="fa-..."> into SVG; its CSS already draws
# the same icons with the web font, so an exercise page, whose Python is large enough, goes without.
_FONTAWESOME_JS = re.compile(r'\s*<script defer src="(?:\.\./)*_static/scripts/fontawesome\.js[^"]*"></script>')


def _trim_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in _exercises(Path(app.srcdir)):
        page = Path(app.outdir) / f"{pagename(path.parent.name)}.html"
        if page.is_file():
            text = page.read_text(encoding="utf-8")
            trimmed = _FONTAWESOME_JS.sub("", text, count=1)
            if trimmed != text:
                page.write_text(trimmed, encoding="utf-8")


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("html-collect-pages", _collect_pages)
    app.connect("html-page-context", _page_assets)
    app.connect("build-finished", _trim_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
