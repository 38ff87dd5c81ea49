"""Netlify's configuration and the files the finishing step writes for it (sitebuild/netlify.py)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from contract import csp as policy
from localrun.localsite import header_rules
from sitebuild import BuildError, finish
from sitebuild.page_facts import injected_styles, source_hash

ROOT = Path(__file__).resolve().parent.parent
NETLIFY = tomllib.loads((ROOT / "netlify.toml").read_text(encoding="utf-8"))


def csp_of(site: Path) -> dict[str, list[str]]:
    policy = [value for _, values in header_rules(site, ROOT / "netlify.toml")
              for name, value in values.items() if name == "Content-Security-Policy"]
    assert len(policy) == 1, policy
    return {d.split()[0]: d.split()[1:] for d in policy[0].split(";") if d.strip()}


def test_build_settings():
    # The repository installed as a package first, so the build finds sitebuild/ and contract/ by name;
    # then the one entry that `make build` runs too.
    assert NETLIFY["build"]["command"] == "pip install --no-deps -e . && python -m sitebuild build"
    assert "$(PY) -m sitebuild build" in (ROOT / "Makefile").read_text(encoding="utf-8")
    # Edit links only where staff preview, never on the live site.
    assert NETLIFY["context"]["deploy-preview"]["environment"]["STAFF_PREVIEW"] == "true"
    assert "STAFF_PREVIEW" not in NETLIFY["build"].get("environment", {})
    assert NETLIFY["build"]["publish"] == "site"
    assert NETLIFY["build"]["environment"]["PYTHON_VERSION"] == "3.11"
    not_found = [r for r in NETLIFY["redirects"] if r["status"] == 404]
    # Last, after each language's own (/cy/* -> /cy/404.html; Netlify takes the first rule that matches).
    assert not_found and not_found[-1] == {"from": "/*", "to": "/404.html", "status": 404}
    assert {"from": "/cy/*", "to": "/cy/404.html", "status": 404} in not_found[:-1]


def test_static_security_headers_cover_every_file():
    everything = [rule["values"] for rule in NETLIFY["headers"] if rule["for"] == "/*"][0]
    assert everything["Strict-Transport-Security"].startswith("max-age=")
    assert int(re.search(r"max-age=(\d+)", everything["Strict-Transport-Security"]).group(1)) >= 31536000
    assert everything["X-Content-Type-Options"] == "nosniff"
    assert everything["Referrer-Policy"] == "same-origin"
    for feature in ["camera=()", "microphone=()", "geolocation=()"]:
        assert feature in everything["Permissions-Policy"]


def test_csp_hashes_every_inline_script_and_nothing_else(built_site):
    csp = csp_of(built_site)
    needed = set()
    for page in built_site.rglob("*.html"):
        html = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for script in html.find_all("script", src=False):
            if script.get("type", "text/javascript") in {"text/javascript", "module"}:
                needed.add(source_hash(script.string or ""))
    assert needed, "Material's inline scripts were expected"
    script_src = csp["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert set(s for s in script_src if s.startswith("'sha256-")) == needed
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    # 'self', plus the hash of a <style> a theme script adds (Zensical's search), nothing else.
    assert set(csp["style-src"]) == {"'self'"} | injected_styles(built_site)


def test_no_header_is_set_in_both_netlify_toml_and_headers_file(built_site):
    from_toml = {name for rule in NETLIFY["headers"] for name in rule["values"]}
    from_file = {name for pattern, values in header_rules(built_site, ROOT / "missing.toml") for name in values}
    assert from_file == {"Content-Security-Policy"}
    assert not from_toml & from_file


def test_form_is_proxied_to_the_service_named_by_the_deploy(tmp_path, site_build):
    result = site_build(tmp_path / "out", FORMSVC_ORIGIN="https://forms.example.org/")
    assert result.returncode == 0, result.stderr
    rules = [line.split() for line in (tmp_path / "out" / "_redirects").read_text().splitlines()
             if line and not line.startswith("#")]
    # The form in Welsh too, at /cy/enquiry/ (formsvc/i18n.py).
    assert rules == [["/enquiry/*", "https://forms.example.org/enquiry/:splat", "200!",
                      "Sign=FORMSVC_NETLIFY_SIGNING_SECRET"],
                     ["/cy/enquiry/*", "https://forms.example.org/cy/enquiry/:splat", "200!",
                      "Sign=FORMSVC_NETLIFY_SIGNING_SECRET"]]


def test_a_netlify_build_without_the_service_address_fails_clearly(tmp_path, site_build):
    env = {"NETLIFY": "true", "FORMSVC_ORIGIN": ""}
    result = site_build(tmp_path / "out", **env)
    assert result.returncode != 0
    assert "FORMSVC_ORIGIN is not set" in result.stdout + result.stderr


def test_a_netlify_build_without_the_signing_secret_fails_clearly(tmp_path, site_build):
    env = {"NETLIFY": "true", "FORMSVC_ORIGIN": "https://forms.example.org", "FORMSVC_NETLIFY_SIGNING_SECRET": ""}
    result = site_build(tmp_path / "out", **env)
    assert result.returncode != 0
    assert "FORMSVC_NETLIFY_SIGNING_SECRET is not set" in result.stdout + result.stderr


def test_the_signing_secret_itself_is_never_written(tmp_path, site_build):
    secret = "do-not-publish-" + "z" * 40
    env = {"NETLIFY": "true", "FORMSVC_ORIGIN": "https://forms.example.org", "FORMSVC_NETLIFY_SIGNING_SECRET": secret}
    result = site_build(tmp_path / "out", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sign=FORMSVC_NETLIFY_SIGNING_SECRET" in (tmp_path / "out" / "_redirects").read_text()
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_a_local_build_writes_no_proxy_rule(built_site):
    assert not (built_site / "_redirects").exists()


# ---------------------------------------------------------------- Several rules for one address
# localrun/localsite.py serves the tests' site with the headers Netlify would send, so it must
# combine rules as Netlify does; sitebuild/netlify.py relies on it for a page's own CSP.

def test_headers_for_combines_rules_as_netlify_does(tmp_path):
    from localrun.localsite import headers_for

    (tmp_path / "_headers").write_text(
        "/*\n  X-Both: from-headers-file\n  Content-Security-Policy: default-src 'self'\n"
        "/videos/\n  Content-Security-Policy: frame-src 'self'\n"
        "/news/:slug\n  X-One-Segment: yes\n"
        "/*\n  X-Later: later\n"
        "/twice\n  Link: </a.css>\n  Link: </b.css>\n", encoding="utf-8")
    (tmp_path / "netlify.toml").write_text(
        '[[headers]]\n  for = "/*"\n  [headers.values]\n    X-Both = "from-netlify-toml"\n', encoding="utf-8")
    rules = header_rules(tmp_path, tmp_path / "netlify.toml")

    everywhere = headers_for("/anything/at/all", rules)
    # The same path twice: merged, and netlify.toml's value beats _headers'.
    assert everywhere == {"X-Both": "from-netlify-toml", "Content-Security-Policy": "default-src 'self'",
                          "X-Later": "later"}
    # Different patterns matching one address: all apply; one header, values joined, i.e. two policies.
    assert headers_for("/videos/", rules)["Content-Security-Policy"] == "default-src 'self', frame-src 'self'"
    # :placeholder is one path segment; * is anything.
    assert headers_for("/news/today", rules)["X-One-Segment"] == "yes"
    assert "X-One-Segment" not in headers_for("/news/today/more", rules)
    # The same header twice under one path is one header with both values.
    assert headers_for("/twice", rules)["Link"] == "</a.css>, </b.css>"


def post_build(site: Path) -> str:
    """What the finishing step does for the policy: each page's <meta>, then _headers."""
    for page in site.rglob("*.html"):
        rel = page.relative_to(site).as_posix()
        page.write_text(finish.add_meta_policy(page.read_text(encoding="utf-8"), rel), encoding="utf-8")
    finish.write_headers(site)
    return (site / "_headers").read_text(encoding="utf-8")


def small_site(tmp_path: Path, videos_html: str) -> Path:
    site = tmp_path / "site"
    for rel, body in {"index.html": "<p>Home</p>", "how/index.html": "<p>How</p>",
                      "videos/index.html": videos_html, "404.html": "<p>Not found</p>"}.items():  # example-path
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(f"<!doctype html><html><head><meta charset='utf-8'><script>var a=1;</script>"
                                f"</head><body>{body}</body></html>", encoding="utf-8")
    return site


def test_a_page_with_a_player_from_another_site_gets_that_frame_origin_alone(tmp_path):
    from localrun.localsite import headers_for

    site = small_site(tmp_path, '<a href="https://www.youtube.com/watch?v=x" '
                                'data-embed-src="https://www.youtube-nocookie.com/embed/x?rel=0&amp;a=1">Play</a>')
    post_build(site)
    rules = header_rules(site, tmp_path / "missing.toml")
    frame = "frame-src 'self' https://www.youtube-nocookie.com"

    def enforced(address):  # the policies a browser enforces there, header and <meta>
        found = headers_for(address, rules)["Content-Security-Policy"].split(", ")
        folder = address.removesuffix("index.html")
        pages = {"/": "index.html", "/how/": "how/index.html", "/videos/": "videos/index.html"}  # example-path
        page = pages.get(folder, "404.html")
        meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', (site / page).read_text())
        return found + ([meta.group(1)] if meta else [])

    def frame_allowed(address):
        return all("youtube-nocookie" in (re.search(r"frame-src[^;]*", p) or re.search(r"default-src[^;]*", p)).group(0)
                   for p in enforced(address))

    assert frame_allowed("/videos/") and frame_allowed("/videos/index.html")
    for address in ["/", "/index.html", "/how/", "/how/index.html", "/404.html", "/no-such-page/"]:
        assert not frame_allowed(address), address
    # Every policy still carries the script hashes, and the page's own rule is exactly the site policy plus frame-src.
    strict = policy.policy({source_hash("var a=1;")})
    assert strict in headers_for("/how/", rules)["Content-Security-Policy"].split(", ")
    assert policy.policy({source_hash("var a=1;")}, {"https://www.youtube-nocookie.com"}) == (
        strict.replace("connect-src 'self'; ", f"connect-src 'self'; {frame}; "))


def test_a_player_address_must_be_https(tmp_path):
    site = small_site(tmp_path, '<a data-embed-src="http://player.example/embed/1">Play</a>')
    refused = "videos/index.html: a player may only be loaded from an https://"  # example-path: a built page
    with pytest.raises(BuildError, match=refused):
        post_build(site)


def test_without_players_the_headers_file_is_one_rule(tmp_path):
    text = post_build(small_site(tmp_path, "<p>No players</p>"))
    assert [line for line in text.splitlines() if not line.startswith((" ", "#"))] == ["/*"]
    assert "frame-src" not in text
    assert "frame-src" not in (tmp_path / "site" / "404.html").read_text()
