"""Reading age: the page's running text, by textstat's Flesch-Kincaid grade (EDITING.md, "Reading age")."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .markdown import (
    ADMONITION,
    ATX_HEADING,
    HTML_HEADING,
    LIST_ITEM,
    REFERENCE_DEFINITION,
    SETEXT_UNDERLINE,
    TABLE_ROW,
    THEMATIC_BREAK,
    Page,
    plain,
)
from .problem import Problem
from .style import Style

SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")


@dataclass
class Sentence:
    line: int
    text: str


def sentences(page: Page) -> list[Sentence]:
    """The page's running text as sentences. Headings, tables, code and admonition titles are left
    out; each list item counts as a sentence of its own."""
    units: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []

    def close():
        nonlocal current
        if current:
            units.append(current)
        current = []

    heading_lines = {line for line, _, _ in page.headings()}
    for number, text in page.body():
        stripped = text.strip()
        if (not stripped or number in heading_lines or ATX_HEADING.match(text) or SETEXT_UNDERLINE.match(text) or TABLE_ROW.match(text)
                or ADMONITION.match(text) or THEMATIC_BREAK.match(text) or REFERENCE_DEFINITION.match(text)
                or HTML_HEADING.search(text)):
            close()
            continue
        item = LIST_ITEM.match(text)
        if item:
            close()
            text = text[item.end():]
        elif current and current[-1][0] != number - 1:
            close()
        current.append((number, text.strip().lstrip(">").strip()))
    close()

    found: list[Sentence] = []
    for unit in units:
        # Join the unit's lines, remembering where each line starts.
        joined, starts = "", []
        for number, text in unit:
            words = plain(text)
            if not words:
                continue
            if joined:
                joined += " "
            starts.append((len(joined), number))
            joined += words
        if not joined:
            continue
        if joined[-1] not in ".!?:;":
            joined += "."
        position = 0
        for piece in SENTENCE_END.split(joined):
            offset = joined.find(piece, position)
            position = offset + len(piece)
            line = max((n for start, n in starts if start <= offset), default=unit[0][0])
            piece = piece.strip()
            if piece:
                found.append(Sentence(line, piece))
    return found


def _textstat():
    import textstat

    textstat.set_lang("en_GB")
    return textstat


def reading_age(text: str) -> float:
    """UK reading age: the Flesch-Kincaid grade (from textstat) plus 5."""
    return _textstat().flesch_kincaid_grade(text) + 5


def long_words(text: str) -> list[str]:
    ts = _textstat()
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", text)
    seen = []
    for word in words:
        if ts.syllable_count(word) >= 3 and word.lower() not in seen:
            seen.append(word.lower())
    return seen


def check_reading_age(page: Page, style: Style) -> list[Problem]:
    # Labels of one or two words ("Forms", "the crime") are not sentences: left out.
    scored = [s for s in sentences(page) if len(s.text.split()) >= 3]
    if not scored:
        return []
    age = round(reading_age(" ".join(s.text for s in scored)))
    if age <= style.target_reading_age:
        return []
    level = "error" if age > style.reading_age_limit else "warning"
    main = next((line for line, lvl, _ in page.headings() if lvl == 1), page.body_start)
    target = f"{style.target_reading_age:g}"
    problems = [Problem(page.name, main, level,
                        f"This page needs a reading age of about {age}. Our target is {target} or under"
                        + (f", and above {style.reading_age_limit:g} the website will not build" if level == "error" else "")
                        + ". Make the sentences listed next shorter, or use everyday words.")]
    hard = sorted(((reading_age(s.text), s) for s in scored), key=lambda pair: -pair[0])
    for sentence_age, sentence in hard[: style.hard_sentences_to_show]:
        if round(sentence_age) <= style.target_reading_age:
            break
        quoted = sentence.text if len(sentence.text) <= 120 else sentence.text[:117].rstrip() + "..."
        words = long_words(sentence.text)
        hint = f" Long words: {', '.join(words[:5])}." if words else ""
        count = len(sentence.text.split())
        length = f" It has {count} words; aim for 15 or fewer." if count > 15 else ""
        problems.append(Problem(page.name, sentence.line, level,
                                f'Hard to read (reading age {round(sentence_age)}): "{quoted}"{length}{hint} '
                                "Split it up, or use shorter words."))
    return problems
