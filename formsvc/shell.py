"""The form's pages wear the site's own clothes.

MkDocs renders overrides/formsvc-shell.html into the built site as
formsvc-shell.html: a real page of the site (header, exit button, navigation,
styles, footer) with markers where the form's title and content go. Here it
becomes the Jinja template "layout.html" that every form page extends, so the
form can never drift from the site's look: change the site, rebuild, and the
form follows.

From the same build we take:
- the exit destination (mkdocs.yml extra.exit_url, the one place it is set),
  and point the shell's exit links at /enquiry/exit, which also ends the form
  session before sending the reader on;
- the script hashes of the site's Content-Security-Policy (_headers), which
  cover the shell's inline scripts, so the service's CSP stays as strict.
"""
from __future__ import annotations

import html
import logging
import re
from pathlib import Path

from jinja2 import ChoiceLoader, DictLoader

log = logging.getLogger(__name__)

SHELL_FILE = "formsvc-shell.html"
MARKERS = {
    "<!--formsvc:title-->": "{% block title %}{% endblock %}",
    "<!--formsvc:head-->": "{% block head %}{% endblock %}",
    "<!--formsvc:content-->": "{% block content %}{% endblock %}",
}
_EXIT_LINK = re.compile(r'<a\b[^>]*class="qe-button"[^>]*>')
_HREF = re.compile(r'href="([^"]*)"')
_HASH = re.compile(r"'sha(?:256|384|512)-[A-Za-z0-9+/]+={0,2}'")


class ShellInvalid(RuntimeError):
    pass


def exit_url_of(shell: str) -> str:
    link = _EXIT_LINK.search(shell)
    if not link:
        raise ShellInvalid("The site's shell has no exit button (a.qe-button).")
    return html.unescape(_HREF.search(link.group(0)).group(1))


def layout_template(shell: str, exit_url: str) -> str:
    """The shell as Jinja source: literal everywhere except the markers and the exit links."""
    for marker in MARKERS:
        if shell.count(marker) != 1:
            raise ShellInvalid(f"The site's shell must contain {marker} exactly once.")
    pieces = re.split("(" + "|".join(map(re.escape, MARKERS)) + ")", shell)
    source = []
    for piece in pieces:
        if piece in MARKERS:
            source.append(MARKERS[piece])
            continue
        # Anything Jinja-like in the built HTML stays literal.
        for part in re.split(r'((?:href|data-qe-url)="' + re.escape(html.escape(exit_url)) + '")', piece):
            if part.startswith(("href=", "data-qe-url=")):
                attribute = part.split("=", 1)[0]
                source.append(f"{attribute}=\"{{{{ url_for('enquiry.exit') }}}}\"")
            elif part:
                source.append("{% raw %}" + part + "{% endraw %}")
    return "".join(source)


def script_hashes(site_dir: Path) -> list[str]:
    """The script hashes in the CSP that hooks/netlify_files.py wrote into _headers."""
    headers = site_dir / "_headers"
    text = headers.read_text(encoding="utf-8") if headers.exists() else ""
    policy = re.search(r"^\s+Content-Security-Policy:(.*)$", text, re.MULTILINE)
    return _HASH.findall(policy.group(1)) if policy else []


def init_app(app) -> None:
    site_dir = Path(app.config["SITE_DIR"])
    shell_path = site_dir / SHELL_FILE
    if not shell_path.exists():
        # Not fatal: the delivery worker needs no site, and a plain form that
        # works is better than none. The web service's deploy builds the site.
        log.warning("No built site at %s (missing %s): run `mkdocs build` and set FORMSVC_SITE_DIR. "
                    "The form uses its plain fallback layout.", site_dir, SHELL_FILE)
        return

    shell = shell_path.read_text(encoding="utf-8")
    exit_url = exit_url_of(shell)
    app.config["EXIT_URL"] = exit_url
    app.config["SHELL_SCRIPT_HASHES"] = script_hashes(site_dir)
    app.jinja_env.loader = ChoiceLoader([
        DictLoader({"layout.html": layout_template(shell, exit_url)}),
        app.jinja_env.loader,
    ])
