""""Edit this page" links: only where comms staff preview the site (`mkdocs serve`, tested with the
guide's preview command in tests/test_content_checks.py; Netlify's deploy previews, STAFF_PREVIEW=true;
`python -m sitebuild build --staff-preview`), only to a real REPO_URL, never on the public site."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from testsupport.site import BUILDERS

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def _built(site: Path, md: Path) -> BeautifulSoup:
    stem = md.relative_to(ROOT / "site_content").with_suffix("").as_posix()
    page = site / ("index.html" if stem == "index" else f"{stem}/index.html")
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def _no_edit_links(site: Path) -> None:
    for path in site.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "OWNER/REPO" not in text and 'rel="edit"' not in text, path
        # Material's script fetches stars and forks from GitHub's API for this element.
        assert BeautifulSoup(text, "html.parser").select("[data-md-component=source]") == [], path


def test_the_public_site_has_no_edit_links_and_nothing_asks_github_for_anything(built_site):
    _no_edit_links(built_site)


NETLIFY = {"NETLIFY": "true", "FORMSVC_ORIGIN": "https://forms.example.org",
           "FORMSVC_NETLIFY_SIGNING_SECRET": "s" * 40}
REPO_URL = "https://github.com/our-force/rj-site"


def test_the_live_site_has_no_edit_links_even_with_repo_url_set(tmp_path, site_build):
    result = site_build(tmp_path / "out", REPO_URL=REPO_URL, **NETLIFY)
    assert result.returncode == 0, result.stdout + result.stderr
    _no_edit_links(tmp_path / "out")


@pytest.mark.parametrize("which", BUILDERS)
def test_a_staff_preview_has_edit_links_to_repo_url(tmp_path, which, site_build):
    """Netlify's deploy previews (netlify.toml sets STAFF_PREVIEW there), with either builder."""
    result = site_build(tmp_path / "out", which, STAFF_PREVIEW="true", REPO_URL=REPO_URL, **NETLIFY)
    assert result.returncode == 0, result.stdout + result.stderr
    for md in sorted((ROOT / "site_content").glob("*.md")):
        edit = _built(tmp_path / "out", md).select_one("article a[rel=edit]")
        assert edit["href"] == f"{REPO_URL}/edit/main/site_content/{md.name}", md.name
        assert edit["title"] == "Edit this page"
    if which == "mkdocs":  # Zensical's opens the staged page (docs/site-pipeline.md)
        edit = BeautifulSoup((tmp_path / "out" / "videos" / "index.html").read_text(encoding="utf-8"),
                             "html.parser").select_one("article a[rel=edit]")
        assert edit["href"] == f"{REPO_URL}/edit/main/videos/index.md"


@pytest.mark.parametrize("repo_url", [None, "https://github.com/OWNER/REPO"], ids=["unset", "placeholder"])
def test_a_staff_preview_without_a_real_repo_url_has_no_edit_links(tmp_path, repo_url, run_python):
    environment = {k: v for k, v in ENV.items() if k != "REPO_URL"}
    result = run_python("-m", "sitebuild", "build", "--staff-preview", "--site-dir", str(tmp_path / "out"),
                        env={**environment, **NETLIFY, **({"REPO_URL": repo_url} if repo_url else {})}, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "This preview has no 'Edit this page' links: set REPO_URL" in result.stderr
    _no_edit_links(tmp_path / "out")


