"""The form's pages wear the site's own clothes.

The site's finishing step (sitebuild/finish.py) writes formsvc-shell.html into the
finished site: a real page of the site (header, exit button, navigation, styles,
footer), made from its 404 page, with markers where the form's title and content go.
Here it becomes the Jinja template "layout.html" that every form page extends (through
``layout``, formsvc/i18n.py), so the form can never drift from the site's look: change the
site, rebuild, and the form follows. Each other language of the site has its own frame
(cy/formsvc-shell.html, in the manifest's "languages"), which the form in that language wears.

Everything else comes from the site's manifest (site-manifest.json, contract/manifest.py),
the contract between the two, never from reading the built HTML:
- the exit destination (extra.exit_url, contract/site_settings.py); the shell's
  exit links are pointed at /enquiry/exit, which also ends the form session first;
- the hashes of the shell's inline scripts and styles, so the service's CSP stays as strict;
- where the shell is, and the site's settings the form shows (reply_within,
  complaints_url), as SITE_EXTRA.
"""
from __future__ import annotations

import html
import logging
import re
from pathlib import Path

from jinja2 import ChoiceLoader, DictLoader

from contract import manifest as site_manifest

from .i18n import DEFAULT_LANGUAGE

log = logging.getLogger(__name__)

MARKERS = {
    "<!--formsvc:title-->": "{% block title %}{% endblock %}",
    "<!--formsvc:head-->": "{% block head %}{% endblock %}",
    "<!--formsvc:content-->": "{% block content %}{% endblock %}",
}
# The frame file itself is kept out of search results; the form's pages are not.
_SHELL_ONLY = re.compile(r"<meta\b[^>]*\bdata-shell-only\b[^>]*>")


class ShellInvalid(RuntimeError):
    pass


# The frame's link to each other language (sitebuild/languages.py, SWITCH_CLASS): to that language's home page.
_SWITCH = re.compile(r'<p class="lang-switch">.*?</p>', re.DOTALL)
_SWITCH_LINK = re.compile(r'<a href="[^"]*"( hreflang="([^"]+)")')


def form_switch(shell: str, forms: dict[str, str]) -> str:
    """The frame's link to each other language goes to the form in that language (forms: code -> its
    address, "/enquiry/" or "/cy/enquiry/"), not to its home page: the reader stays on the form."""
    def link(found: re.Match) -> str:
        target = forms.get(found.group(2))
        return found.group(0) if target is None else f'<a href="{html.escape(target)}"{found.group(1)}'

    return _SWITCH.sub(lambda switch: _SWITCH_LINK.sub(link, switch.group(0)), shell)


def layout_template(shell: str, exit_url: str, forms: dict[str, str] | None = None) -> str:
    """The shell as Jinja source: literal everywhere except the markers and the exit links."""
    for marker in MARKERS:
        if shell.count(marker) != 1:
            raise ShellInvalid(f"The site's shell must contain {marker} exactly once.")
    shell = form_switch(_SHELL_ONLY.sub("", shell), forms or {})
    pieces = re.split("(" + "|".join(map(re.escape, MARKERS)) + ")", shell)
    exit_attribute = re.compile(r'((?:href|data-qe-url)="' + re.escape(html.escape(exit_url)) + '")')
    source, exits = [], 0
    for piece in pieces:
        if piece in MARKERS:
            source.append(MARKERS[piece])
            continue
        # Anything Jinja-like in the built HTML stays literal.
        for part in exit_attribute.split(piece):
            if exit_attribute.fullmatch(part):
                exits += 1
                attribute = part.split("=", 1)[0]
                source.append(f"{attribute}=\"{{{{ url_for('enquiry.exit') }}}}\"")
            elif part:
                source.append("{% raw %}" + part + "{% endraw %}")
    if not exits:
        raise ShellInvalid("The site's shell has no exit link to the manifest's exit_url: rebuild the site.")
    return "".join(source)


def init_app(app) -> None:
    site_dir = Path(app.config["SITE_DIR"])
    try:
        manifest = site_manifest.read(site_dir)
        shell = (site_dir / manifest["shell"]["path"]).read_text(encoding="utf-8")
    except (OSError, ValueError, KeyError, TypeError) as error:
        # Not fatal: the delivery worker needs no site, and a plain form that
        # works is better than none. The web service's deploy builds the site.
        log.warning("No finished site at %s (%s): run `make build` and set FORMSVC_SITE_DIR. "
                    "The form uses its plain fallback layout.", site_dir, error)
        return

    exit_url = manifest["exit_url"]
    app.config["EXIT_URL"] = exit_url
    app.config["SHELL_SCRIPT_HASHES"] = list(manifest["shell"]["script_hashes"])
    app.config["SHELL_STYLE_HASHES"] = list(manifest["shell"].get("style_hashes", []))
    app.config["SITE_EXTRA"] = dict(manifest.get("extra") or {})
    languages = manifest.get("languages") or site_manifest.DEFAULT_LANGUAGES
    forms = {language.get("code"): f"/{language.get('prefix', '')}enquiry/" for language in languages}
    layouts = {"layout.html": layout_template(shell, exit_url, forms)}
    # The form in another language wears the frame of the site's pages in it (cy/formsvc-shell.html),
    # and shows the site's settings as that language's pages do (formsvc/i18n.py).
    app.extensions["layouts"] = {DEFAULT_LANGUAGE: "layout.html"}
    app.extensions["site_extra"] = {}
    for language in languages[1:]:
        code = language.get("code")
        try:
            frame = (site_dir / language["shell"]).read_text(encoding="utf-8")
        except (OSError, KeyError, TypeError) as error:
            log.warning("The site's %s frame cannot be read (%s): the form in %s uses its plain layout.",
                        code, error, code)
            continue
        layouts[f"shell/{code}.html"] = layout_template(frame, exit_url, forms)
        app.extensions["layouts"][code] = f"shell/{code}.html"
        app.extensions["site_extra"][code] = dict(language.get("extra") or {})
        # The frame's inline scripts and styles, when its language makes them differ from the default's.
        for key, hashes in (("SHELL_SCRIPT_HASHES", "script_hashes"), ("SHELL_STYLE_HASHES", "style_hashes")):
            app.config[key] += [h for h in language.get(hashes) or () if h not in app.config[key]]
    app.jinja_env.loader = ChoiceLoader([DictLoader(layouts), app.jinja_env.loader])


def site_extra(app, code: str) -> dict:
    """The site's settings as its pages in language ``code`` show them: the manifest's "extra" for
    the default language; for another, only what the manifest gives in that language (the rest are
    left out, as without a built site, rather than shown in English)."""
    if code == DEFAULT_LANGUAGE:
        return app.config["SITE_EXTRA"]
    return app.extensions.get("site_extra", {}).get(code, {})
