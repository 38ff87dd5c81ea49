"""Words to avoid: the lists in content-style.yml (EDITING.md, "Words to avoid")."""
from __future__ import annotations

import re

from .markdown import REFERENCE_DEFINITION, Page, strip_inline
from .problem import Problem
from .style import STYLE_FILE, Style


def _phrase_pattern(phrase: str) -> re.Pattern:
    """Whole words, any capitals, spaces or line breaks between words, and common endings
    (commence: commences, commenced, commencing; perpetrator: perpetrators)."""
    words = phrase.strip().split()
    last = words[-1]
    if last.lower().endswith("e") and len(last) > 3:
        ending = re.escape(last[:-1]) + r"(?:e|es|ed|ing)"
    else:
        ending = re.escape(last) + r"(?:s|es|ed|ing)?"
    parts = [re.escape(w) for w in words[:-1]] + [ending]
    return re.compile(r"(?<![\w-])" + r"\s+".join(parts) + r"(?![\w-])", re.IGNORECASE)


def visible_lines(page: Page):
    """(line, text a reader sees) for the title, description and every body line."""
    for key in ("title", "description"):
        if isinstance(page.meta.get(key), str):
            yield page.meta_line(key), page.meta[key]
    for number, text in page.body():
        if REFERENCE_DEFINITION.match(text):
            continue
        yield number, strip_inline(text)


def check_words(page: Page, style: Style) -> list[Problem]:
    problems = []
    lists = [("error", style.avoid_errors), ("warning", style.avoid_warnings)]
    patterns = [(level, phrase, use, _phrase_pattern(phrase)) for level, words in lists for phrase, use in words.items()]
    for number, text in visible_lines(page):
        for level, phrase, use, pattern in patterns:
            for match in pattern.finditer(text):
                problems.append(Problem(page.name, number, level,
                                        f'Avoid "{match.group(0)}". Use "{use}" instead '
                                        f"(from the avoid list in {STYLE_FILE})."))
    return problems
