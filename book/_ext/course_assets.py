"""Sphinx extension of the course: page-level fixes for a clean, offline site.

- Drop duplicated inline scripts: with Sphinx 7.4 sphinx-thebe and sphinx-togglebutton add
  their configuration scripts twice per page, and the second `const THEBE_JS_URL` is a
  "has already been declared" page error in every browser.
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)  # after the others added theirs
    return {"parallel_read_safe": True, "parallel_write_safe": True}
