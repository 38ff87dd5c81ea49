"""The built site: every page there, readable, with the facts, the exit and nothing loaded from elsewhere."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent


class _Loader(yaml.SafeLoader):
    """Reads mkdocs.yml, resolving !ENV [NAME, default] to its default."""


_Loader.add_constructor("!ENV", lambda loader, node: loader.construct_sequence(node)[-1])


def mkdocs_config() -> dict:
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)


def site_setting(name: str) -> str:
    """A setting pages show, as the build fills it in: mkdocs.yml, else contract/site_settings.py's default."""
    from sitebuild.settings import site_values

    return site_values(mkdocs_config().get("extra"), environ={})[name]


def nav_files(nav) -> list[str]:
    files = []
    for item in nav:
        for value in item.values():
            files.extend(nav_files(value) if isinstance(value, list) else [value])
    return files


def built_page(site: Path, md_file: str) -> Path:
    stem = md_file[: -len(".md")]
    if stem == "index" or stem.endswith("/index"):  # a folder's own page (easy-read/index.md)
        return site / stem.removesuffix("index") / "index.html"
    return site / f"{stem}/index.html"


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def all_html(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def page_text(site: Path) -> str:
    text = []
    for md_file in nav_files(mkdocs_config()["nav"]):
        article = soup(built_page(site, md_file)).select_one("article")
        text.append(re.sub(r"\s+", " ", article.get_text(" ")))
    return " ".join(text)


def test_every_nav_page_is_built_with_one_h1_and_a_description(built_site):
    pages = nav_files(mkdocs_config()["nav"])
    assert len(pages) >= 10
    for md_file in pages:
        html = soup(built_page(built_site, md_file))
        assert len(html.find_all("h1")) == 1, md_file
        description = html.find("meta", attrs={"name": "description"})
        assert description and len(description["content"].strip()) > 20, md_file
        # The page's own description, not the site-wide fallback.
        assert description["content"] != mkdocs_config()["site_description"].strip(), md_file


def test_the_404_page_is_useful(built_site):
    html = soup(built_site / "404.html")
    assert html.find("h1").get_text(strip=True) == "Page not found"
    links = {a["href"] for a in html.select("article a[href]")}
    assert {"/", "/how-it-works/", "/email-us/"} <= links


@pytest.mark.parametrize(
    "fact",
    [
        "85%",
        # The five indirect methods.
        "forms", "letters", "videos", "teleconferencing", "shuttle mediation",
        # The three family group meeting types.
        "Group meetings", "Welfare family group meetings", "Youth justice family group meetings",
        # What a victim can talk about.
        "how it made you feel", "the harm it caused",
        # Restorative conferences and community work.
        "agreement", "contract", "neighbour", "both sides", "anti-social behaviour",
        "never left alone", "any type of crime",
    ],
)
def test_the_source_facts_are_on_the_site(built_site, fact):
    assert fact.lower() in page_text(built_site).lower()


def test_it_is_available_after_sentencing(built_site):
    # One sentence must say it: "after" and "sentence" anywhere on the site proves nothing.
    text = soup(built_page(built_site, "how-it-works.md")).select_one("article").get_text(" ")
    sentences = re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", text).lower())
    assert any("after" in s and "sentence" in s for s in sentences)


def test_the_four_things_every_meeting_must_include(built_site):
    text = soup(built_page(built_site, "how-it-works.md")).select_one("article").get_text(" ").lower()
    for must in ["takes responsibility", "take part", "what happened", "put right the harm"]:
        assert must in text, must


def test_links_to_the_form_and_other_help(built_site):
    hrefs = {a.get("href") for path in all_html(built_site) for a in soup(path).find_all("a")}
    assert "/enquiry/" in hrefs
    for site in ["askthe.police.uk", "refuge.org.uk", "nationaldahelpline.org.uk", "womensaid.org.uk", "ncsc.gov.uk"]:
        assert any(h and urlsplit(h).hostname and urlsplit(h).hostname.endswith(site) for h in hrefs), site


def test_footer_links_to_privacy_cookies_and_accessibility(built_site):
    for path in all_html(built_site):
        footer = soup(path).select_one("nav.site-footer-links")
        assert footer is not None, path
        url = "/" + path.relative_to(built_site).as_posix()
        hrefs = {urljoin(url, a["href"]) for a in footer.find_all("a")}
        # Each language's pages link to its own (tests/test_languages.py: /cy/).
        prefix = "/cy" if url.startswith("/cy/") else ""
        assert {f"{prefix}/privacy/", f"{prefix}/cookies/", f"{prefix}/accessibility/"} <= hrefs, path


# ---------------------------------------------------------------- The quick exit

FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, [tabindex]"


def test_every_page_has_the_exit_button_and_skip_link_first(built_site, neutral_site):
    pages = all_html(built_site)
    assert len(pages) >= 12  # content pages, the 404 page and the form's shell
    for path in pages:
        html = soup(path)
        skip = html.select_one("a.qe-skip")
        button = html.select_one("a.qe-button")
        assert skip and button, path
        for link in (skip, button):
            assert link["href"] == neutral_site.url, path
            assert {"nofollow", "noreferrer"} <= set(link["rel"]), path
        # In the page's language (the Welsh words: tests/test_languages.py).
        words = "Gadael y dudalen" if path.relative_to(built_site).parts[0] == "cy" else "Exit this page"
        assert words in button.get_text(" ", strip=True), path
        # The first thing a keyboard reaches is the exit link.
        assert html.body.select_one(FOCUSABLE) is skip, path


def test_the_exit_destination_is_set_in_one_place_and_is_neutral():
    url = site_setting("exit_url")
    assert urlsplit(url).scheme == "https"
    assert "?" not in url  # nothing personal or tracking in the address
    sources = [p for p in (ROOT / "overrides").rglob("*") if p.is_file()]
    sources += [p for p in (ROOT / "site_content").rglob("*") if p.suffix in {".js", ".css", ".html"}]
    for path in sources:
        assert url not in path.read_text(encoding="utf-8"), f"{path} repeats extra.exit_url"


# ---------------------------------------------------------------- No third-party loads

def _is_external(url: str | None) -> bool:
    if not url:
        return False
    url = url.strip()
    return url.startswith("//") or bool(urlsplit(url).scheme in {"http", "https"})


LOADING_ATTRIBUTES = {
    "script": ["src"], "img": ["src", "srcset"], "iframe": ["src"], "frame": ["src"], "audio": ["src"],
    "video": ["src", "poster"], "source": ["src", "srcset"], "track": ["src"], "embed": ["src"],
    "object": ["data"], "input": ["src"], "image": ["href"], "use": ["href"],
}
LOADING_LINK_RELS = {"stylesheet", "icon", "preload", "prefetch", "preconnect", "dns-prefetch",
                     "modulepreload", "manifest", "apple-touch-icon"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")


def test_no_built_html_loads_anything_from_another_origin(built_site):
    problems = []
    for path in all_html(built_site):
        html = soup(path)
        for tag, attributes in LOADING_ATTRIBUTES.items():
            for element in html.find_all(tag):
                for attribute in attributes:
                    for candidate in (element.get(attribute) or "").split(","):
                        if _is_external(candidate.split()[0] if candidate.split() else ""):
                            problems.append((path, tag, candidate))
        for link in html.find_all("link"):
            if LOADING_LINK_RELS & set(link.get("rel", [])) and _is_external(link.get("href")):
                problems.append((path, "link", link["href"]))
        for element in html.find_all(style=True):
            problems += [(path, "style", m) for m in CSS_URL.findall(element["style"]) if _is_external(m[0] or m[1])]
        for style in html.find_all("style"):
            problems += [(path, "style", m) for m in CSS_URL.findall(style.get_text()) if _is_external(m[0] or m[1])]
        refresh = html.find("meta", attrs={"http-equiv": re.compile("refresh", re.I)})
        if refresh:
            problems.append((path, "meta refresh", refresh.get("content")))
    assert problems == []


def test_no_built_css_loads_anything_from_another_origin(built_site):
    problems = []
    for path in built_site.rglob("*.css"):
        for match in CSS_URL.findall(path.read_text(encoding="utf-8")):
            url = match[0] or match[1]
            if _is_external(url):
                problems.append((path.name, url))
    assert problems == []


def test_the_build_fails_when_someone_adds_an_external_asset(tmp_path, run_python):
    """The privacy plugin turns an external image into a warning; --strict makes it a failure."""
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "site_content", docs)
    index = docs / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n![A chart](https://cdn.example.com/chart.png)\n",
                     encoding="utf-8")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("docs_dir: site_content", f"docs_dir: {docs}")
    config = config.replace("custom_dir: overrides", f"custom_dir: {ROOT / 'overrides'}")
    config = config.replace("- mkdocs_adapter/", f"- {ROOT}/mkdocs_adapter/")
    config = config.replace("\n  - videos\n", f"\n  - {ROOT / 'videos'}\n")  # watch: the video catalogue
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")

    result = run_python("-m", "mkdocs", "build", "--strict", "-f", str(tmp_path / "mkdocs.yml"),
                        "--site-dir", str(tmp_path / "out"), env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode != 0
    assert "cdn.example.com" in result.stdout + result.stderr


# ---------------------------------------------------------------- What a victim needs before getting in touch
# Each fact must be said in one sentence of one page: words scattered over a page prove nothing.
# (page, what the fact is, patterns that must all be in the same sentence)

FACTS = [
    # The Victims' Code: who tells you, and how soon.
    ("your-rights.md", "adult offender: the police tell you",
     [r"\bif the offender is an adult\b", r"\bthe police tell you\b", r"restorative justice"]),
    ("your-rights.md", "under 18: the Youth Offending Team tells you",
     [r"\bif the offender is under 18\b", r"\bYouth Offending Team tells you\b"]),
    ("your-rights.md", "the Youth Offending Team's other name", [r"\bnow often called the youth justice service\b"]),
    ("your-rights.md", "told within 5 working days of reporting",
     [r"\btold about restorative justice within 5 working days of reporting\b"]),
    ("your-rights.md", "1 working day with enhanced rights",
     [r"\benhanced rights\b", r"\bwithin 1 working day of reporting\b"]),
    ("your-rights.md", "enhanced rights: the most serious crimes", [r"\bvictim of one of the most serious crimes\b"]),
    ("your-rights.md", "enhanced rights: persistently targeted", [r"\btargeted again and again\b"]),
    ("your-rights.md", "enhanced rights: vulnerable or intimidated", [r"\bvulnerable or intimidated victim\b"]),
    ("your-rights.md", "any service, at any stage", [r"\bmust do this at any stage\b"]),
    ("your-rights.md", "referred within 2 working days",
     [r"\bright to be referred\b", r"\bsupports victims\b", r"\bwithin 2 working days\b"]),
    ("your-rights.md", "referral includes restorative justice services", [r"\bincludes restorative justice services\b"]),
    ("your-rights.md", "self-referral without reporting",
     [r"\bdid not report the crime\b", r"\bcontact support services yourself\b", r"\bat any time\b"]),
    ("your-rights.md", "you can ask us yourself", [r"\bask us about it yourself\b"]),
    ("your-rights.md", "about 4% recall being offered it", [r"\babout 4% of victims\b", r"\boffered restorative justice\b"]),
    ("your-rights.md", "the right to complain", [r"\bright to complain\b", r"\brights under the Victims' Code\b"]),
    # What happens before any meeting.
    # "Where appropriate... among other things": a condition of the case, not a rule of ours.
    ("what-happens-next.md", "offered where it is right for the case", [r"\boffered when it is right for the case\b"]),
    ("what-happens-next.md", "among other things", [r"\bamong other things\b", r"\babout the offender\b"]),
    ("what-happens-next.md", "the offender has admitted the offence", [r"\bthey have admitted the offence\b"]),
    ("what-happens-next.md", "the offender is willing", [r"\bthey are willing to take part\b"]),
    ("what-happens-next.md", "the offender may say no", [r"\bthe offender may say no\b"]),
    ("what-happens-next.md", "free", [r"\bit is free for you\b"]),
    ("what-happens-next.md", "preparation: separately, usually more than once",
     [r"\bpractitioner meets you and the offender separately\b", r"\busually more than once\b"]),
    ("what-happens-next.md", "the safety check before any contact",
     [r"\bbefore any contact with the offender\b", r"\bchecks that it is safe for everyone\b"]),
    ("what-happens-next.md", "some cases need extra care and may not go ahead",
     [r"\bneed extra care\b", r"\bmay not go ahead\b"]),
    ("what-happens-next.md", "examples of cases that need extra care",
     [r"\bdomestic abuse, sexual violence, stalking and hate crime\b"]),
    ("what-happens-next.md", "consent first", [r"\bgive your consent before any meeting\b"]),
    ("what-happens-next.md", "withdraw consent at any time, before or during",
     [r"\btake back your consent at any time\b", r"\bbefore or during\b"]),
    ("what-happens-next.md", "without giving a reason", [r"\byou do not have to give a reason\b"]),
    ("what-happens-next.md", "weeks or months", [r"\bcan take weeks or months\b", r"\bto a meeting\b"]),
    ("what-happens-next.md", "follow-up after a meeting", [r"\bafter a meeting, the practitioner checks how you are\b"]),
    ("what-happens-next.md", "follow-up: any agreement kept", [r"\bwhether any agreement is being kept\b"]),
    ("what-happens-next.md", "the offender may refuse: other ways may still be possible",
     [r"\bdoes not want to meet\b", r"\bcommunicate in other ways\b"]),
    ("what-happens-next.md", "you can change your mind", [r"\byou can stop at any time, even during a meeting\b"]),
    # Support while you decide.
    ("support.md", "Victim Support is independent", [r"\bVictim Support is an independent charity\b"]),
    ("support.md", "Victim Support is free and confidential for anyone affected by crime",
     [r"\bfree, confidential support to anyone affected by crime in England and Wales\b"]),
    ("support.md", "Victim Support whether or not you reported",
     [r"\bsupport to anyone\b", r"\bwhether or not the crime was reported\b"]),
    ("support.md", "Victim Support's number", [r"\bSupportline on 08 08 16 89 111\b"]),
    ("support.md", "Victim Support: free, 24 hours", [r"\bfree and open 24 hours a day\b"]),
    ("support.md", "the National Domestic Abuse Helpline", [r"\bNational Domestic Abuse Helpline on 0808 2000 247\b"]),
    ("support.md", "the helpline: Refuge runs it", [r"\bthe charity Refuge runs it\b"]),
    ("support.md", "the helpline: a safe time to call back", [r"\bsafe time for them to call you back\b"]),
    ("support.md", "the Men's Advice Line", [r"\bMen's Advice Line on 0808 801 0327\b"]),
    ("support.md", "the Men's Advice Line: for men", [r"\bfor men experiencing domestic abuse\b"]),
    ("support.md", "Live Fear Free: call or text",
     [r"\bLive Fear Free helpline in Wales on 0808 80 10 800\b", r"\btext 07860 077333\b"]),
    ("support.md", "Live Fear Free: free, confidential, 24/7",
     [r"\bfree, confidential and open 24 hours a day, 7 days a week\b"]),
    ("support.md", "Live Fear Free: for anyone, or worried about someone",
     [r"\bdomestic abuse or sexual violence, or worried about someone\b"]),
    ("support.md", "999 and the Silent Solution", [r"\bcall 999 and press 55\b"]),
    ("support.md", "101", [r"\bnot an emergency, call 101\b"]),
    ("email-us.md", "Victim Support on Email us", [r"\bSupportline on 08 08 16 89 111\b"]),
    ("email-us.md", "Victim Support whether or not you reported, on Email us",
     [r"\bfree, confidential support\b", r"\bwhether or not the crime was reported\b"]),
    ("email-us.md", "the Silent Solution on Email us", [r"\bPress 55 when you are asked\b"]),
    ("email-us.md", "101 on Email us", [r"\bnot an emergency, call 101\b"]),
    # Before you start (Email us).
    ("email-us.md", "Before you start: the exit button", [r'\bevery page has an "Exit this page" button\b']),
    ("email-us.md", "Before you start: Shift 3 times, on a computer", [r"\bon a computer\b", r"\bpress the Shift key 3 times\b"]),
    ("email-us.md", "Before you start: the history stays",
     [r"\bbutton does not delete your browser history\b"]),
    # How to complain.
    ("complaints.md", "complain to our force first", [r"\bcomplain to our police force first\b"]),
    ("complaints.md", "the Code: the right to complain", [r"\bright to complain if you did not get your rights\b"]),
    ("complaints.md", "the Code: complain first to the organisation concerned",
     [r"\bcomplain first to the organisation your complaint is about\b"]),
]


def sentences_of(html: BeautifulSoup) -> list[str]:
    """The article's sentences: each paragraph and list item split at full stops (headings are not sentences)."""
    found = []
    for block in html.select_one("article").find_all(["p", "li", "td"]):
        if block.find(["p", "li"]) or "admonition-title" in (block.get("class") or []):
            continue  # a container, or an admonition's title: its own paragraphs are counted
        text = re.sub(r"\s+", " ", block.get_text(" ")).replace("\xa0", " ")
        text = re.sub(r"\s+([.,;:!?])", r"\1", text).strip()
        found += [s for s in re.split(r"(?<=[.!?])\s+(?=[\"'“A-Z0-9])", text) if s]
    return found


def said_in_one_sentence(sentences: list[str], patterns: list[str]) -> bool:
    return any(all(re.search(p, s, re.IGNORECASE) for p in patterns) for s in sentences)


def test_a_fact_spread_over_two_sentences_does_not_count():
    adult = [r"\bif the offender is an adult\b", r"\bthe police tell you\b"]
    assert said_in_one_sentence(["If the offender is an adult, the police tell you."], adult)
    assert not said_in_one_sentence(["If the offender is an adult, write to us.", "The police tell you more."], adult)
    html = BeautifulSoup("<article><h2>Within 5 working days</h2><p>You are told.</p>"
                         "<ul><li>If the offender is an adult</li><li>the police tell you</li></ul></article>",
                         "html.parser")
    assert not said_in_one_sentence(sentences_of(html), adult)
    assert not said_in_one_sentence(sentences_of(html), [r"within 5 working days", r"told"])


@pytest.mark.parametrize("md_file, fact, patterns", FACTS, ids=[f"{f[0]}: {f[1]}" for f in FACTS])
def test_each_fact_a_victim_needs_is_said_in_one_sentence(built_site, md_file, fact, patterns):
    sentences = sentences_of(soup(built_page(built_site, md_file)))
    assert said_in_one_sentence(sentences, patterns), f"{md_file} does not say, in one sentence: {fact}"


def test_the_new_pages_are_in_the_menu_near_how_it_works():
    nav = nav_files(mkdocs_config()["nav"])
    assert nav.index("your-rights.md") == nav.index("how-it-works.md") + 1
    assert nav.index("what-happens-next.md") == nav.index("your-rights.md") + 1
    assert {"support.md", "complaints.md"} <= set(nav)


def test_email_us_says_how_soon_we_reply_from_mkdocs_yml(built_site):
    reply_within = site_setting("reply_within")
    sentences = sentences_of(soup(built_page(built_site, "email-us.md")))
    assert f"We aim to reply within {reply_within}." in sentences


def test_email_us_has_before_you_start_ahead_of_the_form_and_links_to_what_happens_next(built_site):
    html = soup(built_page(built_site, "email-us.md"))
    links = html.select("article a[href]")  # not Zensical's anchor for the skip link
    hrefs = [a["href"] for a in links]
    panel = next(a for a in html.select("article .admonition")
                 if a.select_one(".admonition-title").get_text(strip=True) == "Before you start")
    [exit_page] = [a for a in panel.find_all("a") if a["href"].endswith("leave-quickly/")]
    assert exit_page.get_text(strip=True) == "Leave this site quickly"
    # The panel comes before the link to the form.
    assert hrefs.index(exit_page["href"]) < hrefs.index("/enquiry/")
    assert any(h.endswith("what-happens-next/") for h in hrefs)
    assert any(h.endswith("support/") for h in hrefs)


def test_how_to_complain_links_to_our_force_first_from_mkdocs_yml(built_site):
    complaints_url = site_setting("complaints_url")
    article = soup(built_page(built_site, "complaints.md")).select_one("article")
    links = [a for a in article.find_all("a", href=True)  # not Zensical's anchor for the skip link
             if "md-content__button" not in (a.get("class") or [])  # not "Edit"
             and not a.get("hreflang")]  # not the link to the page in Welsh
    if complaints_url:
        force = [a for a in links if a.get("href") == complaints_url]
        assert [a.get_text(strip=True) for a in force] == ["Make a complaint to our police force"]
    else:
        # No guessed address: until the force gives its page, the page says to ask us, and how.
        force = [a for a in links if a.get("href") == "/enquiry/"]
        assert "Ask us how to make a complaint to our police force." in sentences_of(
            soup(built_page(built_site, "complaints.md")))
    # The force's own route is the first thing the page links to.
    assert links[0] is force[0]


# ---------------------------------------------------------------- Words we can keep (issue 19)
# Every promise is in ../shared/source/ or is a force setting (mkdocs.yml extra) that the content
# checks warn about until set. The pages' own Markdown, the form's templates and its questions never
# make one of these promises themselves.

MARKDOWN = sorted((ROOT / "site_content").glob("*.md")) + sorted((ROOT / "videos").glob("*.md"))
FORM_WORDS = sorted((ROOT / "formsvc" / "templates").glob("*.html")) + [ROOT / "formsvc" / "questions.py"]
MARKER = re.compile(r"^<!-- extra\.(\w+) -->$", re.M)

# Promises the sources do not give, and that only the force may make (as a setting).
NOT_OURS_TO_PROMISE = [
    r"nothing happens unless you agree",
    r"(will|never) contact the offender unless",
    r"only contact you in the way",
    r"contact you only in the way",
    r"we will only",
    r"trained member of",
    r"trained staff",
    r"public task",
    r"not aware of any accessibility problems",
    r"offender must have admitted",
    r"we only use your answers",
    r"we will not (leave a message|say who we are)",
    r"BBC Weather",
]


def _words(path: Path) -> str:
    return re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", MARKDOWN + FORM_WORDS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_page_or_form_makes_a_promise_only_the_force_can_make(path):
    text = _words(path)
    found = [promise for promise in NOT_OURS_TO_PROMISE if re.search(promise, text, re.IGNORECASE)]
    assert not found, f"{path.name} promises {found}: make it a setting in mkdocs.yml (extra), or leave it out"


def test_one_name_for_the_person_who_runs_restorative_justice():
    """"Practitioner", defined once (How it works), linked to that definition from other pages;
    never "facilitator" (except to say that some say it), "trained member" or "trained staff"."""
    definition = "A practitioner is a person trained to run restorative justice."
    for path in MARKDOWN + FORM_WORDS:
        text = _words(path)
        if path.name == "how-it-works.md":
            assert "## The practitioner" in path.read_text(encoding="utf-8")
            assert definition in text
            assert text.count("facilitator") == 1 and "also hear them called a facilitator" in text
            continue
        assert "facilitator" not in text.lower(), path.name
        if "practitioner" in text.lower() and path.parent.name == "site_content":
            first = re.search(r"\[?practitioner", text, re.IGNORECASE)
            assert text[first.start():].startswith("[practitioner](how-it-works.md#the-practitioner)"), path.name


# The facts written once: the 999 and 55 words, the support lines, the exit's destination.
# contract/site_settings.py holds them (mkdocs.yml's extra may set others); pages show them by
# marker, the form through the manifest.
FACTS_WRITTEN_ONCE = [r"\b999\b", r"\b55\b", r"\b101\b", r"Silent Solution", r"08 ?08 ?16 ?89 ?111", r"\b0808\b",
                      r"07860", r"Supportline", r"BBC", r"weather"]


def site_extra() -> dict:
    """Every setting as the build fills it in: mkdocs.yml, else contract/site_settings.py's default."""
    from sitebuild.settings import site_values

    return site_values(mkdocs_config().get("extra"), environ={})


def test_the_facts_are_written_once_in_the_table_of_settings():
    extra = site_extra()
    assert "press 55" in extra["emergency"] and "Silent Solution" in extra["emergency"]
    assert "101" in extra["non_emergency"]
    assert extra["victim_support"]["phone"] == "08 08 16 89 111"
    assert [line["phone"] for line in extra["domestic_abuse_lines"]] == ["0808 2000 247", "0808 801 0327",
                                                                         "0808 80 10 800"]
    assert extra["exit_name"] == "BBC Weather"
    copies = []
    templates = [p for p in (ROOT / "overrides").rglob("*.html") if p.name != "site-settings.html"]
    for path in MARKDOWN + FORM_WORDS + templates:
        text = path.read_text(encoding="utf-8")
        if path.name == "_macros.html":
            # The one fallback, for a service with no built site: "Call 999." and nothing more.
            text = text.replace('site.emergency or _("Call 999.")', "")
        # Comments are for developers; readers never see them.
        text = re.sub(r"\{#.*?#\}|<!--.*?-->", "", text, flags=re.S)
        copies += [(path.name, fact) for fact in FACTS_WRITTEN_ONCE if re.search(fact, text, re.IGNORECASE)]
    assert copies == [], "These repeat a fact that contract/site_settings.py holds: use its marker line instead"


def test_every_marker_names_a_setting_and_every_setting_for_pages_is_used():
    from contract.site_settings import SITE_SETTINGS

    used = {key for path in MARKDOWN for key in MARKER.findall(path.read_text(encoding="utf-8"))}
    for key in used:
        assert key in SITE_SETTINGS, f"<!-- extra.{key} --> names no setting in contract/site_settings.py"
        assert SITE_SETTINGS[key].on_pages, \
            f"contract/site_settings.py does not say what <!-- extra.{key} --> becomes"
    # translations_checked_by is not shown on pages: it records who checked the translations.
    assert {key for key, setting in SITE_SETTINGS.items() if setting.placeholder and not setting.translations} <= used
    assert {"emergency", "non_emergency", "victim_support", "domestic_abuse_lines", "exit_name"} <= used


def _shown(html: BeautifulSoup, value: str) -> bool:
    return value in re.sub(r"\s+", " ", html.select_one("article").get_text(" ")).replace(" .", ".")


def test_each_page_shows_the_settings_its_markers_ask_for(built_site):
    extra = site_extra()
    for path in sorted((ROOT / "site_content").glob("*.md")):
        keys = MARKER.findall(path.read_text(encoding="utf-8"))
        if not keys:
            continue
        html = soup(built_page(built_site, path.name))
        article = html.select_one("article")
        assert "<!-- extra." not in str(article), path.name  # every marker was filled
        for key in keys:
            value = extra[key]
            if key == "emergency":
                warning = next(a for a in article.select(".admonition.warning")
                               if a.select_one(".admonition-title").get_text(strip=True) == "If you are in danger now")
                assert value in warning.get_text(" "), path.name
            elif key == "victim_support":
                assert _shown(html, value["about"]) and article.select_one('a[href="tel:08081689111"]'), path.name
            elif key == "domestic_abuse_lines":
                for line in value:
                    assert _shown(html, f"Call {line['name']} on {line['phone']}"), (path.name, line["name"])
                    assert article.select_one(f'a[href="tel:{line["phone"].replace(" ", "")}"]'), path.name
            elif key == "exit_name":
                assert _shown(html, f"It takes you to a neutral website: {value}."), path.name
            elif key == "complaints_url":
                continue  # test_how_to_complain_links_to_our_force_first_from_mkdocs_yml
            elif key == "reply_within":
                assert _shown(html, f"We aim to reply within {value}."), path.name
            else:
                assert _shown(html, value), (path.name, key)


def test_the_home_page_has_an_early_calm_word_for_someone_who_lives_with_the_person(built_site):
    article = soup(built_page(built_site, "index.md")).select_one("article")
    note = next(a for a in article.select(".admonition")
                if a.select_one(".admonition-title").get_text(strip=True) == "If you live with the person who harmed you")
    # On the first screen: before any section of the page.
    first_h2 = article.find("h2")
    assert str(article).index(str(note)) < str(article).index(str(first_h2))
    hrefs = [a["href"] for a in note.find_all("a", href=True)]
    assert any(h.endswith("leave-quickly/") for h in hrefs)
    assert any(h.endswith("support/#if-you-live-with-or-are-afraid-of-the-person-who-harmed-you") for h in hrefs)
    assert "Exit this page" in note.get_text()


def test_what_happens_next_answers_the_first_questions_or_says_ask_us(built_site):
    html = soup(built_page(built_site, "what-happens-next.md"))
    questions = [h.get_text(strip=True) for h in html.select("article h3")]
    for asked in ["What will the offender be told about me?", "Does the crime have to be reported to the police?",
                  "Can I change my mind?", "What if the offender says no?"]:
        assert asked in questions
    sentences = sentences_of(html)
    # What the sources do not say is for us to answer, case by case: a list of questions to ask.
    assert said_in_one_sentence(sentences, [r"\bdepends on your case\b"])
    to_ask = html.find("h2", id="questions-to-ask-us").find_next("ul").get_text(" ")
    for question in ["Will the offender be told that I asked", "Will the offender be told my name, where I live",
                     "If the offender says no, will you tell me?", "Can it go ahead if I did not report the crime?"]:
        assert question in to_ask


def test_leaving_quickly_works_for_a_phone_and_says_what_happens_without_javascript(built_site):
    html = soup(built_page(built_site, "leave-quickly.md"))
    headings = [h.get_text(strip=True) for h in html.select("article h3")]
    assert headings.count("On an iPhone or iPad (Safari)") == 2  # private browsing, and removing pages
    assert headings.count("On an Android phone (Chrome)") == 2
    sentences = sentences_of(html)
    assert said_in_one_sentence(sentences, [r"\bon a phone or tablet, tap the button\b"])
    assert said_in_one_sentence(sentences, [r"\bif JavaScript is turned off\b", r"\bplain link\b"])
    assert said_in_one_sentence(sentences, [r"\bstays in your history\b", r"\bpressing Back brings it back\b"])
    assert said_in_one_sentence(sentences, [r"\bwith or without JavaScript\b", r"\bcookie\b"])
    assert said_in_one_sentence(sentences, [r"\bNew Incognito tab\b"])
    assert said_in_one_sentence(sentences, [r"\bswipe left\b", r"\bDelete\b"])


def test_the_accessibility_statement_follows_govuk_s_sample_and_names_our_known_gap(built_site):
    html = soup(built_page(built_site, "accessibility.md"))
    headings = [h.get_text(strip=True) for h in html.select("article h2, article h3")]
    for heading in ["How accessible this website is", "Feedback and contact information",
                    "Reporting accessibility problems with this website", "Enforcement procedure",
                    "Compliance status", "Non-accessible content", "Preparation of this accessibility statement"]:
        assert heading in headings
    sentences = sentences_of(html)
    assert said_in_one_sentence(sentences, [r"\bpartially compliant\b", r"\bversion 2\.2 AA\b"])
    # The gap tests/test_accessibility.py records (an expected failure), in numbers and by criterion.
    assert said_in_one_sentence(sentences, [r"\b3\.36 to 1\b", r"\b4\.5 to 1\b"])
    assert said_in_one_sentence(sentences, [r"\bsuccess criterion 1\.4\.3\b"])
    recorded = (ROOT / "tests" / "test_accessibility.py").read_text(encoding="utf-8")
    assert "pytest.xfail(f\"Zensical 0.0.73's search dialog" in recorded
    assert said_in_one_sentence(sentences, [r"\bnot yet tested this website with screen readers\b"])
    assert html.select_one('article a[href="https://www.equalityadvisoryservice.com/"]')


# ---------------------------------------------------------------- The form's cookie, as the cookies page says

# What each thing the service keeps in its session cookie is called on the cookies page.
COOKIE_HOLDS = {"csrf_token": "A random security code", "sent": "your message's reference and the time you sent it"}


def test_the_cookies_page_says_exactly_what_the_form_s_cookie_holds(form_app):
    """The service's own cookie, read after a message is sent: every thing it holds is named on
    the cookies page, and the page names the service's cookie."""
    from formsvc.config import default
    from testsupport.answers import valid_answers
    from testsupport.forms import FormBrowser

    browser = FormBrowser(form_app.test_client())
    browser.get()
    assert browser.submit(**valid_answers()).status_code == 303
    name = form_app.config["SESSION_COOKIE_NAME"]
    cookie = browser.client.get_cookie(name, path="/enquiry/")
    held = form_app.session_interface.get_signing_serializer(form_app).loads(cookie.value)
    assert set(held["sent"]) == {"reference", "at"}
    page = _words(ROOT / "site_content" / "cookies.md")
    assert f"| `{default('SESSION_COOKIE_NAME')}` |" in page
    for key in held:
        assert key in COOKIE_HOLDS, f"The form's cookie now holds {key!r}: say what it is on cookies.md"
        assert COOKIE_HOLDS[key] in page, key
    assert "does not hold any of your answers" in page
