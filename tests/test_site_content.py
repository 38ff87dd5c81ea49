"""The built site: every page there, readable, with the facts, the exit and nothing loaded from elsewhere."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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


def nav_files(nav) -> list[str]:
    files = []
    for item in nav:
        for value in item.values():
            files.extend(nav_files(value) if isinstance(value, list) else [value])
    return files


def built_page(site: Path, md_file: str) -> Path:
    stem = md_file[: -len(".md")]
    return site / ("index.html" if stem == "index" else f"{stem}/index.html")


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
    for site in ["askthe.police.uk", "refuge.org.uk", "womensaid.org.uk", "ncsc.gov.uk"]:
        assert any(h and urlsplit(h).hostname and urlsplit(h).hostname.endswith(site) for h in hrefs), site


def test_footer_links_to_privacy_cookies_and_accessibility(built_site):
    for path in all_html(built_site):
        footer = soup(path).select_one("nav.site-footer-links")
        assert footer is not None, path
        url = "/" + path.relative_to(built_site).as_posix()
        hrefs = {urljoin(url, a["href"]) for a in footer.find_all("a")}
        assert {"/privacy/", "/cookies/", "/accessibility/"} <= hrefs, path


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
        assert "Exit this page" in button.get_text(" ", strip=True)
        # The first thing a keyboard reaches is the exit link.
        assert html.body.select_one(FOCUSABLE) is skip, path


def test_the_exit_destination_is_set_in_one_place_and_is_neutral():
    url = mkdocs_config()["extra"]["exit_url"]
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


def test_the_build_fails_when_someone_adds_an_external_asset(tmp_path):
    """The privacy plugin turns an external image into a warning; --strict makes it a failure."""
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "site_content", docs)
    index = docs / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\n![A chart](https://cdn.example.com/chart.png)\n",
                     encoding="utf-8")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("docs_dir: site_content", f"docs_dir: {docs}")
    config = config.replace("custom_dir: overrides", f"custom_dir: {ROOT / 'overrides'}")
    config = config.replace("- hooks/", f"- {ROOT}/hooks/")
    config = config.replace("\n  - videos\n", f"\n  - {ROOT / 'videos'}\n")  # watch: the video catalogue
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(tmp_path / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "out")],
        capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode != 0
    assert "cdn.example.com" in result.stdout + result.stderr
