"""The Easy Read pages (site_content/easy-read/, site_content/cy/easy-read/) as built by each builder:
linked with the words "Easy Read" from the home page and each page they cover; every picture our
own, small, with words that say what it means; the exit first; and in Debian's Chromium the format's
layout: text of at least 19px, left-aligned with space between lines, each picture on the left of its
words at desktop width and above them at phone width (320px). Every checker (axe, Equal Access,
HTML_CodeSniffer, Tab, 320 px, print) sees them in the walk over every page, tests/test_accessibility.py."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Page

from testsupport.site import site_pages

pytestmark = pytest.mark.browser

ENGLISH = ["/easy-read/", "/easy-read/get-in-touch/", "/easy-read/stay-safe/", "/easy-read/help/"]
PAGES = ENGLISH + ["/cy" + path for path in ENGLISH]
# Each page an Easy Read page covers, and where its "Easy Read" link goes, in each language.
COVERED = {
    "/": "/easy-read/",
    "/how-it-works/": "/easy-read/",
    "/indirect-meetings/": "/easy-read/#ways-to-take-part",
    "/email-us/": "/easy-read/get-in-touch/",
    "/leave-quickly/": "/easy-read/stay-safe/",
    "/support/": "/easy-read/help/",
}
WELSH_ANCHORS = {"#ways-to-take-part": "#ffyrdd-o-gymryd-rhan"}
LINK_WORDS = {"en": "Easy Read", "cy": "Hawdd ei Ddeall"}
PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
MIN_TEXT_PX = 19  # 14 pt


def html_of(site: Path, address: str) -> BeautifulSoup:
    return BeautifulSoup((site / address.lstrip("/") / "index.html").read_text(encoding="utf-8"), "html.parser")


def test_the_easy_read_pages_are_built_in_both_languages_and_marked(built_site):
    # Found by the walk every checker makes (axe and Equal Access at both widths, HTML_CodeSniffer, Tab,
    # 320 px, print: tests/test_accessibility.py), which visits site_pages: checked there, not again here.
    assert set(PAGES) <= set(site_pages(built_site))
    for address in PAGES:
        html = html_of(built_site, address)
        assert html.select_one("article .easy-read h1"), address  # the class from easy_read: true
    # ...and only they are.
    assert not html_of(built_site, "/how-it-works/").select_one(".easy-read")


@pytest.mark.parametrize("language", ["en", "cy"])
def test_linked_with_the_words_easy_read_from_the_home_page_and_each_page_it_covers(built_site, language):
    prefix = "" if language == "en" else "/cy"
    for covered, target in COVERED.items():
        address = prefix + covered
        if language == "cy":
            target = "/cy" + target
            for english, welsh in WELSH_ANCHORS.items():
                target = target.replace(english, welsh)
        links = [urljoin(address, a["href"]) for a in html_of(built_site, address).select("article a[href]")
                 if LINK_WORDS[language] in a.get_text(" ", strip=True)]
        assert target in links, (address, links)
        # ...and the link goes to a page that is there, to a heading that is on it.
        path, _, anchor = target.partition("#")
        page = html_of(built_site, path)
        assert page.select_one(".easy-read"), target
        assert not anchor or page.find(id=anchor), target


def test_every_picture_is_ours_small_and_says_what_it_means(built_site):
    for address in PAGES:
        html = html_of(built_site, address)
        pictures = html.select(".easy-read img")
        words = [p for p in html.select(".easy-read p, .easy-read li") if not p.select_one("img")]
        assert len(pictures) * 3 >= len(words) // 2, address  # a picture beside each idea (the checks: 1 per 3)
        for img in pictures:
            alt = (img.get("alt") or "").strip()
            assert len(alt.split()) >= 2 and ":" in alt, (address, img)  # what it shows: what it means here
            src = urljoin(address, img["src"])
            # Each language's build has its own copy of the shared pictures (/cy/images/...).
            prefix = "/cy" if address.startswith("/cy/") else ""
            assert not urlsplit(src).netloc and src.startswith(prefix + "/images/easy-read/"), (address, src)
            file = built_site / src.lstrip("/")
            assert file.suffix == ".svg" and file.stat().st_size < 2048, file
            svg = file.read_text(encoding="utf-8")
            assert "<script" not in svg and "href=" not in svg and "style=" not in svg, file  # nothing to load or run


def test_the_exit_comes_first_on_every_easy_read_page(built_site, neutral_site):
    for address in PAGES:
        body = html_of(built_site, address).body
        first = body.find(True)
        assert first.select_one("a.qe-skip") or "qe-skip" in (first.get("class") or []), (address, str(first)[:200])
        assert body.select_one("a.qe-button")["href"] == neutral_site.url, address


# ---------------------------------------------------------------- In a real Chromium

LAYOUT = """() => {
  const box = e => e.getBoundingClientRect();
  const area = document.querySelector('article .easy-read');
  const text = [...area.querySelectorAll('p, li')].filter(e => !e.querySelector('img') && e.textContent.trim());
  const ideas = [...area.querySelectorAll('p')].filter(p => p.children.length === 1 && p.firstElementChild.tagName === 'IMG')
    .map(p => {
      const words = p.nextElementSibling, img = box(p.firstElementChild), next = box(words);
      return {img: {top: img.top, bottom: img.bottom, left: img.left, right: img.right, width: img.width},
              words: {top: next.top, bottom: next.bottom, left: next.left}, what: words.textContent.trim().slice(0, 40)};
    });
  return {
    ideas,
    sizes: text.map(e => [parseFloat(getComputedStyle(e).fontSize), e.textContent.trim().slice(0, 40)]),
    aligns: [...new Set(text.map(e => getComputedStyle(e).textAlign))],
    spacing: text.map(e => parseFloat(getComputedStyle(e).lineHeight) / parseFloat(getComputedStyle(e).fontSize)),
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}"""


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_text_of_19px_and_each_picture_beside_its_words_at_desktop_and_above_them_on_a_phone(page: Page, site_server,
                                                                                              width):
    page.set_viewport_size(DESKTOP if width == "desktop" else PHONE)
    for address in PAGES:
        page.goto(site_server.url + address)
        layout = page.evaluate(LAYOUT)
        small = [(size, what) for size, what in layout["sizes"] if size < MIN_TEXT_PX]
        assert not small, (address, width, small)
        assert set(layout["aligns"]) <= {"left", "start"}, (address, layout["aligns"])
        assert min(layout["spacing"]) >= 1.5, (address, min(layout["spacing"]))
        assert layout["overflow"] <= 0, (address, width, "wider than the screen")
        assert len(layout["ideas"]) >= 4, address
        for idea in layout["ideas"]:
            img, words = idea["img"], idea["words"]
            assert img["width"] >= 60, (address, idea)  # a picture big enough to see
            if width == "desktop":
                # On the left of its words, beside them (their tops within the picture's height).
                assert img["right"] <= words["left"], (address, idea)
                assert img["top"] - 1 <= words["top"] < img["bottom"], (address, idea)
            else:
                # Above its words.
                assert img["bottom"] <= words["top"] + 1, (address, idea)
                assert img["left"] <= words["left"] + 1, (address, idea)
