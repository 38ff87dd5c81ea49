"""The site's settings that readers see come from one table, contract/site_settings.py: the pages,
the manifest for the service, the content checks (tests/test_content_checks.py), EDITING.md and
the service's fallback all read it, and nothing else keeps a default or a list of them."""
from __future__ import annotations

import json
import re
from pathlib import Path

from bs4 import BeautifulSoup

from contract.manifest import MANIFEST_FILE, PASSED_THROUGH
from contract.site_settings import SITE_SETTINGS, docs_table, marker, page_html
from sitebuild import languages
from sitebuild.settings import read_config, site_values

ROOT = Path(__file__).resolve().parent.parent


def values() -> dict:
    """The settings as the real site's build fills them in (mkdocs.yml, else the defaults)."""
    return site_values(read_config(ROOT / "mkdocs.yml").get("extra"), environ={})


def test_editing_md_has_the_table():
    assert docs_table() in (ROOT / "EDITING.md").read_text(encoding="utf-8"), \
        "EDITING.md's table of settings is out of date: paste `python -m contract.site_settings`"


def test_each_value_comes_from_the_environment_then_mkdocs_yml_then_the_default():
    assert site_values({}, environ={})["reply_within"] == SITE_SETTINGS["reply_within"].default
    assert site_values({"reply_within": "5 working days"}, environ={})["reply_within"] == "5 working days"
    assert site_values({"reply_within": ""}, environ={})["reply_within"] == ""  # set empty: shown nowhere
    assert site_values({"exit_url": "https://a.example/"}, environ={"EXIT_URL": "https://b.example/"})[
        "exit_url"] == "https://b.example/"
    assert site_values({"scope": "/"}, environ={})["scope"] == "/"  # the theme's own extra is kept


def test_a_pages_marker_becomes_its_html_with_the_value_escaped():
    shown = {s["marker"]: s["html"] for s in site_values({"reply_within": "5 <b>days</b>"}, environ={})["shown_settings"]}
    # ...and each part of a fact that is a mapping, for a sentence of the page's own (Easy Read pages).
    parts = {marker(f"victim_support.{part}") for part in ("phone", "when", "web")}
    assert set(shown) == {marker(name) for name, s in SITE_SETTINGS.items() if s.on_pages} | parts
    assert shown[marker("victim_support.phone")] == '<a href="tel:08081689111">08 08 16 89 111</a>'
    assert shown[marker("victim_support.web")] == '<a href="https://www.victimsupport.org.uk/">victimsupport.org.uk</a>'
    assert shown[marker("reply_within")] == \
        '<p class="site-setting">We aim to reply within <strong>5 &lt;b&gt;days&lt;/b&gt;</strong>.</p>'
    assert page_html("reply_within", "") == ""  # set empty: shown nowhere
    # Empty, the complaints link would go nowhere we know: the page asks readers to ask us instead.
    unset = BeautifulSoup(page_html("complaints_url", ""), "html.parser")
    assert "Ask us how to make a complaint" in unset.get_text()
    assert [a["href"] for a in unset.select("a")] == ["/enquiry/"]
    # A mapping or a list becomes its HTML, every value escaped.
    lines = BeautifulSoup(page_html("domestic_abuse_lines", [{"name": "<i>x</i>", "phone": "0808 1", "text": "07 2"}]),
                          "html.parser")
    assert lines.select_one("ul.site-lines li strong").get_text() == "Call <i>x</i> on 0808 1, or text 07 2."
    assert [a["href"] for a in lines.select("a")] == ["tel:08081", "sms:072"]


def test_the_template_names_no_setting():
    template = (ROOT / "overrides" / "partials" / "site-settings.html").read_text(encoding="utf-8")
    code = re.sub(r"\{#.*?#\}", "", template, flags=re.S)
    assert not [name for name in SITE_SETTINGS if name in code]


def test_every_marked_setting_is_on_a_page_and_the_built_page_shows_it(built_site):
    for name, setting in SITE_SETTINGS.items():
        if not setting.on_pages:
            continue
        pages = [p for p in (ROOT / "site_content").rglob("*.md") if marker(name) in p.read_text(encoding="utf-8")]
        assert pages, f"no page in site_content/ shows {name}"
        for page in pages:
            stem = page.relative_to(ROOT / "site_content").with_suffix("").as_posix()
            built = (built_site / stem.removesuffix("index") / "index.html").read_text(encoding="utf-8")
            assert marker(name) not in built
            # The first element of what the marker becomes (a p.site-setting, or a mapping's or list's box),
            # in the page's language (a Welsh page: its words around the value, sitebuild/languages.py).
            language = languages.split(stem, languages.read(values()))[0]
            shown = page_html(name, values()[name]) if language.default else {
                s["marker"]: s["html"] for s in languages.shown_settings(values(), language, language.row)}[marker(name)]
            expected = BeautifulSoup(shown, "html.parser").find()
            assert expected is not None, (stem, name, "shows nothing in this language")
            assert expected in BeautifulSoup(built, "html.parser").select(f"article {expected.name}"), (page.name, name)


def test_the_manifest_passes_on_what_the_form_shows(built_site):
    manifest = json.loads((built_site / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert PASSED_THROUGH == tuple(name for name, s in SITE_SETTINGS.items() if s.form_shows)
    assert manifest["extra"] == {name: values()[name] for name in PASSED_THROUGH}


def test_the_exit_url_has_one_default():
    from formsvc.config import DEFAULTS

    default = SITE_SETTINGS["exit_url"].default
    assert DEFAULTS["EXIT_URL"].default == default  # the service's fallback, taken from the table
    assert "exit_url" not in (read_config(ROOT / "mkdocs.yml").get("extra") or {})
    written = [p.relative_to(ROOT).as_posix() for folder in ("contract", "sitebuild", "formsvc", "mkdocs_adapter",
                                                              "overrides", "components")
               for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in {".py", ".html", ".js", ".yml"}
               and default in p.read_text(encoding="utf-8")]
    assert written == ["contract/site_settings.py"]
