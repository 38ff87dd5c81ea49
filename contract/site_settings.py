"""The site's settings that readers see: one table, read by everything that needs them.

A setting is given under ``extra:`` in mkdocs.yml (or by its environment variable, which wins);
unset, it has the default below. Read from this table, and from nowhere else:
- the pipeline (sitebuild/settings.py) gives each page template the values, and the HTML a page's
  marker line (``<!-- extra.reply_within -->``) becomes (overrides/partials/site-settings.html);
- the content checks warn while a placeholder is unchanged (sitebuild/content_checks/placeholders.py);
- the manifest passes on the ones the form shows (contract/manifest.py; formsvc/shell.py);
- the service falls back on exit_url's default when no site is built (formsvc/config.py);
- EDITING.md's table is ``python -m contract.site_settings`` (tests/test_site_settings.py checks).
"""
from __future__ import annotations

import html
from typing import NamedTuple


class SiteSetting(NamedTuple):
    default: str
    meaning: str  # for comms staff: EDITING.md's table is made from it
    example: str  # a real value, for the checks' advice and the docs
    shown: str  # where readers see it
    # The default only reads well: the content checks warn until someone sets a real value.
    placeholder: bool = False
    env: str | None = None  # an environment variable that wins over mkdocs.yml (deploys, tests)
    # What a page's marker line becomes, {value} escaped; None: not shown on pages by a marker.
    on_pages: str | None = None
    form_shows: bool = False  # passed to the enquiry service in site-manifest.json "extra"
    # Only warned about while the site has pages in more than one language (extra.languages).
    translations: bool = False


SITE_SETTINGS: dict[str, SiteSetting] = {
    "exit_url": SiteSetting(
        "https://www.bbc.co.uk/weather",
        "Where \"Exit this page\" goes: a neutral website that does not know who the reader is, starting "
        "with https://. Ask a developer before changing it",
        "https://www.bbc.co.uk/weather",
        "Every page, and the enquiry form",
        env="EXIT_URL"),
    "reply_within": SiteSetting(
        "a few working days",
        "How soon the hub replies, as the words after \"We aim to reply within\"",
        "5 working days",
        "The Email us page, and the form's \"Message sent\" page",
        placeholder=True,
        on_pages='<p class="site-setting">We aim to reply within <strong>{value}</strong>.</p>',
        form_shows=True),
    "complaints_url": SiteSetting(
        "https://www.police.uk/",
        "The web address of our police force's page on how to make a complaint, starting with https://",
        "https://www.our-force.police.uk/complaints",
        "The How to complain page, as the link \"Make a complaint to our police force\"",
        placeholder=True,
        on_pages='<p class="site-setting"><a href="{value}">Make a complaint to our police force</a></p>',
        form_shows=True),
    "translations_checked_by": SiteSetting(
        "nobody yet",
        "Who checked the pages in languages other than English, and when: a qualified translator (for Welsh, "
        "one the Welsh Language Standards accept), by name or company, with the date. A force must have its "
        "translations checked before they go live",
        "Welsh: Cwmni Cyfieithu Cyf, 2027-01-15",
        "Nowhere: a record for the site's owners",
        placeholder=True,
        translations=True),
}


def marker(name: str) -> str:
    """The line a page's Markdown has where the setting shows."""
    return f"<!-- extra.{name} -->"


def page_html(name: str, value) -> str:
    """What the marker of ``name`` becomes on a page: nothing when the setting is empty."""
    template = SITE_SETTINGS[name].on_pages
    if not template or value in (None, ""):
        return ""
    return template.format(value=html.escape(str(value), quote=True))


def docs_table() -> str:
    """EDITING.md's table of these settings, in Markdown."""
    rows = ["| Setting | What it is | Until it is set | Where it shows |", "|---|---|---|---|"]
    for name, setting in SITE_SETTINGS.items():
        until = (f"`{setting.default}`, a placeholder: the checks warn" if setting.placeholder
                 else f"`{setting.default}`")
        rows.append(f"| `{name}` | {setting.meaning} | {until} | {setting.shown} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(docs_table(), end="")
