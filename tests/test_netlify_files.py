"""Netlify's configuration and the files the build writes for it (hooks/netlify_files.py)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bs4 import BeautifulSoup

from conftest import build_site
from formsvc.localsite import header_rules

ROOT = Path(__file__).resolve().parent.parent
NETLIFY = tomllib.loads((ROOT / "netlify.toml").read_text(encoding="utf-8"))


def netlify_hooks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("netlify_files", ROOT / "hooks" / "netlify_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def csp_of(site: Path) -> dict[str, list[str]]:
    policy = [value for _, values in header_rules(site, ROOT / "netlify.toml")
              for name, value in values.items() if name == "Content-Security-Policy"]
    assert len(policy) == 1, policy
    return {d.split()[0]: d.split()[1:] for d in policy[0].split(";") if d.strip()}


def test_build_settings():
    assert NETLIFY["build"]["command"] == "mkdocs build --strict"
    assert NETLIFY["build"]["publish"] == "site"
    assert NETLIFY["build"]["environment"]["PYTHON_VERSION"] == "3.11"
    not_found = [r for r in NETLIFY["redirects"] if r["status"] == 404]
    assert not_found and not_found[0]["to"] == "/404.html"


def test_static_security_headers_cover_every_file():
    everything = [rule["values"] for rule in NETLIFY["headers"] if rule["for"] == "/*"][0]
    assert everything["Strict-Transport-Security"].startswith("max-age=")
    assert int(re.search(r"max-age=(\d+)", everything["Strict-Transport-Security"]).group(1)) >= 31536000
    assert everything["X-Content-Type-Options"] == "nosniff"
    assert everything["Referrer-Policy"] == "same-origin"
    for feature in ["camera=()", "microphone=()", "geolocation=()"]:
        assert feature in everything["Permissions-Policy"]


def test_csp_hashes_every_inline_script_and_nothing_else(built_site):
    hooks = netlify_hooks()
    csp = csp_of(built_site)
    needed = set()
    for page in built_site.rglob("*.html"):
        html = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for script in html.find_all("script", src=False):
            if script.get("type", "text/javascript") in {"text/javascript", "module"}:
                needed.add(hooks.script_hash(script.string or ""))
    assert needed, "Material's inline scripts were expected"
    script_src = csp["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert set(s for s in script_src if s.startswith("'sha256-")) == needed
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["style-src"] == ["'self'"]


def test_no_header_is_set_in_both_netlify_toml_and_headers_file(built_site):
    from_toml = {name for rule in NETLIFY["headers"] for name in rule["values"]}
    from_file = {name for pattern, values in header_rules(built_site, ROOT / "missing.toml") for name in values}
    assert from_file == {"Content-Security-Policy"}
    assert not from_toml & from_file


def test_form_is_proxied_to_the_service_named_by_the_deploy(tmp_path):
    result = build_site(tmp_path / "out", FORMSVC_ORIGIN="https://forms.example.org/")
    assert result.returncode == 0, result.stderr
    rules = [line.split() for line in (tmp_path / "out" / "_redirects").read_text().splitlines()
             if line and not line.startswith("#")]
    assert rules == [["/enquiry/*", "https://forms.example.org/enquiry/:splat", "200!",
                      "Sign=FORMSVC_NETLIFY_SIGNING_SECRET"]]


def test_a_netlify_build_without_the_service_address_fails_clearly(tmp_path):
    env = {"NETLIFY": "true", "FORMSVC_ORIGIN": ""}
    result = build_site(tmp_path / "out", **env)
    assert result.returncode != 0
    assert "FORMSVC_ORIGIN is not set" in result.stdout + result.stderr


def test_a_netlify_build_without_the_signing_secret_fails_clearly(tmp_path):
    env = {"NETLIFY": "true", "FORMSVC_ORIGIN": "https://forms.example.org", "FORMSVC_NETLIFY_SIGNING_SECRET": ""}
    result = build_site(tmp_path / "out", **env)
    assert result.returncode != 0
    assert "FORMSVC_NETLIFY_SIGNING_SECRET is not set" in result.stdout + result.stderr


def test_the_signing_secret_itself_is_never_written(tmp_path):
    secret = "do-not-publish-" + "z" * 40
    env = {"NETLIFY": "true", "FORMSVC_ORIGIN": "https://forms.example.org", "FORMSVC_NETLIFY_SIGNING_SECRET": secret}
    result = build_site(tmp_path / "out", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Sign=FORMSVC_NETLIFY_SIGNING_SECRET" in (tmp_path / "out" / "_redirects").read_text()
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_a_local_build_writes_no_proxy_rule(built_site):
    assert not (built_site / "_redirects").exists()
