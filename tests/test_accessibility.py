"""Every page and every state of the enquiry journey, in a real Chromium (issue #4).

The pages are found from the build itself (testsupport.site.site_pages walks the built HTML),
so a new page is checked without anyone adding it here. The enquiry journey's states
are made the way a reader makes them: an empty form, a form with errors, the
confirmation, the site's and the service's 404 pages, too many messages (429) and a
form left open until its security token expired (400).

Each page and state is checked for (all but the keyboard in one visit to it):
- axe-core, WCAG 2.0/2.1/2.2 A and AA rules: no violations, at desktop and phone widths;
  IBM's Equal Access (WCAG 2.2 A and AA) at both widths, and HTML_CodeSniffer: no errors;
- reflow at 320 CSS px, and text at 200% there: nothing scrolls sideways, no text is
  cut off, the exit button is on screen without scrolling;
- keyboard: the first Tab reaches "Exit this page"; Tab reaches every control, each
  with a visible focus indicator that is not hidden behind anything;
- print: no exit button, no menus, header or footer; the page's own content prints.
Separate tests cover the menu by keyboard and without JavaScript, and the form sent
with the keyboard alone. Screenshots of every page and state at phone and desktop
widths are left in test-artifacts/screenshots/ for a person to look at.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_babel import force_locale
from playwright.sync_api import Page, expect

from formsvc.enquiry import NOTICE_TIMEOUT, notice_rate_limited
from formsvc.i18n import DEFAULT_LANGUAGE
from formsvc.outbox import get_outbox
from testsupport import ARTIFACTS
from testsupport.answers import valid_answers
from testsupport.browser import script
from testsupport.hubmail import hub_text, their_message
from testsupport.site import axe_violations, put_in, site_pages
from testsupport.site_search import is_zensical, open_search, results, search

pytestmark = pytest.mark.browser


PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
SCREENSHOTS = ARTIFACTS / "screenshots"


@pytest.fixture
def browser_context_args(browser_context_args):
    # No animations: each check sees the page as it ends up, not half-way through a
    # transition (Material drops its transitions for readers who ask for less motion).
    return {**browser_context_args, "reduced_motion": "reduce"}


@pytest.fixture(autouse=True, scope="module")
def screenshots_folder():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------- the pages and states


def fill_in(page: Page, answers: dict[str, str]) -> None:
    """Answer the enquiry form's questions as given (a pointer is fine here: these
    tests are about the pages that come back; the keyboard has its own test)."""
    for name in ("name", "email", "email_notes", "phone", "call_times", "crime_reference", "message"):
        page.locator(f"#{name}").fill(answers.get(name, ""))
    for name in ("contact_method", "email_say_who_we_are", "email_private", "leave_message", "say_who_we_are",
                 "relationship"):
        value = answers.get(name)
        if value:
            page.locator(f"input[name={name}][value={value}]").check()


def send(page: Page, expected_status: int) -> None:
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("form.fs-form button[type=submit]").click()
    page.wait_for_load_state()
    assert posted.value.status == expected_status, f"posting the form answered {posted.value.status}"


class Journey:
    """Puts one browser page in each state in turn: ``for name in journey.states(page)``.

    ``autofocus`` lists the states whose page moves focus itself when it loads (the
    form's error summary and notices, as GOV.UK does), so their first Tab does not
    start at the top."""

    autofocus = {"enquiry-errors", "enquiry-429", "enquiry-csrf-expired"}

    def __init__(self, built_site: Path, make_form_site, clock):
        self.pages = site_pages(built_site)
        self.make_form_site = make_form_site
        self.clock = clock
        self.site = make_form_site()

    @property
    def form_languages(self) -> list[str]:
        """The form's languages: English and every language it has a catalogue for."""
        return [DEFAULT_LANGUAGE] + self.site.app.extensions["form_languages"]

    def states(self, page: Page, every_language: bool = False) -> Iterator[str]:
        """Every page of the site, then its 404 and the form's states: in English, or with
        ``every_language`` in each of the form's languages too (the site has the same ones)."""
        url = self.site.url
        for path in self.pages:
            assert page.goto(url + path).status == 200, path
            yield "page-" + (path.strip("/").replace("/", "-").removesuffix(".html") or "home")

        languages = self.form_languages if every_language else [DEFAULT_LANGUAGE]
        for code in languages:
            prefix, name = self.in_language(code)
            assert page.goto(url + prefix + "/no-such-page/").status == 404
            expect_language(page, code)
            yield f"{name}site-404"

        for code in languages:
            yield from self.form_states(page, code)

    @staticmethod
    def in_language(code: str) -> tuple[str, str]:
        """Where a language's pages are ("" or "/cy"), and how its states' names start ("" or "cy-")."""
        return ("", "") if code == DEFAULT_LANGUAGE else (f"/{code}", f"{code}-")

    def says(self, code: str, words) -> str:
        """What the form says for ``words`` (its marked words, formsvc/enquiry.py) in language ``code``:
        from its catalogue, so each language's state is checked by its own words."""
        with self.site.app.test_request_context(), force_locale(code):
            return str(words)

    def form_states(self, page: Page, code: str) -> Iterator[str]:
        """The form's states in one language: each checked to be that state, in that language."""
        prefix, name = self.in_language(code)
        name += "enquiry"
        url = self.site.url

        assert page.goto(url + prefix + "/enquiry/").status == 200
        expect_language(page, code)
        yield f"{name}-form"

        fill_in(page, valid_answers(contact_method="email", email="not an email", message=""))
        send(page, 200)
        expect(page.locator(".fs-error-summary")).to_be_visible()
        yield f"{name}-errors"

        fill_in(page, valid_answers())
        send(page, 303)
        expect(page).to_have_url(re.compile(rf"{prefix}/enquiry/sent$"))
        yield f"{name}-sent"

        assert page.goto(url + prefix + "/enquiry/no-such-page").status == 404
        expect_language(page, code)
        yield f"{name}-404"

        limited = self.make_form_site(RATELIMIT_POST="1 per minute")
        page.goto(limited.url + prefix + "/enquiry/")
        fill_in(page, valid_answers())
        send(page, 303)
        page.goto(limited.url + prefix + "/enquiry/")
        fill_in(page, valid_answers(message="A second message in a minute"))
        send(page, 429)
        expect(page.locator(".fs-notice")).to_contain_text(self.says(code, notice_rate_limited(60)["title"]))
        expect_language(page, code)
        yield f"{name}-429"

        expiring = self.make_form_site(WTF_CSRF_TIME_LIMIT=600)
        page.goto(expiring.url + prefix + "/enquiry/")
        fill_in(page, valid_answers())
        self.clock.advance(601)  # the form left open past its token's time limit
        send(page, 400)
        expect(page.locator(".fs-notice")).to_contain_text(self.says(code, NOTICE_TIMEOUT["title"]))
        expect_language(page, code)
        yield f"{name}-csrf-expired"


def expect_language(page: Page, code: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", re.compile(rf"^{code}\b"))


@pytest.fixture
def journey(built_site, make_form_site, clock) -> Journey:
    return Journey(built_site, make_form_site, clock)


# ---------------------------------------------------------------- the checkers, each shown to find what it should


def test_axe_is_really_checking(page: Page):
    page.set_content('<html lang="en"><title>t</title><main><img src="data:,"><a href="/x"></a></main></html>')
    report = axe_violations(page)
    assert "image-alt" in report and "link-name" in report, report
    assert axe_violations(page) == report  # run again on the same page, axe already in it


# HTML_CodeSniffer, the engine pa11y runs (npm @pa11y/html_codesniffer, tests/node/): a second
# opinion that found what axe did not (Material's search form had no submit button, H32).
HTMLCS = Path(__file__).resolve().parent / "node" / "node_modules" / "@pa11y" / "html_codesniffer" / "build" / "HTMLCS.js"
HTMLCS_ERRORS = """() => new Promise(done => HTMLCS.process('WCAG2AA', document, () => done(
    HTMLCS.getMessages().filter(m => m.type === HTMLCS.ERROR).map(m =>
        `${m.code}: ${m.msg} [${m.element.outerHTML.slice(0, 100)}]`))))"""


@functools.cache
def checker_script(path: Path) -> str:
    """An npm checker's script (tests/node/), read once."""
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make test`, which installs the checkers.")
    return path.read_text(encoding="utf-8")


def htmlcs_errors(page: Page) -> list[str]:
    put_in(page, "HTMLCS", checker_script(HTMLCS))
    return page.evaluate(HTMLCS_ERRORS)


def test_html_codesniffer_is_really_checking(page: Page):
    page.set_content('<html lang="en"><title>t</title><form><input type="text" name="q" aria-label="Q"></form>')
    assert any(error.startswith("WCAG2AA.Principle3.Guideline3_2.3_2_2.H32") for error in htmlcs_errors(page))


# IBM's Equal Access checker (npm accessibility-checker-engine, tests/node/), a third opinion and the
# strictest on labels: it found what the other two did not, all in the theme's CSS-only toggles (labels of
# the hidden checkboxes of the menu, search, contents and menu sections shown where the checkbox is not;
# two or three labels of one checkbox; the header's buttons and the search's magnifier labels with no words):
# sitebuild/markup.py "toggle-button-words" to "search-back-arrow". Its policy for WCAG 2.2 A and AA, the
# standard the site meets (as axe's tags); its "violation" results that fail are errors (its potential
# violations and recommendations are for a person to review). IBM's own wider policy (IBM_Accessibility)
# adds two things that are not WCAG failures: content outside landmarks (the exit, first after <body> by
# design, the theme's skip link and menu checkbox) and aria-expanded on a menu section's <nav> (Material's
# script): README, "Not met with Zensical" and after.
ACE = Path(__file__).resolve().parent / "node" / "node_modules" / "accessibility-checker-engine" / "ace.js"
ACE_POLICY = "WCAG_2_2"
# Its target-spacing rule measures a link where its box would be even when a scrolling box around it
# clips it out of sight (Material's menu on a short page, with the footer's links just below): such a
# link is checked here to be wholly clipped away, where nobody can tap it, and only then not reported.
ACE_ERRORS = """async (policy) => {
    const report = await new ace.Checker().check(document, [policy]);
    const clippedAway = (xpath) => {
        const element = document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null)
            .singleNodeValue;
        if (!element) return false;
        const box = element.getBoundingClientRect();
        for (let around = element.parentElement; around; around = around.parentElement) {
            const style = getComputedStyle(around);
            if (style.overflowX === "visible" && style.overflowY === "visible") continue;
            const clip = around.getBoundingClientRect();
            if (box.bottom <= clip.top || box.top >= clip.bottom || box.right <= clip.left || box.left >= clip.right)
                return true;
        }
        return false;
    };
    return report.results.filter(r => r.value[0] === "VIOLATION" && r.value[1] === "FAIL")
        .filter(r => !(r.ruleId === "target_spacing_sufficient" && clippedAway(r.path.dom))).map(r =>
        `${r.ruleId}: ${r.message} [${r.path.dom}] ${r.snippet.slice(0, 120)}`);
}"""
# Errors it reports that are not ours to fix, as {pattern: why}: none today. Keep it that way.
ACE_EXCEPTIONS: dict[str, str] = {}


def ace_errors(page: Page) -> list[str]:
    put_in(page, "ace", checker_script(ACE))
    return [error for error in page.evaluate(ACE_ERRORS, ACE_POLICY)
            if not any(re.search(pattern, error) for pattern in ACE_EXCEPTIONS)]


def test_equal_access_finds_nothing_with_the_menu_its_panels_or_the_search_open(browser, journey):
    context = browser.new_context(viewport=PHONE, reduced_motion="reduce", has_touch=True)
    page = context.new_page()
    site = journey.site.url
    problems = []
    try:
        page.goto(site + "/privacy/")  # in the section "About this site", which starts open
        page.locator("label.md-header__button[for='__drawer']").tap()
        expect(page.locator(".md-sidebar--primary")).to_be_visible()
        problems += [f"menu and section open: {error}" for error in ace_errors(page)]
        page.locator("label[for='__toc']").tap()
        expect(page.locator(".md-sidebar--primary").get_by_role("link", name="Our enquiry form")).to_be_in_viewport()
        problems += [f"contents open: {error}" for error in ace_errors(page)]

        page.goto(site + "/how-it-works/")
        page.locator("label.md-header__button[for='__drawer']").tap()
        about = section_id(page, "About this site")
        tap_on(page, page.locator(f"#{about}_label"))
        expect(page.locator(f"#{about}")).to_be_checked()
        problems += [f"a section open: {error}" for error in ace_errors(page)]

        page.goto(site + "/")
        open_search(page, tap=True).press_sequentially("letters", delay=50)
        expect(results(page).first).to_be_visible()
        errors = ace_errors(page)
        if is_zensical(page):
            # Known, not ours to fix from outside (README, "not met"; the axe test above too): Zensical 0.0.73
            # draws its search dialog's page paths and headings at 2.4-3.4:1 and its results list has no Tab
            # stop of its own, inside a shadow root whose own styles set them. Not in the toggles.
            errors = [e for e in errors if not (re.match(r"(text_contrast_sufficient|aria_child_tabbable): ", e)
                                                and "#document-fragment[1]/dialog[1]" in e)]
        problems += [f"search open: {error}" for error in errors]
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_equal_access_is_really_checking(page: Page):
    """Its three rules the theme's toggles broke, on the toggles as the theme wrote them."""
    page.set_content('<html lang="en"><title>t</title><main><input type="checkbox" id="t" hidden>'
                     '<label for="t">Menu</label><input type="checkbox" id="s" aria-label="Search">'
                     '<label for="s">Search</label><label for="s"><svg aria-hidden="true"></svg></label></main>')
    rules = {error.split(":")[0] for error in ace_errors(page)}
    assert {"label_ref_valid", "form_label_unique", "label_content_exists"} <= rules, rules


def test_equal_access_still_finds_targets_too_close_unless_a_scrolling_box_clips_one_wholly_away(page: Page):
    close = '<a href="/a" style="display:block;font-size:10px;line-height:10px">a</a>' \
            '<a href="/b" style="display:block;font-size:10px;line-height:10px">b</a>'
    clipped = '<div style="height:12px;overflow:auto">{}</div>'
    for body, found in ((close, True), (clipped.format(close), True),
                        (clipped.format('<div style="height:30px"></div>' + close), False)):
        page.set_content(f'<html lang="en"><title>t</title><main>{body}</main></html>')
        rules = {error.split(":")[0] for error in ace_errors(page)}
        assert ("target_spacing_sufficient" in rules) == found, body


def test_axe_finds_nothing_with_the_menu_or_the_search_open(page: Page, journey):
    site = journey.site.url
    page.set_viewport_size(PHONE)
    page.goto(site + "/how-it-works/")
    page.locator("label.md-header__button[for='__drawer']").click()
    expect(page.locator(".md-sidebar--primary")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "menu-open-phone.png"))
    report = axe_violations(page)
    assert not report, report

    page.set_viewport_size(DESKTOP)
    page.goto(site + "/")
    expect(search(page, "letters").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "search-open-desktop.png"))
    report = axe_violations(page)
    rules = set(re.findall(r"^([\w-]+): ", report, re.M))
    if report and is_zensical(page) and "color-contrast" in rules and "-path > li" in report \
            and rules <= {"color-contrast", "scrollable-region-focusable"}:
        # Known, not ours to fix from outside: Zensical 0.0.73 draws its search results' page paths in
        # 45% black (3.4:1) inside a shadow root whose own styles set that alpha. docs/site-pipeline.md, "Not met".
        if "scrollable-region-focusable" in rules:
            # Its results box scrolls (when the results are longer than the dialog) and is not itself
            # focusable: axe cannot see that the box is a combobox's listbox, which the arrow keys
            # move through from the search box (WAI-ARIA's combobox pattern). Shown here, not assumed.
            assert_arrow_keys_reach_the_last_result(page)
        pytest.xfail(f"Zensical 0.0.73's search dialog: {report}")
    assert not report, report


def assert_arrow_keys_reach_the_last_result(page: Page):
    options = page.locator("dialog[aria-label='Search'] [role='listbox'] [role='option']")
    count = options.count()
    assert count > 1
    for _ in range(count - 1):
        page.keyboard.press("ArrowDown")
    last = options.nth(count - 1)
    expect(last).to_have_attribute("aria-selected", "true")
    expect(last).to_be_in_viewport()


# ---------------------------------------------------------------- 320 px, and text at 200%

# What a reader would lose: the page scrolling sideways, text cut off by its box, or
# text outside the screen. Tables may scroll inside their own box (WCAG 1.4.10 allows
# it for two-dimensional content); visually hidden text (1px) is meant for screen readers.
LAYOUT_PROBLEMS = script("layout_problems")

# The exit button is wholly on screen and nothing covers it: at the top, and after
# scrolling to the end (it stays put).
EXIT_BUTTON_PROBLEMS = script("exit_button_problems")

# Text at 200%: the reader's own text size doubled, as Chrome's font-size setting or
# Firefox's "Zoom text only" do, on top of the 320px screen. Page zoom at 200% on a
# 640px-wide window is the same layout as the 320px check itself (320 CSS px), so the
# harder case is text-only zoom, where the page does not get narrower but every word
# gets twice as big: Material sizes everything in rem, so doubling the root font size
# doubles every text size, exactly as that setting does. (Set through the CSSOM, which
# the Content-Security-Policy allows; a style attribute would be blocked.)
TEXT_200 = script("text_200")

# On paper: the page's own content, and none of the screen's furniture.
PRINT_PROBLEMS = script("print_problems")


def test_the_open_menu_fits_a_320px_screen_with_text_at_200_percent(page: Page, journey):
    page.set_viewport_size(PHONE)
    page.goto(journey.site.url + "/how-it-works/")
    page.evaluate(TEXT_200)
    page.locator("label.md-header__button[for='__drawer']").click()
    expect(page.locator(".md-sidebar--primary").get_by_role("link", name="Indirect meetings")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "menu-open-phone-text-200.png"))
    problems = page.evaluate(LAYOUT_PROBLEMS)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- every page and state, once, through every checker


def test_every_page_and_state_passes_each_checker_at_desktop_phone_320px_with_text_at_200_percent_and_in_print(
        page: Page, journey):
    """One visit to each page and state, the form's in each of its languages, and on it every check that
    only looks: axe and Equal Access at desktop and phone widths, HTML_CodeSniffer, print, and 320 px with
    text at 100% and 200% (last, as it changes the text size). One visit, not one per checker: what the
    checkers cost is their own work, and the page loads and the form's journey are then made once
    (docs/testing.md)."""
    problems, seen = [], []
    for state in journey.states(page, every_language=True):
        seen.append(state)
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.wait_for_timeout(50)  # Material's layout settles after a resize
            report = axe_violations(page)
            if report:
                problems.append(f"{state} at {name} width, axe:\n{report}")
            # Both widths: Equal Access checks what is shown, and the theme's toggles are shown on a phone,
            # their headings on a desktop.
            problems += [f"{state} at {name} width, Equal Access: {error}" for error in ace_errors(page)]
            if name == "desktop":
                problems += [f"{state}, HTML_CodeSniffer: {error}" for error in htmlcs_errors(page)]
                page.emulate_media(media="print")
                problems += [f"{state}, in print: {problem}" for problem in page.evaluate(PRINT_PROBLEMS)]
                page.emulate_media(media="screen")
            # JPEG: for a person to look at, and quicker for Chromium to make than a PNG of the whole page.
            page.screenshot(path=str(SCREENSHOTS / f"{state}-{name}.jpeg"), full_page=True, quality=80)
        # At the phone's 320 px.
        for size in ("100%", "200%"):
            if size == "200%":
                page.evaluate(TEXT_200)
                page.wait_for_timeout(50)
            found = page.evaluate(LAYOUT_PROBLEMS) + page.evaluate(EXIT_BUTTON_PROBLEMS)
            problems += [f"{state} at 320 px, text {size}: {problem}" for problem in found]
        page.screenshot(path=str(SCREENSHOTS / f"{state}-phone-text-200.jpeg"), quality=80)
        page.set_viewport_size(DESKTOP)
    assert len(seen) == len(journey.pages) + 7 * len(journey.form_languages)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# ---------------------------------------------------------------- keyboard

# Before any Tab: what must be reachable, and how each looks without focus.
# Reachable: every visible link, button and form control, and every label drawn as a
# button (cursor: pointer) that works a checkbox, as Material's menu and search do:
# its checkbox must take focus instead. Radios count once per group (arrow keys move
# inside a group). tabindex="-1" is left out on purpose (the honeypot, focus targets).
KEYBOARD_START = script("keyboard_start")

# After each Tab: what has focus, whether it looks different from before, and whether
# the reader can see it (WCAG 2.4.7, 2.4.11): some of it on screen and not covered.
# A visually hidden control (a 1px toggle) shows its focus on its labels.
KEYBOARD_STEP = script("keyboard_step")

KEYBOARD_MISSED = script("keyboard_missed")


def keyboard_problems(page: Page, first_tab_to_exit: bool) -> list[str]:
    problems = []
    count = page.evaluate(KEYBOARD_START)
    for step in range(count + 30):
        page.keyboard.press("Tab")
        focused = page.evaluate(KEYBOARD_STEP)
        if step == 0 and first_tab_to_exit and not (focused and focused.get("exit")):
            problems.append(f"the first Tab reached {focused and focused['name']}, not the exit link")
        if focused is None:
            continue  # past the last control: the next Tab starts again at the top
        if focused.get("again"):
            break
        if focused["changed"] is False:
            problems.append(f"no visible focus indicator on {focused['name']}")
        if not focused["seen"]:
            problems.append(f"focus on {focused['name']} (at y={focused['top']}) is hidden by {focused['cover']}")
    else:
        problems.append("Tab never came back round to the start")
    problems += [f"Tab never reaches {name}" for name in page.evaluate(KEYBOARD_MISSED)]
    return problems


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_tab_reaches_everything_with_a_visible_focus_indicator(page: Page, journey, viewport):
    page.set_viewport_size(viewport)
    problems = []
    for state in journey.states(page):
        problems += [f"{state}: {p}" for p in keyboard_problems(page, state not in Journey.autofocus)]
    assert not problems, "\n".join(problems)


def tab_to(page: Page, target, limit: int = 30) -> None:
    """Press Tab until ``target`` (a locator) has focus; fail after ``limit`` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("(el) => el === document.activeElement"):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {target}")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_menu_and_its_sections_work_by_keyboard_on_a_phone(browser, journey, javascript):
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, reduced_motion="reduce")
    page = context.new_page()
    site = journey.site.url
    menu = page.locator("#__drawer")
    drawer = page.locator(".md-sidebar--primary")
    try:
        page.goto(site + "/how-it-works/")
        expect(drawer).to_be_hidden()
        tab_to(page, menu, limit=3)  # straight after the exit link and button
        expect(menu).to_have_accessible_name("Menu")
        page.keyboard.press("Space")
        expect(drawer).to_be_visible()
        link = drawer.get_by_role("link", name="Indirect meetings")
        tab_to(page, link, limit=10)
        expect(link).to_be_in_viewport()
        page.keyboard.press("Enter")
        page.wait_for_url(site + "/indirect-meetings/")
        page.wait_for_load_state()
        expect(page.locator("h1")).to_have_text("Indirect meetings")

        # A section of the menu opens as a panel, also with Space.
        tab_to(page, menu, limit=3)
        page.keyboard.press("Space")
        section = drawer.locator(f"#{section_id(page, 'About this site')}")
        expect(section).to_have_accessible_name("About this site")
        tab_to(page, section, limit=20)  # past the 12 pages listed before it and the Easy Read section
        page.keyboard.press("Space")
        privacy = drawer.get_by_role("link", name="Privacy notice")
        tab_to(page, privacy, limit=1)
        expect(privacy).to_be_in_viewport()
        page.keyboard.press("Enter")
        page.wait_for_url(site + "/privacy/")
    finally:
        context.close()


def section_id(page: Page, name: str) -> str:
    """The id of the checkbox of the menu's section called ``name`` (Material numbers them by their place in
    the menu: "About this site" moved from __nav_13 when the Easy Read section came before it)."""
    return page.locator(".md-sidebar--primary input.md-nav__toggle[aria-labelledby]").evaluate_all(
        """(inputs, name) => inputs.find(i => document.getElementById(i.getAttribute('aria-labelledby'))
               .textContent.replace(/\\s+/g, ' ').trim() === name).id""", name)


def tap_on(page: Page, target) -> None:
    """A tap where ``target`` is drawn, on whatever lies there (a toggle's checkbox lies over its row)."""
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def click_on(page: Page, target) -> None:
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_menu_and_its_panels_open_and_close_by_click_and_touch(browser, journey, javascript):
    """Where the theme's extra labels were (the backdrop, a section's row, the contents' title), the
    toggle's own checkbox now lies: a click or a tap there still opens and closes, without JavaScript too."""
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript, reduced_motion="reduce",
                                  has_touch=True)
    page = context.new_page()
    site = journey.site.url
    menu, drawer = page.locator("#__drawer"), page.locator(".md-sidebar--primary")
    contents = page.locator("#__toc")
    backdrop = (PHONE["width"] - 30, PHONE["height"] // 2)  # beside the open menu (and its scroll bar)
    try:
        page.goto(site + "/how-it-works/")
        about = section_id(page, "About this site")
        section = page.locator(f"#{about}")
        page.locator("label.md-header__button[for='__drawer']").click()
        expect(drawer).to_be_visible()
        page.mouse.click(*backdrop)
        expect(menu).not_to_be_checked()
        expect(drawer).to_be_hidden()

        page.locator("label.md-header__button[for='__drawer']").tap()
        expect(menu).to_be_checked()
        tap_on(page, drawer.locator(f"#{about}_label"))  # "About this site"
        expect(section).to_be_checked()
        privacy = drawer.get_by_role("link", name="Privacy notice")
        expect(privacy).to_be_in_viewport()
        tap_on(page, drawer.locator(f"label.md-nav__title[for='{about}']"))  # its title, with the back arrow
        expect(section).not_to_be_checked()
        expect(privacy).not_to_be_in_viewport()
        page.touchscreen.tap(*backdrop)
        expect(menu).not_to_be_checked()

        page.goto(site + "/privacy/")
        page.locator("label.md-header__button[for='__drawer']").click()
        click_on(page, drawer.locator("label[for='__toc']"))  # the page's own row opens its contents
        expect(contents).to_be_checked()
        heading = drawer.get_by_role("link", name="Our enquiry form")
        expect(heading).to_be_in_viewport()
        click_on(page, drawer.locator(".md-nav--secondary > .md-nav__title"))  # "Table of contents" closes them
        expect(contents).not_to_be_checked()
        expect(section).to_be_checked()  # still in "About this site"
        expect(menu).to_be_checked()
        page.mouse.click(*backdrop)
        expect(menu).not_to_be_checked()

        # With text at 200% the menu is nearly as wide as the screen; a strip of backdrop stays to tap.
        page.evaluate(TEXT_200)
        page.locator("label.md-header__button[for='__drawer']").tap()
        expect(menu).to_be_checked()
        page.touchscreen.tap(*backdrop)
        expect(menu).not_to_be_checked()
    finally:
        context.close()


def test_the_search_opens_and_closes_by_click_touch_and_keyboard(browser, journey):
    context = browser.new_context(viewport=PHONE, reduced_motion="reduce", has_touch=True)
    page = context.new_page()
    site = journey.site.url
    toggle = page.locator("#__search")
    try:
        page.goto(site + "/")
        if is_zensical(page):
            # Zensical's search is a dialog of its own, opened by its header button (no toggles inside).
            box = open_search(page, tap=True)
            expect(box).to_be_focused()
            page.keyboard.press("Escape")
            expect(box).to_be_hidden()
            return
        # A phone: the header's button opens it, the back arrow (the checkbox lies over it) closes it.
        box = open_search(page, tap=True)
        expect(toggle).to_be_checked()
        expect(box).to_be_in_viewport()
        expect(page.locator(".md-search__form")).to_be_in_viewport()  # below the exit bar, not under it
        assert page.evaluate("document.elementFromPoint(20, 20).closest('.qe') !== null")  # the exit stays on top
        tap_on(page, page.locator(".md-search__form > .md-search__icon"))
        expect(toggle).not_to_be_checked()
        # By keyboard: Tab to the Search checkbox, Space opens; Escape closes (Material's script).
        page.goto(site + "/")
        tab_to(page, toggle, limit=6)
        expect(toggle).to_have_accessible_name("Search")
        page.keyboard.press("Space")
        expect(toggle).to_be_checked()
        page.keyboard.press("Escape")
        expect(toggle).not_to_be_checked()

        # A desktop: the box opens it, a click beside it (on its checkbox, the backdrop) closes it.
        page.set_viewport_size(DESKTOP)
        page.goto(site + "/")
        expect(search(page, "letters").first).to_be_visible()
        expect(toggle).to_be_checked()
        page.mouse.click(200, DESKTOP["height"] - 100)
        expect(toggle).not_to_be_checked()
        expect(page.locator(".md-search-result__item").first).to_be_hidden()
        # ...and the exit is never under that backdrop.
        search(page, "letters")
        expect(toggle).to_be_checked()
        exit_button = page.locator(".qe-button")
        exit_box = exit_button.bounding_box()
        assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('.qe') !== null",
                             [exit_box["x"] + 5, exit_box["y"] + 5])
    finally:
        context.close()


def test_focus_stays_in_sight_when_tabbing_backwards(page: Page, journey):
    """Shift+Tab scrolls up; nothing may end up under the sticky exit bar and header."""
    page.set_viewport_size(PHONE)
    page.goto(journey.site.url + "/how-it-works/")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.evaluate(KEYBOARD_START)
    problems = []
    for _ in range(40):
        page.keyboard.press("Shift+Tab")
        focused = page.evaluate(KEYBOARD_STEP)
        if focused is None or "qe-skip" in focused["name"]:
            break
        if not focused["seen"]:
            problems.append(f"{focused['name']} (at y={focused['top']}) is hidden by {focused['cover']}")
    assert problems == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_enquiry_can_be_sent_with_the_keyboard_alone(browser, form_site, javascript):
    context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    page = context.new_page()
    try:
        page.goto(form_site.url + "/enquiry/")
        tab_to(page, page.locator("#name"), limit=60)
        page.keyboard.type("Sam")
        tab_to(page, page.locator("#contact_method"))  # a radio group is one Tab stop
        page.keyboard.press("ArrowDown")  # Email -> Phone, and selects it
        expect(page.locator("#contact_method-phone")).to_be_checked()
        tab_to(page, page.locator("#phone"))
        page.keyboard.type("07700 900 982")
        tab_to(page, page.locator("#message"))
        page.keyboard.type("Typed without a mouse.")
        tab_to(page, page.locator("form.fs-form button[type=submit]"))
        page.keyboard.press("Enter")
        page.wait_for_url("**/enquiry/sent")
        expect(page.locator(".fs-panel h1")).to_have_text("Message sent")
    finally:
        context.close()
    [enquiry] = get_outbox(form_site.app).claim(limit=10)
    text = hub_text(enquiry.message)
    assert their_message(text) == "Typed without a mouse."
    assert "Only contact this person by PHONE" in text and "Phone number: 07700 900 982" in text


# ---------------------------------------------------------------- without JavaScript


def test_without_javascript_every_page_reads_and_the_menu_works(browser, journey):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    site = journey.site.url
    try:
        for path in journey.pages:
            page.goto(site + path)
            expect(page.locator("article h1, main h1").first).to_be_visible()
            text = page.locator("article").inner_text()
            assert len(text.split()) > 20, path
        # The menu opens from its button (a label and a checkbox: no script needed).
        page.goto(site + "/")
        page.locator("label.md-header__button[for='__drawer']").click()
        link = page.locator(".md-sidebar--primary").get_by_role("link", name="Email us")
        expect(link).to_be_visible()
        link.click()
        expect(page).to_have_url(site + "/email-us/")
        # At desktop width the menu is always there.
        page.set_viewport_size(DESKTOP)
        page.get_by_role("navigation", name="Navigation").get_by_role("link", name="Cookies").click()
        expect(page).to_have_url(site + "/cookies/")
    finally:
        context.close()


# ---------------------------------------------------------------- findable
# What Lighthouse's SEO audits look at, checked on every build rather than only when
# someone runs the benchmark (bench/lighthouse.py).


def test_every_page_can_be_found_and_is_described(built_site, make_form_app):
    from urllib.parse import urlsplit

    from bs4 import BeautifulSoup
    from werkzeug.test import Client

    from localrun.localsite import StaticSite

    robots = (built_site / "robots.txt").read_text(encoding="utf-8")
    assert re.search(r"^Allow: /$", robots, re.M) and not re.search(r"^Disallow: /$", robots, re.M)
    # One sitemap per language (/sitemap.xml, /cy/sitemap.xml): together, every page.
    sitemap_urls = re.findall(r"^Sitemap: (https?://\S+/sitemap\.xml)$", robots, re.M)
    assert len(sitemap_urls) == 2, robots
    locations = []
    for sitemap_url in sitemap_urls:
        sitemap = (built_site / urlsplit(sitemap_url).path.lstrip("/")).read_text(encoding="utf-8")
        found = re.findall(r"<loc>(.*?)</loc>", sitemap)
        assert found and all(loc.startswith(sitemap_url.removesuffix("sitemap.xml")) for loc in found)
        locations += found
    assert sorted(urlsplit(loc).path for loc in locations) == sorted(site_pages(built_site))

    pages = {path: built_site.joinpath(path.strip("/"), "index.html").read_text(encoding="utf-8")
             for path in site_pages(built_site) if path.endswith("/")}
    form = make_form_app(SITE_DIR=str(built_site)).test_client().get("/enquiry/")
    pages["/enquiry/"] = form.get_data(as_text=True)
    for path, html in pages.items():
        page = BeautifulSoup(html, "html.parser")
        assert page.html.get("lang"), path
        assert page.title.get_text(strip=True), path
        description = page.find("meta", attrs={"name": "description"})
        assert description and 50 <= len(description["content"]) <= 160, path
        assert page.find("meta", attrs={"name": "viewport"}), path
        robots_meta = page.find("meta", attrs={"name": "robots"})
        assert robots_meta is None or "noindex" not in robots_meta["content"], path
        canonical = page.find("link", rel="canonical")
        if path != "/enquiry/":
            assert canonical and urlsplit(canonical["href"]).path == path, path
    # The form's frame is a file of the site, not a page: kept out of search results.
    frame = Client(StaticSite(built_site)).get("/formsvc-shell.html")
    assert frame.headers["X-Robots-Tag"] == "noindex"
