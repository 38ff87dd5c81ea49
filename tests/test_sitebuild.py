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
    assert '<span class="md-visually-hidden">Close the menu</span></label>' in fixed
    assert 'aria-hidden="true"></label>' not in fixed
    assert '<button type="submit" hidden>Search</button></form>' in fixed
    assert "__palette" not in fixed
    assert '<a href="./" class="md-logo"' in fixed
    assert '<svg viewBox="0 0 1 1" aria-hidden="true">' in fixed
    assert "__md_set=(e,_,t=localStorage,a=__md_scope)=>{}" in fixed and "setItem" not in fixed
    assert ">25 November 2026</time>" in fixed
    assert '<script src="a.js" defer>' in fixed
    assert markup.fix_page(fixed, "page.html") == fixed  # twice is once


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
