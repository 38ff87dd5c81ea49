"""The site pipeline (sitebuild/): the gate on finished sites of both builders, the named
markup fixes, and the manifest."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contract.manifest import MANIFEST_FILE
from sitebuild import BuildError, markup
from sitebuild.settings import read_config

ROOT = Path(__file__).resolve().parent.parent


def verify(site: Path) -> subprocess.CompletedProcess:
    """The gate as both builds run it (verify.verify), through the plain command."""
    return subprocess.run([sys.executable, "-m", "sitebuild", "verify", str(site)], cwd=ROOT,
                          capture_output=True, text=True)


@pytest.fixture
def finished_copy(built_site, tmp_path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(built_site, copy)
    return copy


def edit(path: Path, old: str | re.Pattern, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    changed = re.sub(old, new, text, count=1) if isinstance(old, re.Pattern) else text.replace(old, new, 1)
    assert changed != text, f"nothing to change in {path}"
    path.write_text(changed, encoding="utf-8")


def test_the_finished_site_passes_the_gate(built_site):
    result = verify(built_site)
    assert result.returncode == 0, result.stderr


def test_a_page_without_the_exit_first_fails_naming_the_page(finished_copy):
    edit(finished_copy / "how-it-works" / "index.html", re.compile(r'<div class="qe" data-qe.*?</div>\s*</div>',
                                                                  re.DOTALL), "")
    result = verify(finished_copy)
    assert result.returncode == 1
    assert "how-it-works/index.html: the quick exit is not the first thing in <body>" in result.stderr
    assert "cookies/index.html" not in result.stderr


def test_something_before_the_exit_fails_too(finished_copy):
    edit(finished_copy / "404.html", re.compile(r"(<body[^>]*>)"), r'\1<a href="#">Skip</a>')
    result = verify(finished_copy)
    assert result.returncode == 1 and "404.html: the quick exit is not the first thing" in result.stderr


def test_an_unhashed_inline_script_fails_naming_the_page(finished_copy):
    edit(finished_copy / "privacy" / "index.html", "</body>", "<script>track()</script></body>")
    result = verify(finished_copy)
    assert result.returncode == 1
    assert re.search(r"privacy/index.html: an inline script \('sha256-[^']+'\) has no hash in _headers", result.stderr)
    assert "privacy/index.html: an inline script" in result.stderr.split("_headers's script-src")[1]  # and <meta>


def test_an_external_image_fails_naming_the_page(finished_copy):
    edit(finished_copy / "email-us" / "index.html", "</article>",
         '<img src="https://cdn.example.com/pixel.png" alt=""></article>')
    result = verify(finished_copy)
    assert result.returncode == 1
    assert "email-us/index.html: <img src> loads https://cdn.example.com/pixel.png from another website" \
        in result.stderr


def test_an_external_stylesheet_import_or_a_missing_headers_file_fails(finished_copy):
    edit(finished_copy / "stylesheets" / "site.css", "/*", "@import 'https://fonts.example.com/a.css';\n/*")
    (finished_copy / "_headers").unlink()
    result = verify(finished_copy)
    assert result.returncode == 1
    assert "stylesheets/site.css: loads https://fonts.example.com/a.css" in result.stderr
    assert "_headers is missing" in result.stderr


def test_a_page_without_its_meta_policy_fails(finished_copy):
    edit(finished_copy / "index.html", re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>'), "")
    result = verify(finished_copy)
    assert result.returncode == 1
    assert 'index.html: no <meta http-equiv="Content-Security-Policy">' in result.stderr


def test_the_manifest_is_the_contract_with_the_service(built_site, builder, neutral_site):
    manifest = json.loads((built_site / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["version"] == 1 and manifest["builder"] == builder
    assert manifest["exit_url"] == neutral_site.url
    assert (built_site / manifest["shell"]["path"]).is_file()
    headers = (built_site / "_headers").read_text(encoding="utf-8")
    for digest in manifest["shell"]["script_hashes"] + manifest["script_hashes"] + manifest["style_hashes"]:
        assert digest in headers
    assert set(manifest["shell"]["script_hashes"]) <= set(manifest["script_hashes"])


def test_both_builders_finish_the_same_pages(site_builds):
    def pages(site):
        return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert pages(site_builds("mkdocs")) == pages(site_builds("zensical"))


# ---------------------------------------------------------------- the named markup fixes

PAGE = ('<html><head><meta charset="utf-8"></head><body>'
        '<input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" autocomplete="off">'
        '<input class="md-toggle" data-md-toggle="search" type="checkbox" id="__search" autocomplete="off">'
        '<label class="md-overlay" for="__drawer" aria-hidden="true"></label>'
        '<form class="md-header__option" data-md-component="palette"> <input class="md-option" aria-hidden="true" '
        'type="radio" name="__palette" id="__palette_0"> </form>'
        '<div class="md-search" data-md-component="search" role="dialog">'
        '<form class="md-search__form" name="search"><input type="text" name="query"></form></div>'
        '<label class="md-nav__link" for="__nav_9" id="__nav_9_label" tabindex="">About</label>'
        '<a href="" class="md-logo" aria-label="Home">x</a><svg viewBox="0 0 1 1"><path d=""/></svg>'
        '<script>__md_set=(e,_,t=localStorage,a=__md_scope)=>{try{t.setItem(a.pathname+"."+e,JSON.stringify(_))}'
        'catch(e){}}</script>'
        '<p class="page-reviewed">Last reviewed: <time datetime="2026-11-25" data-reviewed>2026-11-25</time></p>'
        '<script src="a.js"></script></body></html>')


def test_each_fix_does_what_it_says():
    fixed = markup.fix_page(PAGE, "page.html")
    assert 'id="__drawer" aria-label="Menu">' in fixed and 'id="__search" aria-label="Search">' in fixed
    assert 'role="dialog" aria-label="Search">' in fixed
    assert 'autocomplete' not in fixed and 'tabindex=""' not in fixed
    assert '<div class="md-overlay"></div>' in fixed  # no longer a label (toggle tests below)
    assert '<button type="submit" hidden>Search</button></form>' in fixed
    assert "__palette" not in fixed
    assert '<a href="./" class="md-logo"' in fixed
    assert '<svg viewBox="0 0 1 1" aria-hidden="true">' in fixed
    assert "__md_set=(e,_,t=localStorage,a=__md_scope)=>{}" in fixed and "setItem" not in fixed
    assert ">25 November 2026</time>" in fixed
    assert '<script src="a.js" defer>' in fixed
    assert markup.fix_page(fixed, "page.html") == fixed  # twice is once


# The theme's CSS-only toggles as Material 9.7 writes them (Zensical: the same, less the search's
# backdrop and magnifier, and with words in the header's buttons), icons shortened.
TOGGLES = ('<body><input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer">'
           '<input class="md-toggle" data-md-toggle="search" type="checkbox" id="__search">'
           '<label class="md-overlay" for="__drawer"></label>'
           '<header><label class="md-header__button md-icon" for="__drawer">\n<svg><path d="M3"/></svg>\n</label>'
           '<label class="md-header__button md-icon" for="__search"><svg><path d="M9"/></svg></label>'
           '<div class="md-search" data-md-component="search" role="dialog">'
           '<label class="md-search__overlay" for="__search"></label><div class="md-search__inner" role="search">'
           '<form class="md-search__form" name="search"><input type="text" name="query" aria-label="Search">'
           '<label class="md-search__icon md-icon" for="__search"><svg><path d="M9"/></svg><svg><path d="M20"/></svg>'
           '</label><button type="reset" class="md-search__icon md-icon" aria-label="Clear">x</button></form>'
           '</div></div></header>'
           '<nav class="md-nav md-nav--primary" aria-label="Navigation"><label class="md-nav__title" for="__drawer">\n'
           '<a href=".." class="md-nav__button md-logo" aria-label="Home"><svg><path d="M1"/></svg></a>\n'
           'Meet your offender\n</label><ul class="md-nav__list">'
           '<li class="md-nav__item md-nav__item--section md-nav__item--nested">'
           '<input class="md-nav__toggle md-toggle " type="checkbox" id="__nav_13" checked>'
           '<label class="md-nav__link" for="__nav_13" id="__nav_13_label" tabindex="0">'
           '<span class="md-ellipsis">About this site</span><span class="md-nav__icon md-icon"></span></label>'
           '<nav class="md-nav" data-md-level="1" aria-labelledby="__nav_13_label">'
           '<label class="md-nav__title" for="__nav_13"><span class="md-nav__icon md-icon"></span>About this site</label>'
           '<ul class="md-nav__list"><li class="md-nav__item md-nav__item--active">'
           '<input class="md-nav__toggle md-toggle" type="checkbox" id="__toc">'
           '<label class="md-nav__link md-nav__link--active" for="__toc"><span class="md-ellipsis">Privacy notice</span>'
           '<span class="md-nav__icon md-icon"></span></label><a href="./" class="md-nav__link">Privacy notice</a>'
           '<nav class="md-nav md-nav--secondary" aria-label="Table of contents"><label class="md-nav__title" '
           'for="__toc"><span class="md-nav__icon md-icon"></span>Table of contents</label></nav></li></ul></nav>'
           '</li></ul></nav><div class="md-sidebar md-sidebar--secondary"><nav class="md-nav md-nav--secondary" '
           'aria-label="Table of contents"><label class="md-nav__title" for="__toc">'
           '<span class="md-nav__icon md-icon"></span>Table of contents</label></nav></div></body>')

#: The one label each toggle keeps: the theme shows each only where it shows the checkbox (site.css
#: hides the contents' checkbox where its row is hidden, between phone and desktop widths).
KEPT_LABELS = {("md-header__button md-icon", "__drawer"), ("md-header__button md-icon", "__search"),
               ("md-nav__title", "__nav_13"), ("md-nav__link md-nav__link--active", "__toc")}


def toggle_labels(html: str) -> list[tuple[str, str, str]]:
    """(class, for, words) of each <label for> of a toggle's checkbox; words: what a screen reader reads."""
    from bs4 import BeautifulSoup

    page = BeautifulSoup(html, "html.parser")
    return [(" ".join(label.get("class", [])), label["for"], label.get_text(" ", strip=True))
            for label in page.find_all("label", attrs={"for": re.compile(r"^__(drawer|search|toc|nav_[0-9_]+)$")})]


def test_each_toggle_keeps_one_label_with_words_and_the_checkbox_lies_where_the_others_were():
    before = toggle_labels(TOGGLES)
    assert len(before) == 11 and sum(1 for _, control, _ in before if control == "__search") == 3  # as the engine saw
    fixed = markup.fix_page(TOGGLES, "privacy/index.html")
    labels = toggle_labels(fixed)
    assert {(cls, control) for cls, control, _ in labels} == KEPT_LABELS and len(labels) == len(KEPT_LABELS)
    assert {control: words for _, control, words in labels} == {
        "__drawer": "Menu", "__search": "Search", "__nav_13": "About this site", "__toc": "Privacy notice"}
    # What the other labels were, kept as plain elements with the theme's classes (its CSS selects them so).
    assert '<div class="md-overlay"></div>' in fixed and '<div class="md-search__overlay"></div>' in fixed
    assert re.search(r'<div class="md-nav__title">\s*<a href="\.\." class="md-nav__button md-logo"', fixed)
    assert fixed.count('<div class="md-nav__title"><span class="md-nav__icon md-icon"></span>Table of contents</div>') == 2
    assert '<div class="md-nav__link" id="__nav_13_label"><span class="md-ellipsis">About this site</span>' in fixed
    assert 'tabindex' not in fixed  # a plain row is no Tab stop
    assert re.search(r'<div class="md-search__icon md-icon"><svg[^>]*><path d="M9"/></svg><svg', fixed)
    # The checkboxes lie where those were (site.css); the search's is marked for its back arrow,
    # the section's is named by its row.
    assert 'id="__search" aria-label="Search" data-back-arrow>' in fixed
    assert 'id="__nav_13" checked aria-labelledby="__nav_13_label">' in fixed
    assert markup.fix_page(fixed, "privacy/index.html") == fixed


def test_the_header_buttons_say_their_checkboxes_names():
    zensical = TOGGLES.replace('<svg><path d="M3"/></svg>\n</label>',
                               '<svg><path d="M3"/></svg><span class="md-visually-hidden">Navigation</span></label>')
    fixed = markup.fix_page(zensical, "page.html")
    labels = {control: words for _, control, words in toggle_labels(fixed)}
    assert labels["__drawer"] == "Menu" and 'id="__drawer" aria-label="Menu"' in fixed
    assert fixed.count("md-visually-hidden") == 2


def test_every_finished_page_has_one_label_for_each_toggle_with_words(built_site):
    """The three rules of the stricter engine, over each builder's finished pages: no label of a
    checkbox the theme hides where it shows the label (only the kept kinds remain), none with two,
    none empty."""
    problems = []
    for path in sorted(built_site.rglob("*.html")):
        rel = path.relative_to(built_site).as_posix()
        labels = toggle_labels(path.read_text(encoding="utf-8"))
        controls = [control for _, control, _ in labels]
        problems += [f"{rel}: {control} has {controls.count(control)} labels" for control in set(controls)
                     if controls.count(control) > 1]
        problems += [f"{rel}: an empty label of {control}" for _, control, words in labels if not words]
        problems += [f"{rel}: label {cls!r} of {control}" for cls, control, _ in labels
                     if (cls, re.sub(r"^__nav_[0-9_]+$", "__nav_13", control)) not in KEPT_LABELS]
        if rel == "privacy/index.html":
            # The drawer, the search, the contents, and one for each section of the menu (Easy Read, About this site).
            sections = [item for item in read_config(ROOT / "mkdocs.yml")["nav"]
                        if isinstance(next(iter(item.values())), list)]
            assert {control for control in controls if not control.startswith("__nav_")} == {
                "__drawer", "__search", "__toc"}
            assert len({control for control in controls if control.startswith("__nav_")}) == len(sections) == 2
    assert not problems, "\n".join(problems)


def test_a_fix_that_no_longer_finds_its_markup_stops_the_build():
    with pytest.raises(BuildError, match="theme's markup has changed"):
        markup.fix_page(PAGE.replace('data-md-toggle="drawer"', 'data-md-toggle="menu"'), "how-it-works/index.html")
    with pytest.raises(BuildError, match="how-it-works/index.html: the theme's __md_set has changed"):
        markup.fix_page(PAGE.replace("{try{", "{if(1){try{").replace("catch(e){}}", "catch(e){}}}"),
                        "how-it-works/index.html")


def test_the_environment_is_read_in_one_place():
    """sitebuild/settings.py lists every variable the pipeline reads (ENVIRONMENT) and reads them;
    other modules take them from Settings, or pass the whole environment on to a builder."""
    from sitebuild.settings import ENVIRONMENT, env

    reads = re.compile(r"os\.environ\.get|os\.environ\[|os\.getenv|environ\.get\(")
    for path in sorted([*(ROOT / "sitebuild").rglob("*.py"), *(ROOT / "mkdocs_adapter").rglob("*.py")]):
        if path != ROOT / "sitebuild" / "settings.py":
            assert not reads.search(path.read_text(encoding="utf-8")), path
    assert {"STAFF_PREVIEW", "REPO_URL", "FORMSVC_ORIGIN", "VIDEOS_DIR"} <= set(ENVIRONMENT)
    with pytest.raises(KeyError, match="ENVIRONMENT"):
        env("SOMETHING_NOBODY_LISTED")
