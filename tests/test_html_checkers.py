"""Checkers nobody here wrote, over the finished HTML of both builders and every state of
the enquiry form: the Nu HTML Checker (vnu, here) and HTML_CodeSniffer (in a real Chromium,
test_accessibility.py). Installed by `make test` (tests/node/package.json, Java from Debian).

vnu runs once, in one java process, over every page of both builds and the form's states
rendered in both builds' frames and in the fallback layout.
"""
from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from testsupport.answers import valid_answers
from testsupport.forms import FormBrowser
from testsupport.site import BUILDERS

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "tests" / "node" / "node_modules"
VNU = NODE / "vnu-jar" / "build" / "dist" / "vnu.jar"
# The form's frame is not a page (its title is a marker): its rendered states are checked.
NOT_PAGES = {"formsvc-shell.html"}


# For a run of seconds: the JIT's quick tier alone and one GC thread, which halve its CPU (the full JIT's
# work does not pay back in so short a run); the quick tier's larger frames need the bigger stack that
# vnu itself asks for when it runs out (-Xss).
JAVA_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss4m"]


def require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run `make test`, which installs the checkers.")
    return path


def form_states(make_form_app, clock, **config) -> dict[str, str]:
    """Each state of the enquiry journey as the service renders it."""
    states = {}
    browser = FormBrowser(make_form_app(**config).test_client())
    states["form"] = browser.get().get_data(as_text=True)
    states["errors"] = browser.submit(**valid_answers(contact_method="email", email="not an email", message="")) \
        .get_data(as_text=True)
    assert browser.submit(**valid_answers()).status_code == 303
    states["sent"] = browser.follow().get_data(as_text=True)
    states["404"] = browser.get("/enquiry/no-such-page").get_data(as_text=True)

    limited = FormBrowser(make_form_app(RATELIMIT_POST="1 per minute", **config).test_client())
    limited.send(**valid_answers())
    assert limited.send(**valid_answers(message="Again")).status_code == 429
    states["429"] = limited.response.get_data(as_text=True)

    expiring = FormBrowser(make_form_app(WTF_CSRF_TIME_LIMIT=600, **config).test_client())
    expiring.get()
    clock.advance(601)
    assert expiring.submit(**valid_answers()).status_code == 400
    states["csrf-expired"] = expiring.response.get_data(as_text=True)

    # The form in Welsh (formsvc/i18n.py): its own frame and words, the same markup.
    welsh = FormBrowser(make_form_app(**config).test_client())
    states["cy-form"] = welsh.get("/cy/enquiry/").get_data(as_text=True)
    states["cy-errors"] = welsh.submit(**valid_answers(contact_method="email", email="not an email", message="")) \
        .get_data(as_text=True)
    assert welsh.submit(**valid_answers()).status_code == 303
    states["cy-sent"] = welsh.follow().get_data(as_text=True)

    too_big = FormBrowser(make_form_app(**config).test_client())
    too_big.get()
    assert too_big.submit(**valid_answers(message="x" * 200_000)).status_code == 413
    states["too-large"] = too_big.response.get_data(as_text=True)
    return states


@pytest.fixture
def vnu_errors():
    """``vnu_errors(files)``: the Nu HTML Checker's errors per file, run with Java."""
    java = shutil.which("java")
    if java is None:
        pytest.fail("Java is not installed: run `make test` (Debian's default-jre-headless).")
    return functools.partial(_vnu_errors, java)


def _vnu_errors(java: str, files: list[Path]) -> dict[str, list[str]]:
    result = subprocess.run([java, *JAVA_OPTIONS, "-jar", str(require(VNU)), "--errors-only", "--format", "json",
                             *map(str, files)],
                            capture_output=True, text=True, timeout=600)
    report = json.loads(result.stderr or result.stdout)
    errors: dict[str, list[str]] = {}
    for message in report["messages"]:
        errors.setdefault(message.get("url", "?"), []).append(
            f"line {message.get('lastLine', '?')}: {message['message']} [{message.get('extract', '').strip()[:80]}]")
    return errors


def test_the_nu_html_checker_finds_no_errors_in_any_page_or_form_state(site_builds, make_form_app, clock, tmp_path,
                                                                      vnu_errors):
    files = []
    for builder in BUILDERS:
        site = site_builds(builder)
        files += [p for p in sorted(site.rglob("*.html")) if p.name not in NOT_PAGES]
        for state, html in form_states(make_form_app, clock, SITE_DIR=str(site)).items():
            (tmp_path / f"enquiry-{state}-{builder}.html").write_text(html, encoding="utf-8")
    for state, html in form_states(make_form_app, clock).items():  # the fallback layout
        (tmp_path / f"enquiry-{state}-fallback.html").write_text(html, encoding="utf-8")
    files += sorted(tmp_path.glob("enquiry-*.html"))
    assert len(files) >= 2 * 12 + 3 * 7  # 11 pages and the 404 page a build; 7 states in 3 frames
    errors = vnu_errors(files)
    assert not errors, "\n".join(f"{url}:\n  " + "\n  ".join(found) for url, found in errors.items())


def test_the_nu_html_checker_is_really_checking(tmp_path, vnu_errors):
    """The same run on a page with the two errors Material's markup had gives errors."""
    page = tmp_path / "bad.html"
    page.write_text('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>'
                    '<input type="checkbox" id="a" autocomplete="off"><label for="a" tabindex="">A</label>'
                    "</body></html>", encoding="utf-8")
    [found] = vnu_errors([page]).values()
    assert any("autocomplete" in e for e in found) and any("tabindex" in e for e in found)
