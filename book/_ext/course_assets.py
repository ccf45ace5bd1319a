"""Sphinx extension of the course: page-level fixes for a clean, offline site.

- Drop duplicated inline scripts: with Sphinx 7.4 sphinx-thebe and sphinx-togglebutton add
  their configuration scripts twice per page, and the second `const THEBE_JS_URL` is a
  "has already been declared" page error in every browser.
- Launch links for every exercise notebook, built from the one repository setting of
  _config.yml (repository.url and branch, plus launch_buttons' binder, colab and JupyterHub
  addresses): a chapter writes {{ launch_01_chain_rule }} and gets "Open in Colab · Binder".
"""

from __future__ import annotations

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
    launch = theme.get("launch_buttons") or {}
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


def setup(app):
    app.connect("config-inited", _launch_links)
    app.connect("html-page-context", _dedupe_scripts, priority=900)  # after the others added theirs
    return {"parallel_read_safe": True, "parallel_write_safe": True}
