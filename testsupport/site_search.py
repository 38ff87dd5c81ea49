"""The site's search, used as a reader uses it, whichever builder made the site.

Material: a search box in the header (on phones behind the magnifier button), results in
.md-search-result__item. Zensical (classic): a "Search" button that opens a dialog in a
shadow root (Playwright's locators look inside it), results as the listbox's options.
"""
from __future__ import annotations

from playwright.sync_api import Locator, Page

ZENSICAL_BUTTON = ".md-search__button"


def is_zensical(page: Page) -> bool:
    return page.locator(ZENSICAL_BUTTON).count() > 0


def open_search(page: Page, *, tap: bool = False) -> Locator:
    """Open the search as a reader does; returns its text box, focused."""
    if is_zensical(page):
        button = page.locator(ZENSICAL_BUTTON).first
        if not button.is_visible():
            button = page.locator("label.md-header__button[for='__search']")
        button.tap() if tap else button.click()
        box = page.locator("dialog[aria-label='Search'] input[role='combobox']")
    else:
        if tap:
            page.locator("label.md-header__button[for='__search']").tap()
        else:
            page.locator(".md-search__input").first.click()
        box = page.locator(".md-search__input").first
    box.focus()
    return box


def results(page: Page) -> Locator:
    if is_zensical(page):
        return page.locator("dialog[aria-label='Search'] [role='listbox'] > *")
    return page.locator(".md-search-result__item")


def search(page: Page, text: str) -> Locator:
    """Type ``text`` into the search (slowly: the index loads in a worker) and return the results."""
    open_search(page).press_sequentially(text, delay=50)
    return results(page)
