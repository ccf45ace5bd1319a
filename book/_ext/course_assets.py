"""Sphinx extension of the course: page-level fixes for a clean, offline site.

- Drop duplicated inline scripts: with Sphinx 7.4 sphinx-thebe and sphinx-togglebutton add
  their configuration scripts twice per page, and the second `const THEBE_JS_URL` is a
  "has already been declared" page error in every browser.
- Launch links for every exercise notebook, built from the one repository setting of
  _config.yml (repository.url and branch, plus launch_buttons' binder, colab and JupyterHub
  addresses under `course_launch`): a chapter writes {{ launch_01_chain_rule }} and gets
  "Open in Colab · Binder", pointing at the .ipynb (the theme's header buttons are off: they
  would open the chapter's .md).
- A copy of the favicon at the site root: browsers request /favicon.ico whatever the page says.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from urllib.parse import quote


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files", [])
    seen, unique = set(), []
    for script in scripts:
        # an inline script is filename None or "" depending on who added it
        key = (getattr(script, "filename", None) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: the builder and other handlers hold the same list


def _launch_links(app, config):
    theme = config.html_theme_options or {}
    repo = (theme.get("repository_url") or "").rstrip("/")
    branch = theme.get("repository_branch") or "main"
    launch = config.course_launch or {}
    owner_repo = repo.split("github.com/")[-1] if "github.com/" in repo else ""
    exercises = Path(app.srcdir) / "exercises"
    for notebook in sorted(exercises.glob("*/*.ipynb")):
        path = notebook.relative_to(app.srcdir).as_posix()
        links = []
        if launch.get("colab_url") and owner_repo:
            links.append(f"[Open in Colab]({launch['colab_url'].rstrip('/')}/github/{owner_repo}/blob/{branch}/{path})")
        if launch.get("binderhub_url") and owner_repo:
            links.append(
                f"[Open on Binder]({launch['binderhub_url'].rstrip('/')}/v2/gh/{owner_repo}/{branch}"
                f"?labpath={quote(path, safe='')})"
            )
        if launch.get("jupyterhub_url") and owner_repo:
            repo_name = owner_repo.split("/")[-1]
            links.append(
                f"[Open on JupyterHub]({launch['jupyterhub_url'].rstrip('/')}/hub/user-redirect/git-pull"
                f"?repo={quote(repo, safe='')}&branch={branch}&urlpath=lab/tree/{repo_name}/{path})"
            )
        key = "launch_" + notebook.parent.name.replace("-", "_")
        text = " · ".join(links) or "(no launch service configured)"
        config.myst_substitutions = {**(config.myst_substitutions or {}), key: text}


class _DropConfigDump(logging.Filter):
    """myst-parser and myst-nb log their whole configuration (1.5 kB) at the start of every
    build; a maintainer scanning the log for warnings has to read past it. Info only: a
    warning from the same loggers still passes."""

    def filter(self, record):
        return not (record.levelno == logging.INFO and "ParserConfig(" in record.getMessage())


def _quiet_config_dumps():
    for name in ("sphinx.myst_parser.sphinx_ext.main", "sphinx.myst_nb.sphinx_ext"):
        logging.getLogger(name).addFilter(_DropConfigDump())


def _favicon_at_root(app, exception):
    """Browsers ask for /favicon.ico when a page names none (the root index.html redirect)."""
    icon = app.config.html_favicon
    if exception is None and app.builder.format == "html" and icon:
        shutil.copyfile(Path(app.srcdir) / icon, Path(app.outdir) / "favicon.ico")


def setup(app):
    _quiet_config_dumps()
    app.connect("build-finished", _favicon_at_root)
    app.add_config_value("course_launch", {}, "env")
    app.connect("config-inited", _launch_links)
    app.connect("html-page-context", _dedupe_scripts, priority=900)  # after the others added theirs
    return {"parallel_read_safe": True, "parallel_write_safe": True}
