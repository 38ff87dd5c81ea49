"""The content checks (sitebuild/content_checks/) and what editors see.

Each check catches a seeded mistake in a small fixture site (tests/fixtures/content_checks/)
and names the file and line; warnings never stop a build, errors stop `mkdocs build --strict`;
the real site passes; every page shows "Last reviewed"; and the commands in EDITING.md work as
written, its preview with "Edit this page" links (tests/test_edit_links.py: nowhere else).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from contract.site_settings import SITE_SETTINGS
from testsupport.net import free_port

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "content_checks"
GUIDE = ROOT / "EDITING.md"
TODAY = "2026-11-25"  # the fixture's pages were reviewed in October and November 2026
LINE = re.compile(r"^(?P<file>[\w./-]+\.md):(?P<line>\d+): (?P<level>error|warning): (?P<message>.+)$")
# As staff run it, from a terminal: not as a sub-make of `make test` (MAKELEVEL would have make
# print "Entering/Leaving directory" lines around the output the guide describes).
ENV = {**{k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")},
       "NO_MKDOCS_2_WARNING": "1"}


def load_checks():
    """The checks and their settings, as one namespace for the unit tests below."""
    from types import SimpleNamespace

    from sitebuild.content_checks import markdown, reading_age, style, words

    return SimpleNamespace(**{**vars(markdown), **vars(style), **vars(words), **vars(reading_age)})


@pytest.fixture(scope="session")
def run_checks(run_python):
    """``run_checks(*args)``: the content checks' command, as `make check` runs it."""
    def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
        return run_python("-m", "sitebuild", "check", *args, cwd=cwd, env=ENV, timeout=120)

    return run


def problems(output: str) -> dict[tuple[str, int, str], list[str]]:
    """{(file, line, level): [messages]} from lines like `docs/links.md:10: error: ...`."""
    found: dict[tuple[str, int, str], list[str]] = {}
    for line in output.splitlines():
        match = LINE.search(line)
        if match:
            key = (match["file"], int(match["line"]), match["level"])
            found.setdefault(key, []).append(match["message"])
    return found


# ---------------------------------------------------------------- Every seeded mistake, by file and line

# (file, line, level): words the message must contain: what is wrong, and how to fix it.
SEEDED = {
    # Broken internal links and anchors; links that are not https; vague link text.
    ("docs/links.md", 10, "error"): ["how-it-work.md", "does not exist"],
    ("docs/links.md", 11, "error"): ["#who-can-join", "not on index.md"],
    ("docs/links.md", 12, "error"): ["#nowhere", "not on this page"],
    ("docs/links.md", 13, "error"): ["http://", "not secure", "https://example.org/old-page"],
    ("docs/links.md", 14, "error"): ["good-page/", "Use (good-page.md)"],
    ("docs/links.md", 15, "error"): ["/search/", "Link to the page's file"],
    ("docs/links.md", 16, "error"): ["click here", "does not say where the link goes"],
    # Images without alt text (Markdown and HTML), a missing picture, alt text that says nothing.
    ("docs/images.md", 12, "error"): ["no alt text", "Describe what the image shows"],
    ("docs/images.md", 14, "error"): ["no alt text"],
    ("docs/images.md", 16, "error"): ["images/map.png", "does not exist"],
    ("docs/images.md", 18, "warning"): ['"image"', "does not say what the image shows"],
    # Headings: a skipped level, a second main heading, no main heading.
    ("docs/headings.md", 12, "error"): ["skips a level", "level 4", "Use ### here"],
    ("docs/headings.md", 14, "error"): ["more than one main heading", "line 8", "##"],
    ("docs/no-heading.md", 7, "error"): ["no main heading", "# "],
    # Front matter: no description, no review date; a review date long past.
    ("docs/front-matter.md", 1, "error"): ["no description", "no review date", f"reviewed: {TODAY}"],
    ("docs/old-review.md", 4, "error"): ["1 May 2024", "more than 12 months ago", f"reviewed: {TODAY}"],
    # Reading age: the page, then the sentences that push it up (not the easy ones on lines 10 and 14).
    ("docs/hard-to-read.md", 8, "error"): ["reading age of about", "target is 11"],
    ("docs/hard-to-read.md", 12, "error"): ["Hard to read", "Restorative justice interventions", "necessitate"],
    ("docs/hard-to-read.md", 16, "error"): ["Hard to read", "Practitioners systematically", "circumstances"],
    # Words on the avoid list: blaming wording is an error, jargon a warning; with the replacement.
    ("docs/avoid-words.md", 10, "error"): ['"Alleged Victim"', '"victim, or the person who was harmed"'],
    ("docs/avoid-words.md", 12, "warning"): ['"utilise"', '"use"', '"in order to"', '"to"'],
}


@pytest.fixture(scope="module")
def fixture_report(run_checks):
    return run_checks("-f", str(FIXTURE / "mkdocs.yml"), "--today", TODAY)


def test_the_checks_find_exactly_the_seeded_mistakes(fixture_report):
    """Nothing missed, and nothing reported on the clean pages (index.md, good-page.md), whose
    code block, quoted review date, setext headings, admonition and links are all fine."""
    assert set(problems(fixture_report.stdout)) == set(SEEDED), fixture_report.stdout
    assert fixture_report.returncode == 1
    assert "errors and" in fixture_report.stdout.splitlines()[-1]


@pytest.mark.parametrize("where", sorted(SEEDED), ids=lambda w: f"{w[0]}:{w[1]}")
def test_each_message_names_the_file_and_line_and_says_what_to_do(fixture_report, where):
    messages = " ".join(problems(fixture_report.stdout).get(where, []))
    assert messages, f"nothing reported at {where[0]}:{where[1]}"
    for words in SEEDED[where]:
        assert words in messages, (words, messages)


def test_the_strict_build_fails_on_errors_with_the_same_messages(tmp_path, run_python):
    result = run_python("-m", "mkdocs", "build", "--strict", "-f", str(FIXTURE / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "out"), cwd=ROOT, env=ENV, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Aborted with" in output and "in strict mode" in output
    reported = problems(re.sub(r"^(WARNING|INFO) +- +", "", output, flags=re.M))
    # Errors are MkDocs warnings (they fail --strict); warnings are information.
    for where in SEEDED:
        assert where in reported, (where, output)
    assert re.search(r"^WARNING +- +docs/links\.md:13: error: ", output, re.M)
    assert re.search(r"^INFO +- +docs/images\.md:18: warning: ", output, re.M)


def _site_with(tmp_path: Path, pages: dict[str, str]) -> Path:
    """A copy of the fixture site's clean pages plus ``pages``, hooks by absolute path."""
    config = (FIXTURE / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("../../../mkdocs_adapter/", f"{ROOT}/mkdocs_adapter/")
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    shutil.copy(FIXTURE / "content-style.yml", tmp_path / "content-style.yml")
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURE / "docs" / "images", docs / "images")
    for name in ("index.md", "good-page.md"):
        shutil.copy(FIXTURE / "docs" / name, docs / name)
    for name, text in pages.items():
        (docs / name).write_text(text, encoding="utf-8")
    return tmp_path / "mkdocs.yml"


def test_warnings_alone_do_not_stop_the_build(tmp_path, run_python):
    today = dt.date.today().isoformat()
    config = _site_with(tmp_path, {"jargon.md": (
        f"---\ndescription: A page with one formal word.\nreviewed: {today}\nowner: Test team\n---\n\n"
        "# Jargon\n\nYou can utilise the form when you are ready.\n")})
    result = run_python("-m", "mkdocs", "build", "--strict", "-f", str(config), "--site-dir", str(tmp_path / "out"), cwd=ROOT, env=ENV, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r'^INFO +- +docs/jargon\.md:9: warning: Avoid "utilise"\. Use "use"', result.stderr, re.M)


@pytest.mark.parametrize(
    "today, expected",
    [
        ("2027-09-30", None),  # index.md was reviewed on 2026-11-01: not yet due
        ("2027-10-01", "warning"),  # 11 months: due for review
        ("2027-11-01", "error"),  # 12 months: the build stops
        ("2026-10-31", "error"),  # before the review date: it must be a typo
    ],
)
def test_review_dates_warn_after_11_months_and_stop_the_build_after_12(today, expected, run_checks):
    result = run_checks("-f", str(FIXTURE / "mkdocs.yml"), "--today", today,
                        str(FIXTURE / "docs" / "index.md"))
    found = problems(result.stdout)
    if expected is None:
        assert found == {}, result.stdout
        assert result.returncode == 0
    else:
        assert list(found) == [("docs/index.md", 4, expected)], result.stdout
        assert result.returncode == (1 if expected == "error" else 0)
        message = found[("docs/index.md", 4, expected)][0]
        assert f"reviewed: {today}" in message
        if expected == "warning":
            assert "due for review" in message and "From 1 November 2027" in message


def test_the_review_ages_come_from_content_style(tmp_path, run_checks):
    config = _site_with(tmp_path, {})
    style = (tmp_path / "content-style.yml").read_text(encoding="utf-8")
    (tmp_path / "content-style.yml").write_text(
        style.replace("warn_after_months: 11", "warn_after_months: 2").replace("error_after_months: 12",
                                                                             "error_after_months: 3"),
        encoding="utf-8")
    result = run_checks("-f", str(config), "--today", "2027-01-15")
    assert set(problems(result.stdout)) == {("docs/index.md", 4, "warning"), ("docs/good-page.md", 4, "warning")}


def test_the_reading_age_is_textstats_and_warns_between_the_target_and_the_limit():
    import textstat

    checks = load_checks()

    textstat.set_lang("en_GB")
    sentence = "Restorative justice means you meet or talk with the person who harmed you."
    assert checks.reading_age(sentence) == pytest.approx(textstat.flesch_kincaid_grade(sentence) + 5)

    page = checks.Page.read(FIXTURE / "docs" / "hard-to-read.md", "hard-to-read.md", "hard-to-read.md")
    # Markdown, front matter and headings are stripped; each paragraph is a sentence here.
    assert [s.line for s in checks.sentences(page)] == [10, 12, 14, 16]
    lenient = checks.Style(target_reading_age=25, reading_age_limit=60)
    found = checks.check_reading_age(page, lenient)
    assert {p.level for p in found} == {"warning"}
    assert [p.line for p in found] == [8, 12, 16]


def test_link_addresses_markdown_and_code_do_not_count_towards_reading_age():
    checks = load_checks()

    assert checks.strip_inline(
        "Read [how it works](how-it-works.md){ .md-button } and **this** `code`, "
        "<span>here</span> ![A map](map.png)."
    ) == "Read how it works and this , here ."


def test_every_phrase_on_the_real_avoid_list_is_found_with_its_endings():
    checks = load_checks()

    style = checks.Style.load(ROOT / "content-style.yml")
    assert style.avoid_errors and style.avoid_warnings
    for phrase, instead in {**style.avoid_errors, **style.avoid_warnings}.items():
        assert instead.strip(), phrase
        pattern = checks._phrase_pattern(phrase)
        assert pattern.search(f"Here: {phrase.upper()}, in a sentence."), phrase
        assert not pattern.search(f"Here: x{phrase}x."), phrase
    commence = checks._phrase_pattern("commence")
    assert all(commence.search(w) for w in ["commences", "commenced", "commencing"])
    # "facilitator" is a different word (explained where it is used), not "facilitate".
    assert not checks._phrase_pattern("facilitate").search("A facilitator runs the meeting.")


# ---------------------------------------------------------------- The real site

def test_the_real_site_passes_every_check(run_checks):
    result = run_checks()
    pages = sorted((ROOT / "site_content").rglob("*.md"))
    found = problems(result.stdout)
    # Only the calendar can add problems here: a page due for review (reviewed: is then out of date);
    # and a translation not yet checked against its English page, or made stale by a change to it
    # (tests/test_languages.py): the English pages change first, the translations follow.
    expected = ("due for review", "has not been checked against", "has changed since this translation")
    assert not [k for k, messages in found.items()
                if not all(any(e in m for e in expected) for m in messages)], result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    # ...and the settings in mkdocs.yml still at their placeholders (warnings, tested below).
    unset = len(setting_warnings(result.stdout))  # the translator's check among them
    if not found and not unset:
        assert result.stdout.strip().splitlines()[-1] == f"Content checks: all {len(pages)} pages passed."
    elif not found:
        assert result.stdout.strip().splitlines()[-1].startswith(
            f"Content checks: 0 errors and {unset} warning{'' if unset == 1 else 's'} in {len(pages)} pages.")


# ---------------------------------------------------------------- Settings that pages show (mkdocs.yml extra)

# The file as the reader ran the checks: mkdocs.yml from the repository's folder, a full path from elsewhere.
SETTING_WARNING = re.compile(r"^(?:\S*/)?mkdocs\.yml:(?P<line>\d+): warning: The setting extra\.(?P<key>\w+) in mkdocs\.yml "
                             r"(?P<state>is still the placeholder|is empty|is not set)", re.M)
# Every setting that only our force can word, at the placeholder it ships with (an empty one: "is empty").
# translations_checked_by only warns on a site in several languages: tests/test_languages.py.
PLACEHOLDERS = {key: setting.default for key, setting in SITE_SETTINGS.items()
                if setting.placeholder and not setting.translations}


def expected_state(placeholder: str) -> str:
    return "is still the placeholder" if placeholder else "is empty"


def setting_warnings(output: str) -> dict[str, tuple[int, str]]:
    """{setting: (line in mkdocs.yml, state)} from the checks' output."""
    return {m["key"]: (int(m["line"]), m["state"]) for m in SETTING_WARNING.finditer(output)}


def _line_of(config: Path, key: str) -> int:
    lines = config.read_text(encoding="utf-8").splitlines()
    return next(n for n, text in enumerate(lines, 1) if re.match(rf"\s*{key}:", text))


def _site_with_extra(tmp_path: Path, extra: dict | None) -> Path:
    """The fixture site with these settings in place of its own (None: no extra: at all)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = _site_with(tmp_path, {})
    text = config.read_text(encoding="utf-8").split("\nextra:\n")[0] + "\n"
    config.write_text(text + (yaml.safe_dump({"extra": extra}) if extra is not None else ""), encoding="utf-8")
    return config


def test_the_force_s_own_words_are_placeholders_that_promise_nothing():
    """What only the force can promise (issue 19) ships as a placeholder the checks warn about,
    worded so that it promises nothing: it reports what the service does, or says "ask us"."""
    assert {"reply_within", "complaints_url", "contact_promise", "who_reads", "offender_contact", "lawful_basis",
            "privacy_rights", "data_protection_officer", "accessibility_tested"} <= set(PLACEHOLDERS)
    for key, placeholder in PLACEHOLDERS.items():
        for promise in ("we will", "we never", "only ", "public task", "trained"):
            assert promise not in placeholder.lower(), (key, promise)
        # The advice names the setting and an example of the words the force might confirm.
        assert SITE_SETTINGS[key].example and SITE_SETTINGS[key].example != placeholder, key


def test_settings_at_their_placeholders_are_warnings_naming_mkdocs_yml(tmp_path, run_checks, run_python):
    config = _site_with_extra(tmp_path, dict(PLACEHOLDERS))
    result = run_checks("-f", str(config), "--today", TODAY)
    assert result.returncode == 0, result.stdout + result.stderr  # a warning never stops the build
    assert setting_warnings(result.stdout) == {
        key: (_line_of(config, key), expected_state(placeholder)) for key, placeholder in PLACEHOLDERS.items()
    }, result.stdout
    assert 'Set it to how soon the hub replies' in result.stdout
    assert "Set it to the web address of our police force's page on how to make a complaint" in result.stdout
    assert "Set it to who reads the messages people send, once the hub's manager confirms it" in result.stdout
    assert "..\n" not in result.stdout  # an example ending in a full stop gets no second one

    # In the build too, as information, so --strict still builds.
    build = run_python("-m", "mkdocs", "build", "--strict", "-f", str(config), "--site-dir", str(tmp_path / "out"), cwd=tmp_path, env=ENV, timeout=120)
    assert build.returncode == 0, build.stdout + build.stderr
    assert re.search(r"^INFO +- +(?:\S*/)?mkdocs\.yml:\d+: warning: The setting extra\.reply_within", build.stderr, re.M)
    assert re.search(r"^INFO +- +(?:\S*/)?mkdocs\.yml:\d+: warning: The setting extra\.offender_contact", build.stderr, re.M)


def test_set_settings_give_no_warning_and_empty_or_unset_ones_do(tmp_path, run_checks):
    confirmed = {key: f"Words the force confirmed for {key}." for key in PLACEHOLDERS}
    confirmed["complaints_url"] = "https://www.force.example/complaints"
    config = _site_with_extra(tmp_path / "set", confirmed)
    assert setting_warnings(run_checks("-f", str(config), "--today", TODAY).stdout) == {}
    config = _site_with_extra(tmp_path / "empty", {**confirmed, "reply_within": "", "who_reads": ""})
    assert setting_warnings(run_checks("-f", str(config), "--today", TODAY).stdout) == {
        "reply_within": (_line_of(config, "reply_within"), "is empty"),
        "who_reads": (_line_of(config, "who_reads"), "is empty")}
    # Unset, a page shows the placeholder (contract/site_settings.py): the warning names extra: or line 1.
    config = _site_with_extra(tmp_path / "unset", {**confirmed, "reply_within": None})
    config.write_text(re.sub(r"(?m)^\s*reply_within:.*\n", "", config.read_text(encoding="utf-8")), encoding="utf-8")
    result = run_checks("-f", str(config), "--today", TODAY)
    assert setting_warnings(result.stdout) == {"reply_within": (_line_of(config, "extra"), "is not set")}
    assert 'so pages show the placeholder "a few working days". Add a line under extra:' in result.stdout
    config = _site_with_extra(tmp_path / "none", None)
    assert setting_warnings(run_checks("-f", str(config), "--today", TODAY).stdout) == {
        key: (1, "is not set") for key in PLACEHOLDERS}


def test_the_real_settings_warn_exactly_while_they_are_placeholders(run_checks):
    extra = yaml.safe_load(re.sub(r"!ENV \[[^\]]*\]", "x", (ROOT / "mkdocs.yml").read_text(encoding="utf-8")))["extra"]
    result = run_checks()
    expected = {key: ((_line_of(ROOT / "mkdocs.yml", key), expected_state(extra[key] or "")) if key in extra
                      else (_line_of(ROOT / "mkdocs.yml", "extra"), "is not set"))
                for key, placeholder in PLACEHOLDERS.items()
                if key not in extra or (extra[key] or "") in ("", placeholder)}
    assert {k: v for k, v in setting_warnings(result.stdout).items() if k in PLACEHOLDERS} == expected, result.stdout
    # The translator's check, on this site in two languages: tests/test_languages.py.
    assert ("extra.translations_checked_by" in result.stdout) == (
        extra.get("translations_checked_by", "nobody yet") == "nobody yet"), result.stdout


def test_the_checks_run_in_every_build():
    config = yaml.safe_load(re.sub(r"!ENV \[[^\]]*\]", "x", (ROOT / "mkdocs.yml").read_text(encoding="utf-8")))
    assert config["hooks"][0] == "mkdocs_adapter/checks.py"


def _front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def _built(site: Path, md: Path) -> BeautifulSoup:
    stem = md.relative_to(ROOT / "site_content").with_suffix("").as_posix()
    page = site / ("index.html" if stem == "index" else f"{stem}/index.html")
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def test_every_page_shows_when_it_was_last_reviewed(built_site):
    for md in sorted((ROOT / "site_content").glob("*.md")):
        reviewed = _front_matter(md)["reviewed"]
        stamp = _built(built_site, md).select_one("article p.page-reviewed")
        assert stamp is not None, md.name
        assert stamp.get_text(" ", strip=True) == f"Last reviewed: {reviewed.day} {reviewed.strftime('%B %Y')}"
        assert stamp.time["datetime"] == reviewed.isoformat()
    example = _built(built_site, ROOT / "site_content" / "index.md").select_one("p.page-reviewed")
    assert example.get_text(" ", strip=True) == "Last reviewed: 3 December 2026"


# ---------------------------------------------------------------- The editor's guide

REPO_URL = "https://github.com/our-force/rj-site"  # `mkdocs serve` is a staff preview: edit links go there

def _guide_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_guide_has_the_commands_this_file_runs():
    assert _guide_commands() == [
        "make setup",
        ".venv/bin/mkdocs serve",
        "make check",
        ".venv/bin/python -m sitebuild check site_content/how-it-works.md",
        ".venv/bin/python -m sitebuild translated site_content/cy/how-it-works.md",  # test_languages.py runs it
        ".venv/bin/python -m sitebuild check site_content/easy-read/",
    ]


@pytest.mark.parametrize("command", ["make setup", "make check",
                                     ".venv/bin/python -m sitebuild check site_content/how-it-works.md",
                                     ".venv/bin/python -m sitebuild check site_content/easy-read/"])
def test_the_guides_commands_work_as_written(command, run_command):
    assert command in _guide_commands()
    result = run_command(*shlex.split(command), env=ENV, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    if "check" in command:
        assert result.stdout.strip().splitlines()[-1].startswith("Content checks: ")


def test_the_guides_preview_command_serves_the_site_with_review_dates_and_edit_links(tmp_path, run_command):
    """`.venv/bin/mkdocs serve`, on a free port rather than 8000 so it cannot clash with anything:
    a preview for staff, so with REPO_URL set its pages have "Edit this page" links."""
    command = ".venv/bin/mkdocs serve"
    assert command in _guide_commands()
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = run_command.start(*shlex.split(command), "--dev-addr", f"127.0.0.1:{port}",
                               env={**ENV, "REPO_URL": REPO_URL}, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/how-it-works/", timeout=5) as response:
                    page = response.read().decode("utf-8")
                break
            except (OSError, socket.timeout):
                time.sleep(0.3)
        assert page is not None, "mkdocs serve did not answer:\n" + (tmp_path / "serve.log").read_text()
        assert "Last reviewed:" in page and "How restorative justice works" in page
        edit = BeautifulSoup(page, "html.parser").select_one("article a[rel=edit]")
        assert edit["href"] == f"{REPO_URL}/edit/main/site_content/how-it-works.md"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_the_guides_example_message_is_what_the_check_says(tmp_path, run_checks):
    example = re.search(r"```text\n(site_content/\S+:\d+: error: .+)\n```", GUIDE.read_text(encoding="utf-8"))[1]
    file, line = example.split(":")[:2]
    wrong, right = re.search(r'The link "([^"]+)".*Did you mean "([^"]+)"', example).groups()
    # The English pages (the example is one); the Welsh ones are checked in tests/test_languages.py.
    shutil.copytree(ROOT / "site_content", tmp_path / "site_content", ignore=shutil.ignore_patterns("cy"))
    lines = (tmp_path / file).read_text(encoding="utf-8").splitlines(keepends=True)
    assert f"]({right})" in lines[int(line) - 1]
    lines[int(line) - 1] = lines[int(line) - 1].replace(f"]({right})", f"]({wrong})")
    (tmp_path / file).write_text("".join(lines), encoding="utf-8")
    config = yaml.safe_load(re.sub(r"!ENV \[[^\]]*\]", "x", (ROOT / "mkdocs.yml").read_text(encoding="utf-8")))
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump({
        "site_name": "x", "docs_dir": "site_content", "markdown_extensions": config["markdown_extensions"],
    }), encoding="utf-8")
    shutil.copy(ROOT / "content-style.yml", tmp_path / "content-style.yml")
    # The day of the latest review, so an editor's new reviewed: date is never "in the future".
    latest = max(str(_front_matter(md)["reviewed"]) for md in (ROOT / "site_content").rglob("*.md"))
    result = run_checks("-f", str(tmp_path / "mkdocs.yml"), "--today", latest)
    assert result.stdout.splitlines()[0] == example


def test_the_guide_lists_every_page_and_its_links_work():
    text = GUIDE.read_text(encoding="utf-8")
    for md in sorted((ROOT / "site_content").rglob("*.md")):
        assert f"`{md.relative_to(ROOT).as_posix()}`" in text, md
    # Links in the guide's own text, not in its examples of Markdown.
    text = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", text, flags=re.S))
    for target in re.findall(r"\]\((?!https?:|#)([^)#\s]+)", text):
        assert (ROOT / target).exists(), target
    headings = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                for h in re.findall(r"^#+ (.+)$", text, re.M)}
    for anchor in re.findall(r"\]\(#([^)]+)\)", text):
        assert anchor in headings, anchor
