"""Every reader in their language (issue 21, the site): one build per language, on both builders.

English at /, each other language of mkdocs.yml's extra.languages at /<code>/ with the same pages;
each page in its language (<html lang>), linked to its twins (hreflang, a visible link in the other
language's own words), with the exit first in its own words; the gate refuses a page without its
twin; a translation is tied to the English it was checked against; a third language is a folder
and messages entries, not code."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml

from contract import manifest
from sitebuild import BuildError, exit_button, languages, page_facts, verify
from sitebuild.content_checks import run as run_checks
from sitebuild.settings import read_config
from testsupport import ROOT
from testsupport.forms import form_catalogue
from testsupport.site import site_pages

CONFIG = read_config(ROOT / "mkdocs.yml")
LANGUAGES = languages.read(CONFIG.get("extra"))
WELSH_EXIT = {"link": "Gadael y dudalen", "press_one_more": "Pwyswch 'Shift' 1 mwy o amser",
              "press_more": "Pwyswch 'Shift' {count} gwaith arall", "expired": "Wedi'i amseru"}


# ---------------------------------------------------------------- The table and the words (fast)

def test_the_languages_are_listed_once_english_first_then_welsh():
    assert [(lang.code, lang.name, lang.default) for lang in LANGUAGES] == [
        ("en", "English", True), ("cy", "Cymraeg", False)]
    assert LANGUAGES[1].prefix == "cy/"


def test_every_language_has_its_menu_titles_and_a_folder_of_pages():
    for language in LANGUAGES[1:]:
        nav = languages.translated_nav(CONFIG["nav"], language)  # raises, naming the title, if one is missing
        assert "Cwrdd â'ch troseddwr" in json.dumps(nav, ensure_ascii=False)
        assert (ROOT / "site_content" / language.code).is_dir()


def test_a_missing_menu_title_names_what_to_add():
    welsh = languages.Language("cy", "Cymraeg", "Welsh", nav={"index.md": "Hafan"})
    with pytest.raises(BuildError, match="how-it-works.md"):
        languages.translated_nav([{"Home": "index.md"}, {"How": "how-it-works.md"}], welsh)


def test_each_language_has_every_word_of_the_exit_and_of_the_templates():
    for language in LANGUAGES:
        assert exit_button.messages(language.code).keys() == exit_button.messages("en").keys()
        own = json.loads((ROOT / "components/site-words/messages.json").read_text(encoding="utf-8"))[language.code]
        assert own.keys() >= languages.words("en").keys(), language.code


def test_the_welsh_exit_uses_gov_uk_frontends_welsh():
    welsh = exit_button.messages("cy")
    for key, words in WELSH_EXIT.items():
        assert welsh[key] == words
    markup = exit_button.markup("https://neutral.example/", "cy")
    assert "Gadael y dudalen" in markup and "Exit this page" not in markup


def test_a_language_without_exit_words_stops_the_build_naming_the_file():
    with pytest.raises(BuildError, match="messages.json"):
        exit_button.messages("xx")


# ---------------------------------------------------------------- Translations that stay true (fast)

def _small_site(tmp_path: Path) -> Path:
    """A mkdocs.yml with an English page and its Welsh translation, for the content checks."""
    docs = tmp_path / "docs"
    (docs / "cy").mkdir(parents=True)
    (docs / "index.md").write_text("---\ntitle: Home\ndescription: Home.\nreviewed: 2026-11-25\nowner: Hub\n---\n\n"
                                   "# Home\n\nWe help you.\n", encoding="utf-8")
    (docs / "cy" / "index.md").write_text(
        "---\ntitle: Hafan\ndescription: Hafan.\nreviewed: 2026-11-25\nowner: Hwb\n---\n\n# Hafan\n\n"
        "Rydym yn eich helpu. Mae cydweithrediad rhyngwladol cynhwysfawr yn anghyffredin ac yn gymhleth iawn, "
        "yn ôl gwybodaeth gyfreithiol gynhwysfawr a chydymffurfiaeth weinyddol drwyadl.\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text(yaml.safe_dump({"docs_dir": "docs", "extra": {
        "languages": [{"code": "en", "name": "English"}, {"code": "cy", "name": "Cymraeg"}]}}), encoding="utf-8")
    return config


def _translation_problems(config: Path) -> list[str]:
    report = run_checks(read_config(config), config, paths=[str(config.parent / "docs")])
    return [str(p) for p in report.problems if "cy/index.md" in p.path]


def test_a_translation_not_yet_checked_says_how_to_record_it(tmp_path):
    config = _small_site(tmp_path)
    [problem] = _translation_problems(config)
    assert "warning" in problem and "python -m sitebuild translated docs/cy/index.md" in problem  # example-path


def test_the_translated_command_records_the_english_and_the_check_warns_when_it_changes(tmp_path):
    config = _small_site(tmp_path)
    written = languages.mark_translated(tmp_path / "docs" / "cy" / "index.md", tmp_path / "docs")
    assert "translation_of: index.md" in written
    meta = yaml.safe_load((tmp_path / "docs" / "cy" / "index.md").read_text(encoding="utf-8").split("---")[1])
    assert meta["translation_of"] == "index.md" and meta["source_hash"].startswith("sha256:")
    assert _translation_problems(config) == []
    # Re-reviewing the English (its date) does not make the translation stale; changing its words does.
    english = tmp_path / "docs" / "index.md"
    english.write_text(english.read_text(encoding="utf-8").replace("2026-11-25", "2026-12-01"), encoding="utf-8")
    assert _translation_problems(config) == []
    english.write_text(english.read_text(encoding="utf-8").replace("We help you.", "We help you, always."),
                       encoding="utf-8")
    [problem] = _translation_problems(config)
    line = next(n for n, text in enumerate((tmp_path / "docs/cy/index.md").read_text().splitlines(), 1)  # example-path
                if text.startswith("source_hash"))
    assert re.match(rf"docs/cy/index.md:{line}: warning: docs/index.md has changed since", problem), problem  # example-path


def test_a_translation_of_a_page_that_does_not_exist_is_an_error(tmp_path):
    config = _small_site(tmp_path)
    (tmp_path / "docs" / "cy" / "extra.md").write_text(
        "---\ntitle: Ychwanegol\ndescription: D.\nreviewed: 2026-11-25\nowner: Hwb\n---\n\n# Ychwanegol\n")
    report = run_checks(read_config(config), config, paths=[str(tmp_path / "docs")])
    assert any(p.level == "error" and p.path.endswith("cy/extra.md") and "docs/extra.md" in p.message  # example-path
               for p in report.problems)


def test_the_reading_age_is_not_measured_on_welsh_but_sentence_length_is(tmp_path):
    # The Welsh page's long words would score far above the limit by an English syllable count.
    config = _small_site(tmp_path)
    assert not any("reading age" in problem for problem in _translation_problems(config))
    page = tmp_path / "docs" / "cy" / "index.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n" + " ".join(["gair"] * 30) + ".\n", encoding="utf-8")
    assert any("This sentence has 30 words" in problem for problem in _translation_problems(config))


def test_the_translators_check_is_a_setting_the_checks_warn_about(tmp_path):
    config = _small_site(tmp_path)
    report = run_checks(read_config(config), config)
    assert any("translations_checked_by" in p.message and p.level == "warning" for p in report.problems)


def test_every_welsh_page_names_the_english_page_it_translates():
    for page in sorted((ROOT / "site_content" / "cy").glob("*.md")):
        meta = yaml.safe_load(page.read_text(encoding="utf-8").split("---")[1])
        assert (ROOT / "site_content" / meta["translation_of"]).is_file(), page


# ---------------------------------------------------------------- The gate (fast, on a small folder)

def _finished(site: Path, pages: dict[str, str], codes=("en", "cy")) -> Path:
    site.mkdir()
    listed = [{"code": c, "name": c, "prefix": "" if i == 0 else f"{c}/"} for i, c in enumerate(codes)]
    (site / manifest.MANIFEST_FILE).write_text(json.dumps({"version": 1, "languages": listed}))
    for rel, lang in pages.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        links = "".join(f'<link rel="alternate" hreflang="{c}" href="x">' for c in codes)
        (site / rel).write_text(f'<html lang="{lang}"><head>{links}</head><body></body></html>')
    return site


def test_the_gate_refuses_a_page_without_its_twin_naming_both(tmp_path):
    site = _finished(tmp_path / "site", {"index.html": "en", "cy/index.html": "cy", "support/index.html": "en"})
    [problem] = verify.language_problems(site)
    assert "support/index.html: has no twin" in problem and "cy/support/index.html" in problem
    assert "site_content/cy/" in problem


def test_the_gate_refuses_a_page_in_the_wrong_language(tmp_path):
    site = _finished(tmp_path / "site", {"index.html": "en", "cy/index.html": "en"})
    assert any('lang="cy"' in p for p in verify.language_problems(site))


# ---------------------------------------------------------------- The built site, both builders

def _twin(address: str, language) -> str:
    return "/" + language.prefix + address.lstrip("/")


def test_every_english_page_has_its_welsh_twin_and_back(built_site):
    pages = site_pages(built_site)
    english = {p for p in pages if not p.startswith("/cy/")}
    welsh = {p[len("/cy"):] for p in pages if p.startswith("/cy/")}
    assert english and english == welsh


def _html(site: Path, address: str) -> str:
    return (site / address.lstrip("/") / "index.html").read_text(encoding="utf-8")


def test_each_page_says_its_language_links_its_twins_and_shows_the_switch(built_site):
    for address in site_pages(built_site):
        welsh = address.startswith("/cy/")
        inner = address[len("/cy"):] if welsh else address
        html = _html(built_site, address)
        assert re.search(rf'<html\b[^>]*\blang="{"cy" if welsh else "en"}"', html), address
        head = html.split("</head>")[0]
        assert f'hreflang="en" href="http://127.0.0.1:8000{inner}"' in head, address
        assert f'hreflang="cy" href="http://127.0.0.1:8000/cy{inner}"' in head, address
        switch = re.search(r'<p class="lang-switch"><a href="([^"]*)" hreflang="(\w+)" lang="\w+">([^<]*)</a></p>', html)
        assert switch, address
        href, code, text = switch.groups()
        assert (code, text) == (("en", "English") if welsh else ("cy", "Cymraeg")), address
        # The link goes to the twin: resolve it from the page's address.
        # (As a browser does: a pattern taking out "x/../" pairs also took "../../" as one, three levels down.)
        resolved = urljoin(address, href)
        twin = ("/cy" + inner) if not welsh else inner
        assert resolved.rstrip("/") + "/" == twin.rstrip("/") + "/", (address, href)


def test_the_welsh_exit_comes_first_on_every_welsh_page_in_welsh(built_site):
    for path in sorted((built_site / "cy").rglob("*.html")):
        html = path.read_text(encoding="utf-8")
        body = re.search(r"<body\b[^>]*>(.{0,400})", html, re.DOTALL).group(1)
        assert body.startswith('<div class="qe" data-qe'), path
        exit_markup = html[html.index('<div class="qe"'): html.index('data-qe-status')]
        assert "Gadael y dudalen" in exit_markup and "Exit this page" not in exit_markup, path
        assert "Pwyswch &#39;Shift&#39; {count} gwaith arall" in exit_markup, path
        assert "Wedi&#39;i amseru" in exit_markup, path


def test_welsh_pages_show_our_template_words_in_welsh(built_site):
    html = _html(built_site, "/cy/how-it-works/")
    assert "Adolygwyd ddiwethaf:" in html and "Last reviewed" not in html
    assert "Gadael y wefan hon yn gyflym" in html and "Leaving this site quickly" not in html
    assert 'aria-label="Dewislen"' in html and 'aria-label="Menu"' not in html
    # A site setting's words around its value, and its Welsh placeholder while it is unset.
    email = _html(built_site, "/cy/email-us/")
    assert "Ein nod yw ateb o fewn <strong>ychydig ddiwrnodau gwaith</strong>." in email
    # No setting's English words on a Welsh page: the facts' words and the phone lines' are Welsh too.
    for english in ("We aim to reply within", "If you are in danger now", "Call 999", "Call the", "Website:"):
        assert english not in email, english
    not_found = (built_site / "cy" / "404.html").read_text(encoding="utf-8")
    assert "Heb ddod o hyd i'r dudalen" in not_found or "Heb ddod o hyd i&#39;r dudalen" in not_found
    assert "Os ydych mewn perygl nawr" in not_found and "Ffoniwch 999" in not_found
    assert "If you are in danger now" not in not_found


def test_each_language_has_its_own_search_index_and_form_frame(built_site):
    search = {"mkdocs": "search/search_index.json", "zensical": "search.json"}[json.loads(
        (built_site / manifest.MANIFEST_FILE).read_text())["builder"]]
    welsh_index = (built_site / "cy" / search).read_text(encoding="utf-8")
    assert "Cwrdd" in welsh_index and (built_site / search).is_file()
    listed = manifest.read(built_site)["languages"]
    assert [(lang["code"], lang["shell"]) for lang in listed] == [("en", "formsvc-shell.html"),
                                                                  ("cy", "cy/formsvc-shell.html")]
    assert (built_site / "cy" / "formsvc-shell.html").is_file()


def test_the_headers_cover_every_welsh_page(built_site):
    headers = (built_site / "_headers").read_text(encoding="utf-8")
    policy = re.search(r"^/\*\n\s+Content-Security-Policy: (.*)$", headers, re.MULTILINE).group(1)
    for path in (built_site / "cy").rglob("*.html"):
        facts = page_facts.read(path.read_text(encoding="utf-8"))
        assert all(digest in policy for digest in facts.script_hashes | facts.style_hashes), path


def test_the_gate_fails_the_built_site_without_a_twin(built_site, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(built_site, copy)
    shutil.rmtree(copy / "cy" / "support")
    found = verify.problems(copy)
    assert any(p.startswith("support/index.html: has no twin in Welsh") for p in found), found


# ---------------------------------------------------------------- A third language: a folder and messages

MADE_UP = {"code": "pl", "name": "Polski (test)", "english_name": "Polish (made up for a test)",
           "site_name": "Testowa strona", "nav": {"index.md": "Start testu", "how-it-works.md": "Jak to działa (test)",
                                                   "videos.md": "Filmy (test)"}}
MADE_UP_EXIT = {"link": "Opuść stronę (test)", "emergency": "Nagły wypadek", "hint": "Albo Shift 3 razy",
                "press_one_more": "Shift jeszcze 1 raz", "press_more": "Shift jeszcze {count} razy",
                "expired": "Czas minął", "loading_title": "Ładowanie", "loading": "Ładowanie."}


def _page(title: str, body: str) -> str:
    return f"---\ntitle: {title}\ndescription: {title}.\nreviewed: 2026-11-25\nowner: Hub\n---\n\n# {title}\n\n{body}\n"


@pytest.fixture(scope="module")
def third_language(tmp_path_factory):
    """A small site in English, Welsh and a made-up third language: pages in a folder, a row of the
    table, and entries in the two messages files (a copy of components/), with no code changed."""
    base = tmp_path_factory.mktemp("three-languages")
    docs = base / "docs"
    shutil.copytree(ROOT / "site_content", docs, ignore=lambda folder, names: [
        n for n in names if n.endswith(".md") or (Path(folder) == ROOT / "site_content" and n == "cy")])
    for code, words in (("", "English"), ("cy/", "Cymraeg"), ("pl/", "Polski")):
        (docs / code).mkdir(exist_ok=True)
        (docs / code / "index.md").write_text(_page(f"Home {words}", "Read [how it works](how-it-works.md)."))
        (docs / code / "how-it-works.md").write_text(_page(f"How {words}", "Words."))
    videos = base / "videos"
    shutil.copytree(ROOT / "videos", videos)
    (videos / "pl").mkdir()
    for intro in ("index.md", "cy/index.md", "pl/index.md"):  # without links to pages this small site lacks
        (videos / intro).write_text(_page("Videos", "Some videos."))
    components = base / "components"
    shutil.copytree(ROOT / "components", components)
    exit_words = json.loads((components / "exit-this-page" / "messages.json").read_text())
    (components / "exit-this-page" / "messages.json").write_text(json.dumps({**exit_words, "pl": MADE_UP_EXIT}))
    site_words = json.loads((components / "site-words" / "messages.json").read_text())
    (components / "site-words" / "messages.json").write_text(json.dumps({**site_words, "pl": {"menu": "Menu PL"}}))
    config = dict(CONFIG)
    config.update(docs_dir=str(docs), site_url="http://127.0.0.1:8000/",
                  nav=[{"Home": "index.md"}, {"How": "how-it-works.md"}, {"Videos": "videos.md"}],
                  hooks=[str(ROOT / hook) for hook in CONFIG["hooks"]], watch=[])
    config["theme"] = {**CONFIG["theme"], "custom_dir": str(ROOT / CONFIG["theme"]["custom_dir"])}
    config["extra_css"] = CONFIG["extra_css"]
    cy = {**CONFIG["extra"]["languages"][1], "nav": {k: v for k, v in CONFIG["extra"]["languages"][1]["nav"].items()
                                                     if k in ("index.md", "how-it-works.md", "videos.md")}}
    config["extra"] = {**CONFIG["extra"], "languages": [CONFIG["extra"]["languages"][0], cy, MADE_UP]}
    (base / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return base


def test_a_third_language_is_a_folder_and_messages_not_code(third_language, site_build, builder, tmp_path,
                                                            make_form_app):
    site = tmp_path / "site"
    result = site_build(site, builder, config_file=third_language / "mkdocs.yml",
                        VIDEOS_DIR=str(third_language / "videos"), COMPONENTS_DIR=str(third_language / "components"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    pages = set(site_pages(site))
    assert {"/", "/how-it-works/", "/videos/"} <= pages
    for code, name in (("cy", "Cymraeg"), ("pl", "Polski (test)")):
        assert {f"/{code}/", f"/{code}/how-it-works/", f"/{code}/videos/"} <= pages
        english = (site / "how-it-works" / "index.html").read_text(encoding="utf-8")
        assert f'hreflang="{code}" lang="{code}">{name}</a>' in english
    polish = (site / "pl" / "how-it-works" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<html\b[^>]*\blang="pl"', polish)
    assert 'hreflang="en" lang="en">English</a>' in polish and 'hreflang="cy" lang="cy">Cymraeg</a>' in polish
    assert re.search(r"<body\b[^>]*><div class=\"qe\" data-qe", polish)
    assert "Opuść stronę (test)" in polish and "Shift jeszcze {count} razy" in polish
    assert "Start testu" in polish and "Testowa strona" in polish  # its menu and its site name
    assert [lang["code"] for lang in manifest.read(site)["languages"]] == ["en", "cy", "pl"]
    # The enquiry form in it: a catalogue in a folder (docs/languages.md), in the new language's frame.
    words = form_catalogue(tmp_path / "translations", "pl", {"Ask about restorative justice": "Zapytaj (test)"})
    form = make_form_app(SITE_DIR=str(site), TRANSLATIONS_DIR=str(words)).test_client().get("/pl/enquiry/")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and re.search(r'<html\b[^>]*\blang="pl"', html)
    assert "Zapytaj (test)" in html and "Opuść stronę (test)" in html
    assert 'href="/enquiry/" hreflang="en"' in html
