"""Small, named fixes to the theme's markup in every finished page, each with its reason.

Material and Zensical (classic) share most of their markup, and both leave a few things
that the Nu HTML Checker, HTML_CodeSniffer, axe, IBM Equal Access or a screen reader object to, or that
break a promise of ours (nothing in browser storage). Each fix says what it is for;
a fix that must apply and finds nothing stops the build (the theme changed: look again).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from . import BuildError


@dataclass(frozen=True)
class Fix:
    name: str
    why: str
    apply: Callable[[str], str]
    required: bool = False  # every page must have something for it to fix
    finds: re.Pattern | None = None  # what "something to fix" looks like, when required


def _add_attribute(tag: str, attribute: str) -> str:
    end = -2 if tag.endswith("/>") else -1
    return tag[:end].rstrip() + f" {attribute}" + tag[end:]


def _name(pattern: str, attribute: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def apply(html: str) -> str:
        def named(match: re.Match) -> str:
            return match.group(0) if "aria-label" in match.group(0) else _add_attribute(match.group(0), attribute)
        return compiled.sub(named, html, count=1)
    return apply


_DRAWER = r'<input class="md-toggle" data-md-toggle="drawer"[^>]*>'
_SEARCH = r'<input class="md-toggle" data-md-toggle="search"[^>]*>'
_DIALOG = r'<div class="md-search" data-md-component="search" role="dialog"[^>]*>'

# A section of the menu ("About this site") opens as a panel on small screens, with a checkbox
# named by its row (the row's words, whether the section starts open or closed).
_NAV_TOGGLE = re.compile(r'<input class="md-nav__toggle md-toggle ?" type="checkbox" id="(__nav_[0-9_]+)"[^>]*>')


def _name_nav_toggles(html: str) -> str:
    def named(match: re.Match) -> str:
        if f'id="{match.group(1)}_label"' not in html or "aria-labelledby" in match.group(0):
            return match.group(0)
        return match.group(0)[:-1].rstrip() + f' aria-labelledby="{match.group(1)}_label">'
    return _NAV_TOGGLE.sub(named, html)


# The theme's CSS-only toggles (the menu, the search, a menu section, the page's contents) are
# each a hidden checkbox worked by <label for> elements. A stricter engine (IBM Equal Access,
# tests/test_accessibility.py) wants each checkbox to have one label, with text, shown only where
# the checkbox is: one label stays for each; the others become plain elements, and where they
# were places to click, the checkbox itself lies there, invisible (site.css, "One label each").
# Each pattern keeps the theme's own look: its CSS selects these by class.
def _unlabel(start: str, opening: str, keep_content: bool = True) -> Callable[[str], str]:
    """<label ...> (matching start) ... </label> becomes opening ... </div>; opening may use start's
    groups as {0}, {1}."""
    compiled = re.compile(f"{start}(.*?)</label>", re.DOTALL)

    def unlabel(match: re.Match) -> str:
        *groups, content = match.groups()
        return opening.format(*groups) + (content if keep_content else "") + "</div>"
    return lambda html: compiled.sub(unlabel, html)


# The menu's backdrop and the search's (an empty label each, "Close the ..."): the open menu's
# checkbox is its backdrop now, and the open search's on a wider screen (on a phone the search
# fills the screen, and its back arrow closes it).
_MENU_BACKDROP = _unlabel(r'<label class="md-overlay" for="__drawer"[^>]*>', '<div class="md-overlay">',
                          keep_content=False)
_SEARCH_BACKDROP = _unlabel(r'<label class="md-search__overlay" for="__search"[^>]*>',
                            '<div class="md-search__overlay">', keep_content=False)
# The menu's title ("Meet your offender"): the heading of the menu beside the page on a wide screen,
# where the menu's checkbox is not shown.
_MENU_TITLE = _unlabel(r'<label class="md-nav__title" for="__drawer"\s*>', '<div class="md-nav__title">')
# The contents' title ("Table of contents"): the heading of the contents beside the page on a wide
# screen; in the menu on a phone, the checkbox lies over it while the contents are open.
_CONTENTS_TITLE = _unlabel(r'<label class="md-nav__title" for="__toc"\s*>', '<div class="md-nav__title">')
# A section's row ("About this site"): its heading on a wide screen; on a phone the checkbox lies over
# the row. The row keeps its id, which names the checkbox (menu-section-name).
_SECTION_ROW = _unlabel(r'<label class="(md-nav__link[^"]*)" for="__nav_[0-9_]+" (id="__nav_[0-9_]+_label")[^>]*>',
                        '<div class="{0}" {1}>')
# The magnifier in the search box (a back arrow on a phone, while the search is open): an empty second
# label. It becomes a drawing; on a phone the search's checkbox, marked data-back-arrow, lies over it.
_SEARCH_ICON = re.compile(r'<label class="md-search__icon md-icon" for="__search"\s*>(.*?)</label>', re.DOTALL)
_SEARCH_CHECKBOX = re.compile(r'(<input class="md-toggle" data-md-toggle="search"[^>]*?)\s*>')
# The header's menu and search buttons, the labels that stay: an icon alone in Material; in Zensical
# with hidden words, "Navigation" for the checkbox named "Menu".
_HEADER_BUTTON = re.compile(r'(<label class="md-header__button md-icon" for="__(drawer|search)"\s*>)(.*?)(</label>)',
                            re.DOTALL)
_HIDDEN_WORDS = re.compile(r'<span class="md-visually-hidden">[^<]*</span>')
_HEADER_WORDS = {"drawer": "Menu", "search": "Search"}


def _search_icon(html: str) -> str:
    if not _SEARCH_ICON.search(html):
        return html
    html = _SEARCH_ICON.sub(r'<div class="md-search__icon md-icon">\1</div>', html)
    return _SEARCH_CHECKBOX.sub(lambda m: m.group(0) if "data-back-arrow" in m.group(0)
                                else m.group(1) + " data-back-arrow>", html, count=1)


def _header_words(html: str) -> str:
    def words(match: re.Match) -> str:
        hidden = f'<span class="md-visually-hidden">{_HEADER_WORDS[match.group(2)]}</span>'
        content = _HIDDEN_WORDS.sub("", match.group(3))
        return match.group(1) + content.rstrip() + hidden + match.group(4)
    return _HEADER_BUTTON.sub(words, html)


# Zensical writes a colour palette switch even for a single palette: one hidden radio button,
# still in the Tab order (axe: aria-hidden-focus; a Tab stop that shows nothing). Material
# writes none then. With no choice to offer, the switch goes.
_SINGLE_PALETTE = re.compile(
    r'<form class="md-header__option" data-md-component="palette">\s*<input class="md-option"[^>]*>\s*</form>')


_EMPTY_HREF = re.compile(r'<a href=""')


_CHECKBOX_AUTOCOMPLETE = re.compile(r'(<input\b[^>]*type="checkbox"[^>]*?)\s+autocomplete="off"([^>]*>)')
_EMPTY_TABINDEX = re.compile(r'(<label\b[^>]*?)\s+tabindex=""')
_SEARCH_FORM = re.compile(r'(<form class="md-search__form"[^>]*>)(.*?)(</form>)', re.DOTALL)
_SVG = re.compile(r"<svg\b[^>]*>")
# Both themes' helper script defines __md_set, which every later script uses to keep
# small things (the colour palette, search, tabs) in localStorage/sessionStorage.
_MD_SET = re.compile(r"__md_set=\(([^()]*)\)=>\{try\{[^{}]*\}catch\(e\)\{\}\}")
_REVIEWED = re.compile(r'(<time datetime=")(\d{4}-\d{2}-\d{2})(" data-reviewed>)\2(</time>)')
_SCRIPT_SRC = re.compile(r"<script\b(?![^>]*\b(?:defer|async|type=)\b)([^>]*\bsrc=[^>]*)>", re.IGNORECASE)


def _search_submit(html: str) -> str:
    def add(match: re.Match) -> str:
        if 'type="submit"' in match.group(2):
            return match.group(0)
        return match.group(1) + match.group(2) + '<button type="submit" hidden>Search</button>' + match.group(3)
    return _SEARCH_FORM.sub(add, html)


def _hide_svg(html: str) -> str:
    def hide(match: re.Match) -> str:
        tag = match.group(0)
        if re.search(r"\b(?:aria-hidden|aria-label|aria-labelledby|role)=", tag):
            return tag
        return _add_attribute(tag, 'aria-hidden="true"')
    return _SVG.sub(hide, html)


def _no_storage(html: str) -> str:
    return _MD_SET.sub(lambda m: f"__md_set=({m.group(1)})=>{{}}", html)


def _long_date(match: re.Match) -> str:
    day = dt.date.fromisoformat(match.group(2))
    return f"{match.group(1)}{match.group(2)}{match.group(3)}{day.day} {day.strftime('%B %Y')}{match.group(4)}"


def defer_scripts(html: str) -> str:
    return _SCRIPT_SRC.sub(r"<script\1 defer>", html)


FIXES = (
    Fix("menu-name", "The menu's checkbox is in the Tab order on small screens (site.css); a screen reader "
        "needs its name.", _name(_DRAWER, 'aria-label="Menu"'), required=True, finds=re.compile(_DRAWER)),
    Fix("search-name", "The same for the search's checkbox.", _name(_SEARCH, 'aria-label="Search"'),
        required=True, finds=re.compile(_SEARCH)),
    Fix("search-dialog-name", "axe (aria-dialog-name): Material's search dialog has no name.",
        _name(_DIALOG, 'aria-label="Search"'), required=True, finds=re.compile(_DIALOG)),
    Fix("menu-section-name", "A menu section's checkbox is named by its row, which is not its label (section-row).",
        _name_nav_toggles),
    Fix("single-palette", "Zensical's palette switch with nothing to switch: an invisible Tab stop (axe "
        "aria-hidden-focus).", lambda html: _SINGLE_PALETTE.sub("", html)),
    Fix("empty-href", 'HTML_CodeSniffer (H91): Zensical links the home page to itself as href="", read as a link '
        'to nowhere; "./" is the same address.', lambda html: _EMPTY_HREF.sub('<a href="./"', html)),
    Fix("checkbox-autocomplete", "Nu HTML Checker: autocomplete is not allowed on a checkbox.",
        lambda html: _CHECKBOX_AUTOCOMPLETE.sub(r"\1\2", html)),
    Fix("empty-tabindex", 'Nu HTML Checker: tabindex="" is not a number (and means nothing).',
        lambda html: _EMPTY_TABINDEX.sub(r"\1", html)),
    Fix("toggle-button-words", "Equal Access (label_content_exists, label_name_visible): the header's Menu and Search "
        "buttons, the one label each toggle keeps, had an icon and no words (Material), or words other than the "
        "checkbox's name (Zensical: \"Navigation\" for \"Menu\").", _header_words),
    Fix("menu-backdrop", "Equal Access (form_label_unique, label_ref_valid): the backdrop was a second, empty label of "
        "the menu's checkbox; the open menu's checkbox is the backdrop now (site.css).", _MENU_BACKDROP),
    Fix("menu-title", "Equal Access (label_ref_valid): the menu's title labelled the menu's checkbox where it is not "
        "shown (a wide screen), and was a third label on a phone.", _MENU_TITLE),
    Fix("section-row", "Equal Access (label_ref_valid, form_label_unique): a menu section's row labelled its checkbox "
        "where it is not shown (a wide screen); the panel's title is its one label, and on a phone the checkbox lies "
        "over the row (site.css).", _SECTION_ROW),
    Fix("contents-title", "Equal Access (label_ref_valid, form_label_unique): \"Table of contents\" labelled the "
        "contents' checkbox beside the page, where the checkbox is not shown, and in the menu as a second label; "
        "the row with the page's name is its one label, and the open contents' checkbox lies over the title.",
        _CONTENTS_TITLE),
    Fix("search-backdrop", "Equal Access (form_label_unique): the search's backdrop was a second label of its checkbox; "
        "the open search's checkbox is the backdrop now (site.css).", _SEARCH_BACKDROP),
    Fix("search-back-arrow", "Equal Access (form_label_unique, label_content_exists, label_ref_valid): the magnifier "
        "(a back arrow on a phone) was a second, empty label of the search's checkbox, labelling it on a wide screen "
        "where it is not shown; the checkbox lies over the back arrow instead (site.css).", _search_icon),
    Fix("search-submit", "HTML_CodeSniffer (H32): a form needs a submit button; Enter in the search box "
        "already searches, so the button is hidden.", _search_submit),
    Fix("decorative-svg", "The theme's icons sit next to their text: hide them from assistive technology.",
        _hide_svg),
    Fix("no-browser-storage", "Nothing of ours in browser storage: the theme's __md_set keeps nothing.",
        _no_storage),
    Fix("reviewed-date", '"Last reviewed" as 25 November 2026; templates give the ISO date (Zensical\'s '
        "templates cannot format dates).", lambda html: _REVIEWED.sub(_long_date, html)),
    Fix("defer-scripts", "Pages draw before their scripts load; none writes into the page while it is parsed.",
        defer_scripts),
)


def fix_page(html: str, where: str) -> str:
    for fix in FIXES:
        if fix.required and not fix.finds.search(html):
            raise BuildError(f"{where}: the fix '{fix.name}' found nothing to fix ({fix.why}). The theme's "
                              "markup has changed: check the page by keyboard and screen reader, then update "
                              "sitebuild/markup.py.")
        html = fix.apply(html)
    if "__md_set=" in html and not re.search(r"__md_set=\([^()]*\)=>\{\}", html):
        raise BuildError(f"{where}: the theme's __md_set has changed, so it may keep things in browser storage. "
                          "Update the 'no-browser-storage' fix in sitebuild/markup.py.")
    return html
