"""The grader's layout (issue 27): its imports point down, never in a circle.

The layers of `autograder/`, from the top (autograder/README.md draws them):

    cli.py, __main__.py       the command line
    steps/                    one module per command (release, collect, grade, ...)
    engine/                   grades one notebook in two processes (the sandboxed code in engine/sandboxed/)
    records/                  course paths, the gradebook's tables, deadlines

A module may import its own layer and the layers below it, never one above. Two more rules:
the engine reads records (paths, status names) but never imports their writer
(`records.gradebook`), and no module imports another module's private name (`_x`) from another
subpackage or from a sibling step (grade and cluster share `engine.submission`, in the open).
The code that runs inside the sandboxes imports its siblings as top-level modules (`import wire`,
as it sees them at /sandbox); those imports are resolved within its folder.

The checker is tested on small fake packages first, so that it can fail.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autograder"
LAYERS = ["", "steps", "engine", "records"]  # top to bottom; "" is the package's own top (cli, __main__)
SANDBOXED = "engine/sandboxed"  # run at /sandbox: top-level imports of its siblings
FORBIDDEN = {"engine": ["records.gradebook"]}  # a lower layer's module that a layer must not import
MODULE_LIMIT = 400  # lines ("about 400": a module may pass it by a tenth)
CLASS_LIMIT = 150


@dataclass(frozen=True)
class Edge:
    source: str  # dotted module names inside the package, without the package's own name
    target: str
    names: tuple[str, ...]  # names imported from it (from X import a, b)
    line: int


def modules(package: Path) -> dict[str, Path]:
    """Dotted name (within the package) -> file, for every module of the package."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(package: Path, sandboxed: str | None = SANDBOXED) -> list[Edge]:
    """Every import of one of the package's modules by another (module level and inside functions)."""
    known = modules(package)
    name = package.name
    edges = []
    for source, path in known.items():
        is_package = path.name == "__init__.py"
        here = source.split(".") if source else []
        base = here if is_package else here[:-1]
        in_sandbox = sandboxed is not None and path.parent == package / sandboxed
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[tuple[str, tuple[str, ...]]] = []
            if isinstance(node, ast.Import):
                for alias in node.names:
                    targets.append((alias.name, ()))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = base[: len(base) - node.level + 1] if node.level > 1 else base
                    dotted = ".".join([name, *anchor, *([node.module] if node.module else [])])
                else:
                    dotted = node.module or ""
                targets.append((dotted, tuple(a.name for a in node.names)))
            for dotted, names in targets:
                inner = _inner(dotted, name, known, sandboxed if in_sandbox else None)
                if inner is None:
                    continue
                # `from autograder.engine import sandbox`: the submodule is the target
                for imported in names or ("",):
                    target = f"{inner}.{imported}".strip(".") if f"{inner}.{imported}".strip(".") in known else inner
                    if target != source:
                        edges.append(Edge(source, target, (imported,) if imported else (), node.lineno))
    return edges


def _inner(dotted: str, package: str, known: dict, sandboxed: str | None) -> str | None:
    if dotted == package:
        return ""
    if dotted.startswith(package + "."):
        return dotted[len(package) + 1 :]
    if sandboxed is not None:  # a top-level import inside the sandboxed folder: a sibling?
        sibling = f"{sandboxed.replace('/', '.')}.{dotted}"
        if sibling in known:
            return sibling
    return None


def layer(module: str) -> str:
    top = module.split(".")[0]
    return top if top in LAYERS else ""


def upward(edges: list[Edge]) -> list[str]:
    problems = []
    for edge in edges:
        source, target = layer(edge.source), layer(edge.target)
        if edge.target == "":  # the package itself (its docstring, __version__ of nbgrader)
            if source != "":
                problems.append(f"{edge.source}:{edge.line} imports the package's top ({edge.target or 'autograder'})")
            continue
        if LAYERS.index(target) < LAYERS.index(source):
            problems.append(f"{edge.source}:{edge.line} imports {edge.target}, a layer above it")
        for below in FORBIDDEN.get(source, []):
            if edge.target == below or edge.target.startswith(below + "."):
                problems.append(f"{edge.source}:{edge.line} imports {edge.target}, which its layer must not")
    return problems


def private_names(edges: list[Edge]) -> list[str]:
    """Private names taken from a module of another subpackage, or from a sibling step."""
    problems = []
    for edge in edges:
        for imported in edge.names:
            if not imported.startswith("_"):
                continue
            same_package = edge.source.rsplit(".", 1)[0] == edge.target.rsplit(".", 1)[0]
            if not same_package or layer(edge.source) == "steps":
                problems.append(f"{edge.source}:{edge.line} takes {imported} from {edge.target}")
    return problems


def cycles(edges: list[Edge]) -> list[list[str]]:
    """Every strongly connected set of modules larger than one (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def oversized(package: Path) -> list[str]:
    problems = []
    for name, path in modules(package).items():
        text = path.read_text()
        lines = len(text.splitlines())
        if lines > MODULE_LIMIT * 1.1:
            problems.append(f"{name or '__init__'}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                size = node.end_lineno - node.lineno + 1
                if size > CLASS_LIMIT * 1.1:
                    problems.append(f"{name}.{node.name}: a class of {size} lines")
    return problems


# ---------------------------------------------------------------------------------------------
# The checker on fake packages: it must be able to fail


def _fake(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "autograder"
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {p.parent for p in package.rglob("*.py")}:
        if folder != package / SANDBOXED:
            (folder / "__init__.py").touch()
    return package


def test_the_checker_finds_a_circle(tmp_path):
    package = _fake(tmp_path, {
        "steps/grade.py": "from autograder.steps.cluster import grade_on_dask\n",
        "steps/cluster.py": "def f():\n    from autograder.steps import grade\n",
        "steps/report.py": "from .grade import x\n",
    })  # fmt: skip
    assert cycles(imports(package)) == [["steps.cluster", "steps.grade"]]


def test_the_checker_finds_upward_and_forbidden_imports(tmp_path):
    package = _fake(tmp_path, {
        "cli.py": "from autograder.steps import grade\n",
        "steps/grade.py": "from autograder.engine.submission import grade_submission\n",
        "engine/submission.py": "from autograder.records.statuses import FAILED\n",
        "engine/autograde.py": "def f():\n    from autograder.steps.grade import grade\n",
        "engine/lazy.py": "from autograder.records import gradebook\n",
        "records/course.py": "from ..engine import sandbox\n",
        "records/gradebook.py": "import autograder.cli\n",
        "records/statuses.py": "",
        "engine/sandbox.py": "",
    })  # fmt: skip
    found = upward(imports(package))
    assert {p.split(":")[0] for p in found} == {"engine.autograde", "engine.lazy", "records.course",
                                                  "records.gradebook"}  # fmt: skip
    assert any("must not" in p for p in found if p.startswith("engine.lazy"))


def test_the_checker_resolves_the_sandboxed_folders_top_level_imports(tmp_path):
    package = _fake(tmp_path, {
        f"{SANDBOXED}/wire.py": "import json\n",
        f"{SANDBOXED}/judge.py": "import wire\nimport judge_link\n",
        f"{SANDBOXED}/judge_link.py": "import judge\n",
        "steps/check.py": "import wire\n",  # outside the folder: another package's wire, not ours
    })  # fmt: skip
    edges = imports(package)
    assert {(e.source, e.target) for e in edges} == {
        ("engine.sandboxed.judge", "engine.sandboxed.wire"),
        ("engine.sandboxed.judge", "engine.sandboxed.judge_link"),
        ("engine.sandboxed.judge_link", "engine.sandboxed.judge"),
    }
    assert cycles(edges) == [["engine.sandboxed.judge", "engine.sandboxed.judge_link"]]


def test_the_checker_finds_private_names_and_big_classes(tmp_path):
    package = _fake(tmp_path, {
        "steps/cluster.py": "from autograder.steps.grade import _grade_in_worker\n",
        "steps/grade.py": "class Big:\n" + "    x = 1\n" * 200,
        "engine/autograde.py": "from autograder.engine.preprocessors import _plain_python\n",
        "engine/preprocessors.py": "",
    })  # fmt: skip
    assert private_names(imports(package)) == ["steps.cluster:1 takes _grade_in_worker from steps.grade"]
    assert oversized(package) == ["steps.grade.Big: a class of 201 lines"]


# ---------------------------------------------------------------------------------------------
# The real package


@pytest.fixture(scope="module")
def edges():
    found = imports(PACKAGE)
    assert len(found) > 40, "the checker found almost no imports: it no longer reads this package"
    return found


def test_the_folders_are_the_layers():
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(LAYERS[1:])
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "cli.py", "nbgrader_config.py"]


def test_no_import_circle(edges):
    assert cycles(edges) == []


def test_no_upward_import(edges):
    assert upward(edges) == []


def test_no_private_name_taken_across_modules(edges):
    assert private_names(edges) == []


def test_modules_and_classes_stay_small():
    assert oversized(PACKAGE) == []


def test_every_command_is_a_step_that_opens_with_one_sentence_and_takes_a_course():
    """Where a new command goes: steps/<command>.py, named as the command-line calls it."""
    cli = ast.parse((PACKAGE / "cli.py").read_text())
    (table,) = [n.value for n in cli.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "STEPS"]
    commands = [key.value for key in table.keys]
    assert len(commands) >= 10
    for command in commands:
        path = PACKAGE / "steps" / f"{command}.py"
        assert path.is_file(), f"the command {command} has no module steps/{command}.py"
        tree = ast.parse(path.read_text())
        doc = ast.get_docstring(tree)
        assert doc and doc.split("\n\n")[0].rstrip().endswith((".", ":")), f"{path.name}: no opening sentence"
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]
        takes_course = [f.name for f in functions if f.args.args and f.args.args[0].arg == "course"]
        assert takes_course, f"{path.name}: no public function that takes the Course"
