"""Easy Read pages: the format's own rules (EDITING.md, "Easy Read pages").

A page with ``easy_read: true`` in its front matter follows the Easy Read format (Mencap's "Am I
making myself clear?", GOV.UK's accessible communication formats), in every language:

- every sentence has at most ``EASY_READ_WORDS`` words (15);
- one sentence a line: a new sentence starts on a new line (or a new paragraph, or list item);
- a picture beside every idea: each picture goes with at most 3 sentences after it, in the same
  section; a setting's marker line (``<!-- extra.emergency -->``) is an idea of its own, with a
  picture just before it;
- every picture says what it means (alt text that is not a file name or "picture"; links.py
  already stops a picture with none);
- no hard word (content-style.yml, ``easy_read: hard_words:``, per language) unless the page's word
  list explains it: a list item that starts with the word in bold, like ``- **offender**: the
  person who harmed you``.

They replace the reading age (an English formula) and the 25-word warning on these pages: the same
rules in English and Welsh, and the ones the format asks for (site.py).
"""
from __future__ import annotations

import re

from .links import IMAGE_FILE, VAGUE_ALT_TEXT, images
from .markdown import Page, plain
from .problem import Problem
from .reading_age import sentences
from .style import STYLE_FILE, Style
from .words import _phrase_pattern, visible_lines

EASY_READ = "easy_read"  # the front matter setting
FOLDER = "easy-read"  # where the Easy Read pages are, in each language
EASY_READ_WORDS = 15  # words in a sentence, at most
SENTENCES_PER_PICTURE = 3
MARKER_LINE = re.compile(r"^<!-- extra\.\w+ -->$")  # a whole setting; a part (extra.victim_support.phone) is inside a sentence
WORD_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])[ \t]+\*\*(?P<word>[^*]+)\*\*")


def is_easy_read(page: Page) -> bool:
    return page.meta.get(EASY_READ) is True


def word_list(page: Page) -> dict[str, int]:
    """The words the page's word list explains (in small letters), with their lines."""
    found = {}
    for number, text in page.body():
        match = WORD_LIST_ITEM.match(text)
        if match:
            found.setdefault(plain(match.group("word")).lower().strip(" :"), number)
    return found


def check_easy_read(page: Page, style: Style, language: str = "en") -> list[Problem]:
    if not is_easy_read(page):
        if f"/{FOLDER}/" in f"/{page.src_uri}":
            return [Problem(page.name, page.meta_line(EASY_READ), "warning",
                            f"This page is in the {FOLDER} folder but is not marked as Easy Read, so it does not get "
                            f"the Easy Read look or checks. Add this line to its front matter: {EASY_READ}: true")]
        return []
    problems: list[Problem] = []

    def error(line: int, message: str) -> None:
        problems.append(Problem(page.name, line, "error", message))

    said = sentences(page)
    starts: dict[int, int] = {}
    for sentence in said:
        count = len(sentence.text.split())
        if count > EASY_READ_WORDS:
            quoted = sentence.text if len(sentence.text) <= 90 else sentence.text[:87].rstrip() + "..."
            error(sentence.line, f'This sentence has {count} words: "{quoted}" On an Easy Read page a sentence has '
                                 f"{EASY_READ_WORDS} words or fewer. Split it into two sentences, one idea each.")
        starts[sentence.line] = starts.get(sentence.line, 0) + 1
    for line, count in sorted(starts.items()):
        if count > 1:
            error(line, f"{count} sentences start on this line. On an Easy Read page each sentence starts on a line "
                        "of its own: press Enter after the full stop.")

    pictures = images(page)
    for line, alt, target in pictures:
        alt = (alt or "").strip()
        if alt and (alt.lower().strip(".") in VAGUE_ALT_TEXT or IMAGE_FILE.search(alt)):
            error(line, f'The picture "{target}" has the alt text "{alt}". On an Easy Read page every picture shows '
                        "what the sentence beside it says: write that in the square brackets, like "
                        "![Two people talking at a table with a helper](...).")
    problems.extend(_pictures_beside_ideas(page, said, {line for line, alt, _ in pictures if (alt or "").strip()}))
    problems.extend(_hard_words(page, style, language))
    return problems


def _pictures_beside_ideas(page: Page, said, picture_lines: set[int]) -> list[Problem]:
    """Each picture goes with the (up to 3) sentences after it, in its section; a marker line needs a
    picture just before it."""
    events: list[tuple[int, int, str]] = []  # (line, order on the line, kind)
    events += [(line, 0, "heading") for line, _, _ in page.headings()]
    events += [(line, 1, "picture") for line in picture_lines]
    events += [(s.line, 2, "sentence") for s in said]
    events += [(number, 2, "marker") for number, text in page.body() if MARKER_LINE.match(text.strip())]
    problems = []
    covered = 0  # sentences the last picture may still go with
    previous = None
    for line, _, kind in sorted(events):
        if kind == "heading":
            covered = 0
        elif kind == "picture":
            covered = SENTENCES_PER_PICTURE
        elif kind == "marker":
            if previous != "picture":
                problems.append(Problem(page.name, line, "error",
                                        "This setting shows an idea of its own on an Easy Read page. Put a picture "
                                        "that shows it just before this line, like ![A phone: call for help](...)."))
            covered = 0
        elif covered:
            covered -= 1
        else:
            problems.append(Problem(page.name, line, "error",
                                    "This sentence has no picture beside it. On an Easy Read page each picture goes "
                                    f"with {SENTENCES_PER_PICTURE} sentences or fewer, under the same heading. Add a "
                                    "picture that shows this idea just before this sentence."))
            covered = SENTENCES_PER_PICTURE - 1  # one message for the idea, not one for each sentence
        previous = kind
    return problems


def _hard_words(page: Page, style: Style, language: str) -> list[Problem]:
    """An entry may list a word's forms, like "troseddwr | droseddwr" (Welsh mutates first letters):
    explaining one form in the word list explains them all."""
    explained = word_list(page)
    problems = []
    for entry in style.easy_read_hard_words.get(language, []):
        forms = [form.strip() for form in entry.split("|") if form.strip()]
        if not forms or any(form.lower() in explained for form in forms):
            continue
        patterns = [_phrase_pattern(form) for form in forms]
        found = next(((number, match.group(0)) for number, text in visible_lines(page) for pattern in patterns
                      for match in [pattern.search(text)] if match), None)
        if found:
            problems.append(Problem(page.name, found[0], "error",
                                    f'"{found[1]}" is a hard word (the Easy Read list in {STYLE_FILE}). Explain it '
                                    "the first time you use it, and add it to the page's word list as a list item: "
                                    f"- **{forms[0]}**: what it means, in a short sentence. Or use an everyday word."))
    return problems
