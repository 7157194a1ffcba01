"""A fix to the website's pages that Jupyter Book 1 has no setting for (loaded in _config.yml)."""


def drop_repeated_scripts(app, pagename, templatename, context, doctree):
    """Keep each <script> once: with Sphinx 7, the inline scripts of sphinx-thebe and
    sphinx-togglebutton come twice (once with filename None, once with ''), and the second
    `const THEBE_JS_URL = ...` is a JavaScript error on every page."""
    seen, unique = set(), []
    for js in context.get("script_files", []):
        key = (getattr(js, "filename", js) or "", sorted(getattr(js, "attributes", {}).items()))
        if repr(key) not in seen:
            seen.add(repr(key))
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
