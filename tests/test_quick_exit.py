"""The quick exit in a real Chromium, over the built site served with production headers."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from testsupport.browser import Traffic, script
from testsupport.site import site_frames, site_pages
from testsupport.site_search import open_search, search

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def wait_for_exit(page: Page, neutral_site):
    page.wait_for_url(neutral_site.url, timeout=5000)
    expect(page.locator("h1")).to_have_text("Weather")


def test_clicking_the_button_leaves_without_a_referer(page: Page, site_server, neutral_site):
    page.goto(site_server.url + "/how-it-works/")
    neutral_site.requests.clear()
    page.locator(".qe-button").click()
    wait_for_exit(page, neutral_site)
    visits = [r for r in neutral_site.requests if r["path"] == "/weather"]
    assert len(visits) == 1
    headers = {k.lower(): v for k, v in visits[0]["headers"].items()}
    assert "referer" not in headers


# Its announcements in the page's language (Welsh: GOV.UK Frontend's, components/exit-this-page/messages.json).
@pytest.mark.parametrize("address, two_more, one_more", [
    ("/indirect-meetings/", "Shift, press 2 more times to exit.", "Shift, press 1 more time to exit."),
    ("/cy/indirect-meetings/", "Pwyswch 'Shift' 2 gwaith arall", "Pwyswch 'Shift' 1 mwy o amser"),
], ids=["english", "welsh"])
def test_shift_three_times_leaves(page: Page, site_server, neutral_site, address, two_more, one_more):
    page.goto(site_server.url + address)
    status = page.locator("[data-qe-status]")
    page.keyboard.press("Shift")
    expect(status).to_have_text(two_more)
    page.keyboard.press("Shift")
    expect(status).to_have_text(one_more)
    page.keyboard.press("Shift")
    wait_for_exit(page, neutral_site)


def test_shift_used_with_another_key_does_not_leave(page: Page, site_server, neutral_site):
    page.goto(site_server.url + "/indirect-meetings/")
    page.keyboard.press("Shift")
    page.keyboard.press("a")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.wait_for_timeout(500)
    assert page.url == site_server.url + "/indirect-meetings/"
    expect(page.locator("h1")).to_have_text("Indirect meetings")


def test_shift_count_expires(page: Page, site_server):
    page.goto(site_server.url + "/")
    page.clock.install()
    page.reload()
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.clock.run_for(6000)
    expect(page.locator("[data-qe-status]")).to_have_text("Exit this page expired.")
    page.keyboard.press("Shift")
    page.wait_for_timeout(300)
    assert page.url == site_server.url + "/"


def test_back_does_not_return_to_the_page_left(page: Page, site_server, neutral_site):
    page.goto(site_server.url + "/")
    page.goto(site_server.url + "/group-meetings/")
    page.locator(".qe-button").click()
    wait_for_exit(page, neutral_site)
    page.go_back()
    # The page we left was replaced in the history: Back goes to the one before it.
    page.wait_for_url(site_server.url + "/")
    expect(page.locator("h1")).to_have_text("Meet your offender")


# Clicks the exit and reads the page in the same task, before the destination can load
# (its response is also held back), to see the moment before leaving.
CLICK_AND_LOOK = script("click_and_look")


def test_the_page_is_blanked_and_the_title_neutralised_before_leaving(page: Page, site_server):
    page.goto(site_server.url + "/email-us/")
    page.route("**/weather*", lambda route: None)
    state = page.evaluate(CLICK_AND_LOOK, False)
    assert state == {"title": "Loading", "overlay": "Loading.", "overlayRole": "alert", "headingShown": False}


def test_a_page_restored_from_the_back_forward_cache_is_shown_again(page: Page, site_server):
    page.goto(site_server.url + "/email-us/")
    title = page.title()
    page.route("**/weather*", lambda route: None)
    state = page.evaluate(CLICK_AND_LOOK, True)
    assert state == {"title": title, "overlay": None, "overlayRole": None, "headingShown": True}


def test_without_javascript_the_link_still_leaves(browser, site_server, neutral_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site_server.url + "/community-meetings/")
    neutral_site.requests.clear()
    page.locator(".qe-button").click()
    wait_for_exit(page, neutral_site)
    visit = next(r for r in neutral_site.requests if r["path"] == "/weather")
    headers = {k.lower(): v for k, v in visit["headers"].items()}
    assert "referer" not in headers
    # The skip link works the same way.
    page.goto(site_server.url + "/")
    page.keyboard.press("Tab")
    expect(page.locator(".qe-skip")).to_be_focused()
    page.keyboard.press("Enter")
    wait_for_exit(page, neutral_site)
    context.close()


def test_nothing_is_left_in_storage_after_exit(page: Page, site_server, neutral_site):
    page.goto(site_server.url + "/")
    page.evaluate("localStorage.setItem('x', '1'); sessionStorage.setItem('y', '2')")
    page.goto(site_server.url + "/how-it-works/")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    wait_for_exit(page, neutral_site)
    # Look at the site's storage without running the site's own scripts.
    page.route(site_server.url + "/storage-check", lambda route: route.fulfill(body="<p>check</p>",
                                                                                content_type="text/html"))
    page.goto(site_server.url + "/storage-check")
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0


def test_first_tab_reaches_the_exit_link(page: Page, site_server):
    page.goto(site_server.url + "/how-it-works/")
    page.keyboard.press("Tab")
    focused = page.locator(".qe-skip")
    expect(focused).to_be_focused()
    expect(focused).to_be_in_viewport()


def test_the_button_stays_on_screen_at_320px_while_scrolling(browser, site_server):
    context = browser.new_context(viewport={"width": 320, "height": 640}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(site_server.url + "/leave-quickly/")
    button = page.locator(".qe-button")
    expect(button).to_be_in_viewport()
    box = button.bounding_box()
    assert box["width"] >= 200 and box["height"] >= 44
    page.mouse.wheel(0, 3000)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(200)
    assert page.evaluate("window.scrollY") > 500
    expect(button).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "quick-exit-320px-scrolled.png"))
    button.tap()
    page.wait_for_url("**/weather")
    context.close()


def test_the_button_is_not_printed(page: Page, site_server):
    page.goto(site_server.url + "/")
    page.emulate_media(media="print")
    expect(page.locator(".qe-button")).to_be_hidden()
    page.emulate_media(media="screen")
    expect(page.locator(".qe-button")).to_be_visible()


def test_every_page_loads_nothing_from_elsewhere_breaks_no_csp_and_stores_nothing(browser, built_site, site_server):
    """One visit per page, three promises: nothing asked of another origin, nothing the policy refuses (or
    any other script error), nothing kept in the browser's storage. Material's and Zensical's scripts keep
    small things (Zensical: the palette, on every page) in storage through their __md_set helper; the
    finishing step makes it keep nothing."""
    context = browser.new_context()
    page = context.new_page()
    traffic = Traffic(page)
    foreign, errors, stored = [], [], []
    page.on("request", lambda r: None if r.url.startswith(site_server.url) else foreign.append(r.url))
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    pages = site_pages(built_site)
    # Each language's 404 page, where Netlify shows it, and each language's shell for the form.
    missing = [frame.removesuffix("404.html") + "no-such-page/" for frame in site_frames(built_site, "404.html")]
    for path in pages + missing + site_frames(built_site, "formsvc-shell.html"):
        response = page.goto(site_server.url + path)
        assert response.headers.get("content-security-policy"), path
        traffic.settle()
        if path in missing:
            # Chromium logs the 404 status itself; that is the point of this page.
            assert response.status == 404
            errors[:] = [e for e in errors if "404" not in e]
        if path in pages:
            kept = page.evaluate("[...Object.keys(localStorage), ...Object.keys(sessionStorage)]")
            stored += [(path, kept)] if kept else []
    # Search runs in a worker under the same policy, and keeps nothing either: use it once.
    page.goto(site_server.url + "/")
    expect(search(page, "letters").first).to_be_visible()
    traffic.settle()
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert foreign == []
    assert errors == []
    assert stored == []
    context.close()


def test_shift_typed_on_a_phone_keyboard_in_a_text_field_does_not_leave(browser, site_server):
    context = browser.new_context(viewport={"width": 375, "height": 700}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(site_server.url + "/")
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")
    # Open the search as a reader does (closed, it is hidden), then type in its box.
    box = open_search(page, tap=True)
    expect(box).to_be_focused()
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_timeout(300)
    assert page.url == site_server.url + "/"
    # Outside a text field the shortcut still works.
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url("**/weather")
    context.close()


# ---------------------------------------------------------------- In Welsh (issue 21)
# The same exit on every Welsh page, in GOV.UK Frontend's Welsh (components/exit-this-page/messages.json).

def test_welsh_click_leaves(page: Page, site_server, neutral_site):
    page.goto(site_server.url + "/cy/how-it-works/")
    expect(page.locator(".qe-button")).to_have_text("Argyfwng Gadael y dudalen")
    page.locator(".qe-button").click()
    wait_for_exit(page, neutral_site)


def test_welsh_shift_count_expires_in_welsh(page: Page, site_server):
    page.goto(site_server.url + "/cy/")
    page.clock.install()
    page.reload()
    page.keyboard.press("Shift")
    page.clock.run_for(6000)
    expect(page.locator("[data-qe-status]")).to_have_text("Wedi'i amseru")


def test_welsh_without_javascript_the_first_tab_stop_leaves(browser, site_server, neutral_site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site_server.url + "/cy/community-meetings/")
    page.keyboard.press("Tab")
    expect(page.locator(".qe-skip")).to_be_focused()
    expect(page.locator(".qe-skip")).to_have_text("Gadael y dudalen")
    page.keyboard.press("Enter")
    wait_for_exit(page, neutral_site)
    context.close()
