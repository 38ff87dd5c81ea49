"""The Easy Read checks (sitebuild/content_checks/easy_read.py): each rule catches a broken page
and names its file and line; a page that keeps the format passes; they run on Easy Read pages
only, in English and Welsh, instead of the reading age; the real Easy Read pages pass them."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sitebuild import languages
from sitebuild.content_checks.easy_read import check_easy_read
from sitebuild.content_checks.markdown import Page
from sitebuild.content_checks.site import check_page, load_site
from sitebuild.content_checks.style import Style, find_style_file

ROOT = Path(__file__).resolve().parent.parent
STYLE = Style(easy_read_hard_words={"en": ["offender", "restorative justice"],
                                    "cy": ["troseddwr | droseddwr"]})
FRONT = "---\ntitle: Easy Read\ndescription: A page in Easy Read.\nreviewed: 2026-12-01\nowner: Hub\neasy_read: true\n---\n"
PICTURE = "![Two people talking with a helper](../images/easy-read/talking.svg)"
# A page that keeps every rule: 3 sentences to a picture, a sentence a line, the hard word in its word list.
GOOD = FRONT + f"""
# What restorative justice is

{PICTURE}

Restorative justice means you talk with the person who harmed you.
We call that person the offender.
It is always your choice.

## Words we use

{PICTURE}

- **restorative justice**: you talk with the person who harmed you
- **offender**: the person who harmed you
"""


def page_of(tmp_path: Path, text: str, name: str = "easy-read/index.md") -> Page:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Page.read(path, f"site_content/{name}", name)


def found(tmp_path, text, language="en"):
    return [(p.line, p.level, p.message) for p in check_easy_read(page_of(tmp_path, text), STYLE, language)]


def test_a_page_that_keeps_the_format_passes(tmp_path):
    assert found(tmp_path, GOOD) == []


def test_a_page_not_marked_easy_read_is_not_held_to_it(tmp_path):
    unmarked = GOOD.replace("easy_read: true\n", "") + ("\nThis sentence has far more than fifteen words in it, so "
                                                       "an Easy Read page could never keep it.\n")
    assert [p.message for p in check_easy_read(page_of(tmp_path, unmarked, "how-it-works.md"), STYLE)] == []
    # ...but in the Easy Read folder, the missing mark is a warning.
    [(line, level, message)] = found(tmp_path, unmarked)
    assert (line, level) == (1, "warning") and "easy_read: true" in message


def test_a_sentence_over_15_words_is_an_error_on_its_line(tmp_path):
    text = GOOD.replace("We call that person the offender.",
                        "We call that person the offender, and this sentence goes on far too long for Easy Read.")
    [(line, level, message)] = found(tmp_path, text)
    assert (line, level) == (14, "error")
    assert "17 words" in message and "15 words or fewer" in message


def test_comms_staff_see_each_problem_as_file_line_level_and_what_to_do(tmp_path, run_python):
    """`python -m sitebuild check`, as EDITING.md runs it, on a site with one broken Easy Read page:
    every rule's message, each on the line it is about, and the build would stop (exit 1)."""
    import shutil

    docs = tmp_path / "pages"
    (docs / "images" / "easy-read").mkdir(parents=True)
    shutil.copy(ROOT / "site_content" / "images" / "easy-read" / "talking.svg", docs / "images" / "easy-read")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\ndocs_dir: pages\n", encoding="utf-8")
    (tmp_path / "content-style.yml").write_text(
        "easy_read:\n  hard_words:\n    en:\n      - practitioner\n", encoding="utf-8")
    broken = (GOOD.replace("It is always your choice.", "It is always your choice. A practitioner runs it.")
              .replace("We call that person the offender.",
                       "We call that person the offender, and this sentence goes on far too long for Easy Read.")
              .replace("![Two people talking with a helper]", "![picture]", 1)
              + "\n## Ways to take part\n\nYou can write a letter.\n")
    page_of(docs, broken)
    result = run_python("-m", "sitebuild", "check", "-f", str(tmp_path / "mkdocs.yml"), "--today", "2026-12-03",
                        cwd=tmp_path, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for start, words in [("pages/easy-read/index.md:11: error: ", 'alt text "picture"'),
                         ("pages/easy-read/index.md:14: error: ", "17 words"),
                         ("pages/easy-read/index.md:15: error: ", "2 sentences start on this line"),
                         ("pages/easy-read/index.md:15: error: ", '"practitioner" is a hard word'),
                         ("pages/easy-read/index.md:26: error: ", "no picture beside it")]:
        assert any(line.startswith(start) and words in line for line in lines), (start, words, result.stdout)


def test_two_sentences_on_one_line_are_an_error(tmp_path):
    text = GOOD.replace("We call that person the offender.\nIt is always", "We call that person the offender. It is always")
    [(line, level, message)] = found(tmp_path, text)
    assert (line, level) == (14, "error") and "2 sentences start on this line" in message


def test_a_fourth_sentence_without_a_picture_is_an_error(tmp_path):
    text = GOOD.replace("It is always your choice.\n", "It is always your choice.\nYou can stop at any time.\n")
    [(line, level, message)] = found(tmp_path, text)
    assert (line, level) == (16, "error") and "no picture beside it" in message


def test_a_new_heading_needs_its_own_picture(tmp_path):
    text = GOOD.replace("## Words we use\n\n" + PICTURE, "## Words we use\n")
    [(line, _, message)] = found(tmp_path, text)
    assert line == 20 and "no picture beside it" in message  # the word list's first item


def test_a_setting_shown_by_its_marker_needs_a_picture_just_before_it(tmp_path):
    text = GOOD + "\n## If you are in danger\n\n<!-- extra.emergency -->\n"
    [(line, _, message)] = found(tmp_path, text)
    assert line == 26 and "setting shows an idea of its own" in message
    assert found(tmp_path, GOOD + f"\n## If you are in danger\n\n{PICTURE}\n\n<!-- extra.emergency -->\n") == []


def test_a_picture_whose_alt_text_says_nothing_is_an_error(tmp_path):
    text = GOOD.replace("![Two people talking with a helper]", "![picture]", 1)
    [(line, level, message)] = found(tmp_path, text)
    assert (line, level) == (11, "error") and 'alt text "picture"' in message


def test_a_picture_without_alt_text_stops_the_page_and_gives_no_idea_a_picture(tmp_path):
    text = GOOD.replace("![Two people talking with a helper]", "![]", 1)
    page = page_of(tmp_path, text)
    docs = tmp_path
    (docs / "images" / "easy-read").mkdir(parents=True)
    (docs / "images" / "easy-read" / "talking.svg").write_text("<svg/>", encoding="utf-8")
    site = load_site(docs, {"easy-read/index.md": page.path}, {"images/easy-read/talking.svg"}, base=tmp_path.parent,
                     style=STYLE, today=dt.date(2026, 12, 3))
    lines = {(p.line, p.level): p.message for p in check_page(site.pages["easy-read/index.md"], site)}
    assert "no alt text" in lines[(11, "error")]  # links.py, on every page
    assert "no picture beside it" in lines[(13, "error")]  # and the sentences it stood beside have none


def test_a_hard_word_not_in_the_word_list_is_an_error_where_it_is_first_used(tmp_path):
    text = GOOD.replace("- **offender**: the person who harmed you\n", "")
    [(line, level, message)] = found(tmp_path, text)
    assert (line, level) == (14, "error")
    assert '"offender" is a hard word' in message and "- **offender**:" in message


def test_in_welsh_a_mutated_form_counts_and_explaining_one_form_explains_all(tmp_path):
    welsh = FRONT + f"""
# Beth yw cyfiawnder adferol

{PICTURE}

Rydych yn siarad â'r person a wnaeth niwed i chi.
Rydym yn galw'r person hwnnw yn droseddwr.
"""
    [(line, _, message)] = found(tmp_path, welsh, "cy")
    assert line == 14 and '"droseddwr" is a hard word' in message
    listed = welsh + f"\n## Geiriau\n\n{PICTURE}\n\n- **troseddwr**: y person a wnaeth niwed i chi\n"
    assert found(tmp_path, listed, "cy") == []


def test_easy_read_pages_get_these_checks_instead_of_the_reading_age_in_both_languages(tmp_path):
    long = GOOD.replace("It is always your choice.",
                        "It is always your choice, and nobody can ever make you take part in it at all.")
    docs = tmp_path / "docs"
    english, welsh = page_of(docs, long), page_of(docs, long, "cy/easy-read/index.md")
    (docs / "images" / "easy-read").mkdir(parents=True)
    site_languages = languages.read({"languages": [{"code": "en", "name": "English"},
                                                   {"code": "cy", "name": "Cymraeg"}]})
    site = load_site(docs, {"easy-read/index.md": english.path, "cy/easy-read/index.md": welsh.path},
                     {"images/easy-read/talking.svg"}, base=tmp_path, style=STYLE, today=dt.date(2026, 12, 3),
                     site_languages=site_languages)
    for uri in ("easy-read/index.md", "cy/easy-read/index.md"):
        messages = [p.message for p in check_page(site.pages[uri], site) if p.line == 15]
        assert len(messages) == 1 and "17 words" in messages[0], (uri, messages)
        assert not [p for p in check_page(site.pages[uri], site) if "reading age" in p.message]


def test_a_welsh_page_finds_the_pictures_every_language_shares(tmp_path):
    """site_content/cy/easy-read/ uses ../images/easy-read/, as the English does: each language's build
    has the shared pictures at its top (prepare.py), so the check looks there too."""
    docs = tmp_path / "docs"
    welsh = page_of(docs, GOOD, "cy/easy-read/index.md")
    site = load_site(docs, {"cy/easy-read/index.md": welsh.path}, {"images/easy-read/talking.svg"}, base=tmp_path,
                     style=STYLE, today=dt.date(2026, 12, 3),
                     site_languages=languages.read({"languages": [{"code": "en", "name": "English"},
                                                                  {"code": "cy", "name": "Cymraeg"}]}))
    assert not [p for p in check_page(site.pages["cy/easy-read/index.md"], site) if "goes to a file that does not exist" in p.message]
    missing = GOOD.replace("talking.svg", "talkin.svg")
    site.pages["cy/easy-read/index.md"] = page_of(docs, missing, "cy/easy-read/index.md")
    assert [p.line for p in check_page(site.pages["cy/easy-read/index.md"], site) if "goes to a file that does not exist" in p.message]


@pytest.mark.parametrize("language", ["en", "cy"])
def test_the_real_hard_word_lists_are_there_for_each_language(language):
    style = Style.load(find_style_file(ROOT))
    assert len(style.easy_read_hard_words[language]) >= 10


def test_the_real_easy_read_pages_are_marked_and_pass(tmp_path):
    from sitebuild.content_checks import run
    from sitebuild.settings import read_config

    pages = sorted((ROOT / "site_content").rglob("easy-read/*.md"))
    assert len(pages) >= 8  # English and Welsh
    assert all(Page.read(p, p.name, p.name).meta.get("easy_read") is True for p in pages)
    report = run(read_config(ROOT / "mkdocs.yml"), ROOT / "mkdocs.yml", paths=[str(p) for p in pages])
    assert not [p for p in report.problems if p.level == "error"], "\n".join(map(str, report.problems))
