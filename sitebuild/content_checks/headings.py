"""Headings: one main heading, and no level skipped (EDITING.md, "Headings")."""
from __future__ import annotations

from .markdown import Page
from .problem import Problem


def check_headings(page: Page) -> list[Problem]:
    problems = []
    headings = page.headings()
    main = [h for h in headings if h[1] == 1]
    if not main:
        problems.append(Problem(page.name, page.body_start, "error",
                                "This page has no main heading. Add one line near the top starting with # and a space, "
                                "like: # How restorative justice works"))
    for extra in main[1:]:
        problems.append(Problem(page.name, extra[0], "error",
                                f"This page has more than one main heading (# ...); the first is on line {main[0][0]}. "
                                "A page has only one. Change this one to a section heading starting with ##."))
    level = 1
    for line, this_level, text in headings:
        if this_level > level + 1:
            hashes = "#" * (level + 1)
            problems.append(Problem(page.name, line, "error",
                                    f"This heading skips a level: it is level {this_level} ({'#' * this_level}) but the "
                                    f"heading before it is level {level} ({'#' * level}). Screen reader users move "
                                    f"around by heading levels. Use {hashes} here."))
        level = this_level
    return problems
