"""The settings at the top of a page: description, review date, owner (EDITING.md, "Description and review date")."""
from __future__ import annotations

import datetime as dt

from .markdown import Page
from .problem import Problem
from .style import Style


def as_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _add_months(day: dt.date, months: int) -> dt.date:
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def long_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def check_front_matter(page: Page, style: Style, today: dt.date) -> list[Problem]:
    problems = []

    def report(level, line, message):
        problems.append(Problem(page.name, line, level, message))

    example = (f"---\ntitle: Page title\ndescription: One sentence about the page.\n"
               f"reviewed: {today.isoformat()}\nowner: Victims and witness hub\n---")
    if page.front_matter_lines is None and page.meta_error is None:
        report("error", 1, "This page has no front matter (the settings at the very top). Add these lines at the top "
                           "of the file: " + example.replace("\n", " | "))
        return problems
    if page.meta_error:
        report("error", *page.meta_error)
        return problems

    description = page.meta.get("description")
    if not isinstance(description, str) or not description.strip():
        report("error", page.meta_line("description"),
               "The page has no description. Add a line 'description: ...' to the front matter with one sentence "
               "that says what the page is about. Search engines show it under the page's name.")
    elif len(description.strip()) > style.description_max_length:
        report("warning", page.meta_line("description"),
               f"The description is {len(description.strip())} characters long. Search engines cut it off after "
               f"about {style.description_max_length}. Make it shorter.")

    reviewed_line = page.meta_line("reviewed")
    if "reviewed" not in page.meta or page.meta.get("reviewed") in (None, ""):
        report("error", reviewed_line,
               "The page has no review date. When you have checked the page is right, add a line "
               f"'reviewed: {today.isoformat()}' (today's date, year-month-day) to the front matter.")
    else:
        reviewed = as_date(page.meta["reviewed"])
        if reviewed is None:
            report("error", reviewed_line,
                   f"The review date \"{page.meta['reviewed']}\" is not a date we can read. Write it as "
                   f"year-month-day, like reviewed: {today.isoformat()}")
        elif reviewed > today:
            report("error", reviewed_line,
                   f"The review date {reviewed.isoformat()} is in the future. Write the date you last checked the "
                   f"page, like reviewed: {today.isoformat()}")
        else:
            error_from = _add_months(reviewed, style.review_error_after_months)
            warn_from = _add_months(reviewed, style.review_warn_after_months)
            if today >= error_from:
                report("error", reviewed_line,
                       f"This page was last reviewed on {long_date(reviewed)}, more than "
                       f"{style.review_error_after_months} months ago. Check with the page's owner that everything "
                       f"on it is still right, then change the date to reviewed: {today.isoformat()}")
            elif today >= warn_from:
                report("warning", reviewed_line,
                       f"This page is due for review: it was last reviewed on {long_date(reviewed)}. Check it is "
                       f"still right, then change the date to reviewed: {today.isoformat()}. From "
                       f"{long_date(error_from)} the website will not build until it is reviewed.")

    owner = page.meta.get("owner")
    if not isinstance(owner, str) or not owner.strip():
        report("warning", page.meta_line("owner"),
               "The page has no owner. Add a line 'owner: ...' to the front matter naming the team that keeps the "
               "page right, like owner: Victims and witness hub")
    return problems
