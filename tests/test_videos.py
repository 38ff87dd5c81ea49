"""The Videos page, made from the catalogue in videos/ by sitebuild/videos/.

- The real catalogue (built_site): every entry is on the page with its summary, its
  transcript as text and a native <video> with captions on by default; the shipped
  video is small, plays in Debian's Chromium and its captions load.
- A broken entry stops the build with a message naming the file.
- A provider-hosted video (tests/fixtures/videos, with a made-up YouTube id): nothing
  is requested from another origin until the reader presses the button; then the
  player loads from youtube-nocookie.com, which the CSP allows on that page only.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Page, expect

from localrun.localsite import StaticSite, header_rules, headers_for
from testsupport.browser import Traffic
from testsupport.net import ServerThread
from testsupport.site import axe_violations, build_site

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "videos"
FIXTURES = ROOT / "tests" / "fixtures" / "videos"
SHIPPED = "how-restorative-justice-works"
PROVIDER_ORIGIN = "https://www.youtube-nocookie.com"


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def words(text: str) -> str:
    """Text as a reader sees it: Markdown emphasis gone, spaces collapsed."""
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


def entries() -> list[Path]:
    return sorted(p for p in CATALOGUE.glob("*.md") if p.name not in {"index.md", "README.md"}
                  and not p.name.startswith("_"))


def front_matter(path: Path) -> tuple[dict, str]:
    import yaml

    _, meta, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(meta), body.strip()


def cues(vtt: Path) -> list[tuple[float, float, str]]:
    found = []
    for block in vtt.read_text(encoding="utf-8").split("\n\n"):
        lines = block.strip().splitlines()
        for number, line in enumerate(lines):
            if "-->" in line:
                start, end = (sum(float(part) * 60 ** i for i, part in enumerate(reversed(stamp.strip().split(":"))))
                              for stamp in line.split("-->"))
                found.append((start, end, " ".join(lines[number + 1:])))
    return found


# ---------------------------------------------------------------- The real catalogue

def test_every_catalogue_entry_is_on_the_videos_page(built_site):
    page = soup(built_site / "videos" / "index.html")
    article = page.select_one("article")
    text = words(article.get_text(" "))
    assert entries(), "the catalogue should ship at least one video"
    for entry in entries():
        meta, transcript = front_matter(entry)
        heading = article.find("h2", string=meta["title"])
        assert heading is not None, entry.name
        assert words(meta["summary"]) in text
        for paragraph in transcript.split("\n\n"):
            assert words(paragraph) in text, paragraph
    # In the menu, after the pages about the kinds of meeting.
    current = page.select_one("nav.md-nav--primary a.md-nav__link--active")
    assert current is not None and urljoin("/videos/", current["href"]) == "/videos/"
    assert "Videos" in [a.get_text(strip=True) for a in page.select("nav.md-nav--primary a.md-nav__link")]


def test_a_video_kept_here_plays_in_the_browsers_own_player_with_captions_on(built_site):
    page = soup(built_site / "videos" / "index.html")
    assert page.find("iframe") is None
    videos = page.select("article video")
    assert len(videos) == len(entries())
    for video in videos:
        assert video.has_attr("controls")
        assert video.get("preload") in {"none", "metadata"}
        assert not video.has_attr("autoplay")
        source = video.find("source")
        assert (built_site / "videos" / source["src"]).is_file()
        track = video.find("track")
        assert track["kind"] == "captions" and track.has_attr("default") and track["srclang"] == "en"
        assert (built_site / "videos" / track["src"]).read_text(encoding="utf-8").startswith("WEBVTT")
        assert (built_site / "videos" / video["poster"]).is_file()
    # Only the files the entries name are published: not the script, not the template.
    published = {p.name for p in (built_site / "videos").iterdir()}
    assert published == {"index.html", f"{SHIPPED}.webm", f"{SHIPPED}.en.vtt", f"{SHIPPED}.png"}


def test_the_shipped_video_is_small_and_its_captions_and_transcript_agree():
    meta, transcript = front_matter(CATALOGUE / f"{SHIPPED}.md")
    video = CATALOGUE / meta["video"]
    data = video.read_bytes()
    assert data[:4] == b"\x1a\x45\xdf\xa3" and b"webm" in data[:64]  # a WebM (Matroska) file
    assert len(data) < 1.5 * 1024 * 1024
    spoken = cues(CATALOGUE / meta["captions"])
    assert len(spoken) >= 10
    minutes, seconds = map(int, str(meta["duration"]).split(":"))
    assert 30 <= spoken[-1][1] <= minutes * 60 + seconds + 1
    assert all(end > start for start, end, _ in spoken)
    assert all(a[1] <= b[0] for a, b in zip(spoken, spoken[1:])), "captions overlap"
    for _, _, text in spoken:
        assert words(text) in words(transcript), text


def test_everything_on_a_slide_is_also_said():
    """So the slideshow needs no separate audio description (WCAG 1.2.5): the words on each
    slide of the shipped video (videos/make_slideshow.py) are in that slide's narration."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_slideshow", CATALOGUE / "make_slideshow.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    def plain(text):
        return re.sub(r"[^a-z0-9% ]+", "", text.lower())

    for heading, line, sentences in script.SLIDES:
        said = plain(" ".join(s[0] if isinstance(s, tuple) else s for s in sentences))
        assert plain(heading) in said and plain(line) in said, heading


# ---------------------------------------------------------------- Broken entries stop the build

def catalogue_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "videos"
    shutil.copytree(CATALOGUE, folder)
    return folder


def change_entry(folder: Path, change) -> None:
    entry = folder / f"{SHIPPED}.md"
    entry.write_text(change(entry.read_text(encoding="utf-8")), encoding="utf-8")


BROKEN = {
    "no title": (lambda f: change_entry(f, lambda t: re.sub(r"^title: .*\n", "", t, flags=re.M)),
                 "the video has no title"),
    "no transcript": (lambda f: change_entry(f, lambda t: t[: t.index("---", 4) + 4]),
                      "the video has no transcript"),
    "no captions": (lambda f: change_entry(f, lambda t: re.sub(r"^captions: .*\n", "", t, flags=re.M)),
                    "the video has no captions file"),
    "captions file missing": (lambda f: (f / f"{SHIPPED}.en.vtt").unlink(),
                              f"the file '{SHIPPED}.en.vtt' is not in the videos folder"),
    "video file missing": (lambda f: (f / f"{SHIPPED}.webm").rename(f / f"{SHIPPED}-old.webm"),
                           f"the file '{SHIPPED}.webm' is not in the videos folder. Did you mean '{SHIPPED}-old.webm'?"),
    "captions not WebVTT": (lambda f: (f / f"{SHIPPED}.en.vtt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHi\n"),
                            "is not a WebVTT captions file"),
    "misspelt setting": (lambda f: change_entry(f, lambda t: t.replace("captions:", "captoins:")),
                         "'captoins' is not a setting we know. Did you mean 'captions'?"),
    "a video from another website": (
        lambda f: change_entry(f, lambda t: t.replace(f"video: {SHIPPED}.webm", "video: https://cdn.example.com/v.mp4")),
        "is a web address. We never load files from other websites"),
}


@pytest.mark.parametrize("problem", BROKEN)
def test_a_broken_entry_stops_the_build_and_names_the_file(tmp_path, problem, site_build):
    folder = catalogue_copy(tmp_path)
    breakage, message = BROKEN[problem]
    breakage(folder)
    result = site_build(tmp_path / "out", VIDEOS_DIR=str(folder))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"videos/{SHIPPED}.md: " in output
    assert message in output
    assert not (tmp_path / "out" / "videos" / "index.html").exists()


def test_every_problem_is_reported_at_once(tmp_path, site_build):
    folder = catalogue_copy(tmp_path)
    change_entry(folder, lambda t: re.sub(r"^title: .*\n", "", t, flags=re.M))
    other = folder / "second.md"
    other.write_text("---\ntitle: Second\nsummary: Two.\nduration: \"0:30\"\nvideo: second.webm\n---\n")
    result = site_build(tmp_path / "out", VIDEOS_DIR=str(folder))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"videos/{SHIPPED}.md: the video has no title" in output
    assert "videos/second.md: the video has no transcript" in output  # example-path: written above
    assert "videos/second.md: the video has no captions file" in output  # example-path
    assert "videos/second.md: video: the file 'second.webm' is not in the videos folder" in output  # example-path


def test_files_that_are_not_entries_are_left_alone(tmp_path, site_build):
    folder = catalogue_copy(tmp_path)
    (folder / "_draft.md").write_text("---\ntitle: Not ready\n---\n")
    result = site_build(tmp_path / "out", VIDEOS_DIR=str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Not ready" not in (tmp_path / "out" / "videos" / "index.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- A video kept by a provider

@pytest.fixture(scope="session")
def provider_catalogue(tmp_path_factory) -> Path:
    """The shipped video plus a YouTube entry with a made-up id (tests/fixtures/videos)."""
    folder = tmp_path_factory.mktemp("catalogue")
    for path in CATALOGUE.glob(f"{SHIPPED}.*"):
        shutil.copy(path, folder)
    for path in FIXTURES.iterdir():
        shutil.copy(path, folder)
    # The Videos page's introduction in each other language (the build stops without it).
    for language in CATALOGUE.iterdir():
        if language.is_dir():
            shutil.copytree(language, folder / language.name)
    return folder


@pytest.fixture(scope="session")
def provider_site(tmp_path_factory, provider_catalogue, neutral_site) -> Path:
    dest = tmp_path_factory.mktemp("provider-site")
    result = build_site(dest, VIDEOS_DIR=str(provider_catalogue), EXIT_URL=neutral_site.url)
    assert result.returncode == 0, result.stdout + result.stderr
    return dest


@pytest.fixture(scope="session")
def provider_server(provider_site):
    with ServerThread(StaticSite(provider_site)) as server:
        yield server


def test_a_provider_video_is_a_still_and_a_link_in_the_html(provider_site):
    page = soup(provider_site / "videos" / "index.html")
    assert page.find("iframe") is None
    start = page.select_one("a[data-embed-src]")
    assert start["href"] == "https://www.youtube.com/watch?v=abcdEFGH123"
    assert start["data-embed-src"].startswith(PROVIDER_ORIGIN + "/embed/abcdEFGH123?")
    still = start.find("img")
    assert not urlsplit(still["src"]).scheme and (provider_site / "videos" / still["src"]).is_file()
    notice = page.find(id=start["aria-describedby"]).get_text(" ", strip=True)
    assert "Nothing is sent to YouTube until you press the button" in notice
    assert "youtube-nocookie.com" in notice
    assert "A test video on YouTube" in start.get_text(" ", strip=True)
    transcript = page.find(id="example-on-youtube-transcript").find_next("p").get_text()
    assert "Every word is written here." in transcript


def policies(header: str) -> list[dict[str, list[str]]]:
    """The policies in a Content-Security-Policy value (comma-separated, all enforced)."""
    return [{d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
            for policy in header.split(",") if policy.strip()]


def frames_allowed(all_policies, origin: str) -> bool:
    for policy in all_policies:
        sources = policy.get("frame-src") or policy.get("child-src") or policy.get("default-src")
        if sources is not None and origin not in sources and "*" not in sources:
            return False
    return True


def served_policies(site: Path, address: str) -> list[dict[str, list[str]]]:
    """Every policy a browser enforces at an address: the headers, and a <meta> in the page served."""
    header = headers_for(address, header_rules(site, ROOT / "netlify.toml")).get("Content-Security-Policy", "")
    found = policies(header)
    parts = address.rstrip("/").split("/")
    file = site.joinpath(*parts[1:], "index.html") if address.endswith("/") else site.joinpath(*parts[1:])
    html = soup(file if file.is_file() else site / "404.html")
    for meta in html.find_all("meta", attrs={"http-equiv": re.compile("content-security-policy", re.I)}):
        found += policies(meta["content"])
    return found


def addresses(site: Path) -> list[str]:
    found = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site).as_posix()
        found.append("/" + rel[: -len("index.html")] if rel.endswith("index.html") else "/" + rel)
    return found + ["/no-such-page/", "/videos/no-such-video/"]


def test_the_provider_frame_is_allowed_on_the_videos_page_only(provider_site):
    videos_pages = {"/videos/", "/cy/videos/"}  # the same videos in each language
    for address in addresses(provider_site):
        enforced = served_policies(provider_site, address)
        assert enforced, address
        assert frames_allowed(enforced, PROVIDER_ORIGIN) == (address in videos_pages), address
        for policy in enforced:
            assert "'unsafe-inline'" not in policy.get("script-src", [])
    # The Videos page's own policy is the site's policy plus that one frame origin.
    rules = header_rules(provider_site, ROOT / "netlify.toml")
    [site_policy] = [p for p in policies(headers_for("/how-it-works/", rules)["Content-Security-Policy"])
                     if "frame-src" not in p]
    for policy in [p for page in sorted(videos_pages)
                   for p in policies(headers_for(page, rules)["Content-Security-Policy"])]:
        assert policy["frame-src"] == ["'self'", PROVIDER_ORIGIN]
        assert {k: v for k, v in policy.items() if k != "frame-src"} == site_policy


def test_without_a_provider_video_the_policy_is_one_rule_for_everything(built_site):
    rules = [(pattern, values) for pattern, values in header_rules(built_site, ROOT / "x")]
    assert [pattern for pattern, _ in rules] == ["/*"]
    assert "frame-src" not in rules[0][1]["Content-Security-Policy"]


# ---------------------------------------------------------------- In a real Chromium

def watch_requests(page: Page, origin: str):
    foreign, errors = [], []
    page.on("request", lambda r: None if r.url.startswith(origin) or r.url.startswith("data:") else foreign.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return foreign, errors


FAKE_PLAYER = ("<!doctype html><html lang='en'><title>Player</title>"
               "<p>The provider's player would be here.</p></html>")


@pytest.mark.browser
def test_nothing_is_requested_from_the_provider_until_the_reader_presses_play(page: Page, provider_server):
    foreign, errors = watch_requests(page, provider_server.url)
    embeds = []
    page.route(PROVIDER_ORIGIN + "/**", lambda route: (embeds.append(route.request.url),
                                                        route.fulfill(body=FAKE_PLAYER, content_type="text/html")))
    traffic = Traffic(page)  # not "networkidle": the page's own <video preload="metadata"> keeps a request open
    page.goto(provider_server.url + "/videos/")
    traffic.settle()
    start = page.locator("button.video-embed__start")
    start.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    assert foreign == [] and embeds == []
    # With JavaScript the link became a real button, described by the notice.
    expect(start).to_have_accessible_name(re.compile("Play on YouTube: A test video on YouTube"))
    expect(start).to_have_accessible_description(re.compile("Nothing is sent to YouTube until you press"))

    start.focus()
    # The frame's request, waited for: "networkidle" is the page's own state, reached before the frame asked.
    with page.expect_request(lambda request: request.url.startswith(PROVIDER_ORIGIN + "/")):
        page.keyboard.press("Enter")
    frame = page.locator("iframe.video-embed__frame")
    expect(frame).to_be_visible()
    traffic.settle()
    assert embeds and all(url.startswith(PROVIDER_ORIGIN + "/embed/abcdEFGH123?") for url in embeds)
    assert all(urlsplit(url).hostname == "www.youtube-nocookie.com" for url in foreign)
    expect(frame).to_have_attribute("title", re.compile("A test video on YouTube"))
    assert page.frame_locator("iframe.video-embed__frame").locator("p").inner_text().startswith("The provider")
    assert page.evaluate("document.activeElement.tagName") == "IFRAME"
    assert errors == []


@pytest.mark.browser
@pytest.mark.parametrize("address", ["/how-it-works/", "/no-such-page/"])
def test_other_pages_refuse_the_providers_frame(page: Page, provider_server, address):
    embeds = []
    page.route(PROVIDER_ORIGIN + "/**", lambda route: (embeds.append(route.request.url),
                                                        route.fulfill(body=FAKE_PLAYER, content_type="text/html")))
    page.goto(provider_server.url + address)
    violated = page.evaluate("""(src) => new Promise(resolve => {
        document.addEventListener('securitypolicyviolation', e => resolve(e.effectiveDirective));
        const frame = document.createElement('iframe');
        frame.src = src;
        document.body.append(frame);
        setTimeout(() => resolve('allowed'), 3000);
    })""", PROVIDER_ORIGIN + "/embed/abcdEFGH123")
    assert violated == "frame-src"
    assert embeds == []


@pytest.mark.browser
def test_without_javascript_the_button_is_a_link_to_the_providers_page(browser, provider_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    visited = []
    page.route("https://www.youtube.com/**", lambda route: (visited.append(route.request.url),
                                                            route.fulfill(body=FAKE_PLAYER, content_type="text/html")))
    page.goto(provider_server.url + "/videos/")
    link = page.get_by_role("link", name=re.compile("Play on YouTube"))
    assert visited == []
    link.click()
    page.wait_for_url("https://www.youtube.com/watch?v=abcdEFGH123")
    assert visited == ["https://www.youtube.com/watch?v=abcdEFGH123"]
    context.close()


@pytest.mark.browser
def test_the_shipped_video_plays_with_its_captions_showing(page: Page, site_server):
    foreign, errors = watch_requests(page, site_server.url)
    page.goto(site_server.url + "/videos/")
    video = page.locator("article video").first
    video.scroll_into_view_if_needed()
    page.wait_for_function("""() => {
        const track = document.querySelector('article video').textTracks[0];
        return track && track.mode === 'showing' && track.cues && track.cues.length > 0;
    }""", timeout=10000)
    first_cue = page.evaluate("document.querySelector('article video').textTracks[0].cues[0].text")
    assert first_cue == cues(CATALOGUE / f"{SHIPPED}.en.vtt")[0][2]
    # A reader's click on the player starts it (autoplay is off for the whole site).
    video.click()
    page.wait_for_function("() => { const v = document.querySelector('article video');"
                           " return !v.paused && v.currentTime > 1; }", timeout=15000)
    assert page.evaluate("document.querySelector('article video').error") is None
    assert page.evaluate("document.querySelector('article video').videoWidth") > 0
    assert page.evaluate("document.querySelector('article video').textTracks[0].activeCues.length") >= 0
    assert foreign == []
    assert errors == []


@pytest.mark.browser
def test_axe_finds_nothing_on_the_videos_page_with_a_providers_video(page: Page, provider_server):
    # The shipped catalogue's page is in the walk over every page (tests/test_accessibility.py).
    page.goto(provider_server.url + "/videos/")
    assert axe_violations(page) == ""
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(provider_server.url + "/videos/")
    assert axe_violations(page) == ""
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
