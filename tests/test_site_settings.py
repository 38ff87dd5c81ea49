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
from sitebuild.content_checks.placeholders import check_setting_placeholders
from sitebuild.settings import read_config, site_values

ROOT = Path(__file__).resolve().parent.parent
ENGLISH = languages.words("en")


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
    assert page_html("reply_within", "", ENGLISH) == ""  # set empty: shown nowhere
    # Empty, the complaints link would go nowhere we know: the page asks readers to ask us instead.
    unset = BeautifulSoup(page_html("complaints_url", "", ENGLISH), "html.parser")
    assert "Ask us how to make a complaint" in unset.get_text()
    assert [a["href"] for a in unset.select("a")] == ["/enquiry/"]
    # A mapping or a list becomes its HTML, every value escaped.
    lines = BeautifulSoup(page_html("domestic_abuse_lines", [{"name": "<i>x</i>", "phone": "0808 1", "text": "07 2"}], ENGLISH),
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
            # The first element of what the marker becomes in the page's language (a p.site-setting,
            # or a mapping's or list's box).
            language, _ = languages.split(stem + "/", languages.read(values()))
            expected = BeautifulSoup(languages.setting_html(name, values(), language), "html.parser").find()
            assert expected is not None, (stem, name, "shows nothing in this language")
            assert expected in BeautifulSoup(built, "html.parser").select(f"article {expected.name}"), (page.name, name)


def _welsh(row: dict | None = None) -> languages.Language:
    """The site's Welsh, with these settings given in its entry of extra.languages."""
    welsh = languages.read(values())[1]
    return languages.Language(welsh.code, welsh.name, welsh.english_name, row={**welsh.row, **(row or {})})


def test_a_welsh_page_shows_a_setting_in_welsh_words():
    # Unset: the words around it and the placeholder, both Welsh (components/site-words/messages.json).
    assert languages.setting_html("reply_within", values(), _welsh()) == \
        '<p class="site-setting">Ein nod yw ateb o fewn <strong>ychydig ddiwrnodau gwaith</strong>.</p>'
    # A fact written once: its box's title, its words and a phone line's words in Welsh.
    danger = BeautifulSoup(languages.setting_html("emergency", values(), _welsh()), "html.parser")
    assert danger.select_one(".admonition-title").get_text() == "Os ydych mewn perygl nawr"
    assert "Ffoniwch 999" in danger.get_text() and "Call" not in danger.get_text()
    support = BeautifulSoup(languages.setting_html("victim_support", values(), _welsh()), "html.parser")
    assert "ffoniwch 08 08 16 89 111" in support.get_text() and "Call" not in support.get_text()
    # Set by the force in English and in Welsh: the Welsh, not marked as another language.
    force = {**values(), "reply_within": "5 working days"}
    shown = languages.setting_html("reply_within", force, _welsh({"reply_within": "5 diwrnod gwaith"}))
    assert shown == '<p class="site-setting">Ein nod yw ateb o fewn <strong>5 diwrnod gwaith</strong>.</p>'
    # The English pages keep their English.
    assert languages.setting_html("reply_within", force, languages.read(values())[0]) == \
        '<p class="site-setting">We aim to reply within <strong>5 working days</strong>.</p>'


def test_an_english_only_value_on_a_welsh_page_is_marked_english_and_warned_about(tmp_path):
    force = {**values(), "reply_within": "5 working days", "who_reads": "Only the hub's staff read it."}
    shown = BeautifulSoup(languages.setting_html("reply_within", force, _welsh()), "html.parser")
    assert shown.get_text() == "Ein nod yw ateb o fewn 5 working days."  # the words around it stay Welsh
    assert [(s["lang"], s.get_text()) for s in shown.select("span[lang]")] == [("en", "5 working days")]
    # A web address is no language's words: shown as it is, with no warning.
    link = languages.setting_html("complaints_url", {**force, "complaints_url": "https://f.example/c"}, _welsh())
    assert 'lang="en"' not in link and 'href="https://f.example/c"' in link
    # The checks name the line in mkdocs.yml and say, in plain words, where the Welsh goes.
    config = tmp_path / "mkdocs.yml"
    extra = {"reply_within": "5 working days", "complaints_url": "https://f.example/c",
             "languages": [{"code": "en", "name": "English"},
                           {"code": "cy", "name": "Cymraeg", "english_name": "Welsh"}]}
    config.write_text(yaml_dump({"site_name": "x", "extra": extra}), encoding="utf-8")
    warned = [p for p in check_setting_placeholders(extra, config) if "no Welsh words" in p.message]
    assert [(p.line, p.level) for p in warned] == [(_line(config, "reply_within"), "warning")], warned
    assert "Welsh pages show it in English" in warned[0].message and "code: cy" in warned[0].message
    # Given in Welsh too: no warning, and the Welsh shows.
    extra["languages"][1]["reply_within"] = "5 diwrnod gwaith"
    assert not [p for p in check_setting_placeholders(extra, config) if "no Welsh words" in p.message]


def test_each_languages_defaults_keep_the_tables_facts():
    """A language's default_<name> says what the table's default says: the same numbers and web
    addresses (a changed fact in the table must be changed in every language's words too)."""
    def facts(value) -> list[str]:
        return re.findall(r"https?://\S+|\d[\d ]*\d|\d", json.dumps(value, ensure_ascii=False))

    for language in languages.read(values())[1:]:
        ours = languages.words(language.code)
        for name, setting in SITE_SETTINGS.items():
            if f"default_{name}" in ours:
                assert facts(ours[f"default_{name}"]) == facts(setting.default), (language.code, name)


def yaml_dump(data) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _line(config: Path, key: str) -> int:
    return next(n for n, text in enumerate(config.read_text(encoding="utf-8").splitlines(), 1)
                if re.match(rf"\s*{key}\s*:", text))


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
