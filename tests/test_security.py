"""Response headers on every response, and the session cookie only on the form's pages."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from formsvc import security
from testsupport.answers import valid_answers
from testsupport.forms import FormBrowser

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
DENIED_FEATURES = {"camera", "microphone", "geolocation", "payment", "browsing-topics", "usb"}


def directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


def assert_security_headers(response, *, form_page: bool):
    headers = response.headers
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, name
    csp = directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'" and "'unsafe-inline'" not in csp["script-src"]
    # Inline styles only by hash (Zensical's search adds one <style>, hashed by the site's build).
    assert csp["style-src"][0] == "'self'" and all(s.startswith("'sha256-") for s in csp["style-src"][1:])
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    for directive in ("font-src", "connect-src", "worker-src"):
        assert csp[directive] == ["'self'"], directive
    permissions = dict(p.strip().split("=", 1) for p in headers["Permissions-Policy"].split(","))
    for feature in DENIED_FEATURES:
        assert permissions[feature] == "()", feature
    if form_page:
        assert headers["Cache-Control"] == "no-store"


def sends(make_form_app):
    """(label, response, is a form page) for every kind of response the service gives."""
    app = make_form_app(RATELIMIT_POST="1 per minute", PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    client = app.test_client()
    browser = FormBrowser(client)
    out = []
    out.append(("form", browser.get(), True))
    out.append(("invalid", browser.submit(**valid_answers(message="")), True))
    out.append(("sent 303", browser.submit(**valid_answers()), True))
    out.append(("confirmation", browser.follow(), True))
    out.append(("rate limited 429", browser.send(**valid_answers()), True))
    browser.get()
    out.append(("csrf 400", browser.submit(drop=("csrf_token",)), True))
    out.append(("too large 413", client.post("/enquiry/", data={"message": "x" * 100_000}), True))
    out.append(("exit GET", client.get("/enquiry/exit"), True))
    out.append(("exit POST", client.post("/enquiry/exit"), True))
    out.append(("not found 404", client.get("/nothing-here"), False))
    out.append(("not found under /enquiry/ 404", client.get("/enquiry/nothing-here"), True))
    out.append(("method 405", client.put("/enquiry/"), True))
    out.append(("method 405 on sent", client.delete("/enquiry/sent"), True))
    out.append(("slash redirect", client.get("/enquiry"), False))
    out.append(("health", client.get("/healthz"), False))
    out.append(("server error 500", client.get("/boom"), False))
    with client.get("/enquiry/static/enquiry.css") as static:
        out.append(("static", static, False))
    return out


def test_headers_on_every_response(make_form_app):
    seen = {}
    for label, response, form_page in sends(make_form_app):
        seen[label] = response.status_code
        assert_security_headers(response, form_page=form_page)
    assert seen == {
        "form": 200, "invalid": 200, "sent 303": 303, "confirmation": 200, "rate limited 429": 429,
        "csrf 400": 400, "too large 413": 413, "exit GET": 303, "exit POST": 303,
        "not found 404": 404, "not found under /enquiry/ 404": 404, "method 405": 405,
        "method 405 on sent": 405, "slash redirect": 308, "health": 200, "server error 500": 500,
        "static": 200,
    }


def test_error_pages_are_friendly(make_form_app):
    for label, response, _ in sends(make_form_app):
        if response.status_code in (404, 405, 500):
            body = response.get_data(as_text=True)
            assert '<html lang="en-GB">' in body and "<h1" in body, label
            assert "Exit this page" in body
            assert "Traceback" not in body and "RuntimeError" not in body
    app = make_form_app()
    response = app.test_client().put("/enquiry/")
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_static_files_are_not_no_store(form_app):
    with form_app.test_client().get("/enquiry/static/enquiry.js") as response:
        assert response.headers.get("Cache-Control") != "no-store"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize("path, to", [
    ("/enquiry", "/enquiry/"), ("/enquiry?x=1&y=%2F%2Fevil.example", "/enquiry/?x=1&y=%2F%2Fevil.example"),
    ("/enquiry/static//enquiry.css", "/enquiry/static/enquiry.css"), ("/enquiry/static//x", "/enquiry/static/x"),
    ("/enquiry//sent", "/enquiry/sent"),
])
def test_redirects_never_name_the_host_the_request_gave_and_are_not_stored(form_app, method, path, to):
    for host in ["evil.example", "evil.example:8443", "[::1]", "evil.example/x"]:
        response = form_app.test_client().open(path, method=method, headers={"Host": host})
        if response.status_code == 405:  # POST to a static file or the confirmation page
            assert method == "POST" and "Location" not in response.headers
            continue
        assert (response.status_code, response.headers["Location"]) == (308, to)
        assert response.headers["Cache-Control"] == "no-store"
        assert_security_headers(response, form_page=True)


@pytest.mark.parametrize("host", [".", "a..b", "x" * 64 + ".example", ".:8080"])
def test_a_host_the_router_cannot_read_gets_the_400_page_not_a_500(make_form_app, host):
    # Found by tests/test_fuzz.py: Werkzeug's router refuses such a Host (BadHost), leaving no URL
    # adapter, and the 400 page's own links then failed to build.
    app = make_form_app(PROPAGATE_EXCEPTIONS=False)
    for path in ("/enquiry/", "/enquiry", "/enquiry/sent", "/healthz"):
        response = app.test_client().get(path, headers={"Host": host})
        assert response.status_code == 400, (path, response.status_code)
        assert "Exit this page" in response.get_data(as_text=True)
        assert "Location" not in response.headers
        assert_security_headers(response, form_page=path.startswith("/enquiry/"))


def test_session_cookie_only_on_form_pages(make_form_app):
    app = make_form_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/touches-session")
    def touches_session():
        from flask import session
        from flask_wtf.csrf import generate_csrf

        session["x"] = 1
        return generate_csrf()

    client = app.test_client()
    for path in ("/healthz", "/nothing-here", "/touches-session", "/enquiry"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path
    with client.get("/enquiry/static/enquiry.css") as response:
        assert "Set-Cookie" not in response.headers

    cookie = client.get("/enquiry/").headers["Set-Cookie"]
    name = app.config["SESSION_COOKIE_NAME"]
    assert cookie.startswith(f"{name}=")
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite"} <= attributes
    assert "Path=/enquiry/" in cookie and "SameSite=Lax" in cookie
    assert "expires" not in attributes and "max-age" not in attributes  # ends with the browser session


def test_production_cookie_is_secure(make_form_app):
    app = make_form_app(TESTING=False, ENV="production", SECRET_KEY="x" * 32, HUB_ENCRYPTION="none")
    cookie = app.test_client().get("/enquiry/", base_url="https://localhost").headers["Set-Cookie"]
    assert "Secure" in cookie


def test_shell_script_and_style_hashes_go_in_script_src_and_style_src(make_form_app):
    good = "sha256-" + "A" * 43 + "="
    style = "sha256-" + "B" * 43 + "="
    # Malformed ones first: each is skipped, and the good ones after it still count.
    app = make_form_app(SHELL_SCRIPT_HASHES=["nonsense", "sha256-abc'; script-src *", good, f"'{good}'"],
                        SHELL_STYLE_HASHES=["style-src *", style])
    csp = directives(app.test_client().get("/healthz").headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'", f"'{good}'"]
    assert csp["style-src"] == ["'self'", f"'{style}'"]


@pytest.mark.parametrize("path, private", [
    ("/enquiry/", True), ("/enquiry/sent", True), ("/enquiry/exit", True),
    ("/enquiry/static/enquiry.css", False), ("/healthz", False), ("/enquiry", False),
])
def test_form_pages(path, private):
    assert security.is_form_page(path) is private


# ---------------------------------------------------------------- the same as the site's


def test_headers_match_netlify_toml():
    netlify = tomllib.loads((ROOT / "netlify.toml").read_text(encoding="utf-8"))
    [site] = [rule["values"] for rule in netlify["headers"] if rule["for"] == "/*"]
    assert security.STATIC_HEADERS == site


def test_csp_is_the_one_the_site_writes(tmp_path):
    from sitebuild import netlify

    hashes = ["'sha256-" + "B" * 43 + "='"]
    for scripts in (hashes, []):
        netlify.write_headers(tmp_path, scripts, [], {}, ["index.html"])
        written = (tmp_path / "_headers").read_text().split("Content-Security-Policy: ")[1].strip()
        assert security.content_security_policy(scripts) == written


@pytest.fixture
def default_limits_cleared():
    """Flask-Limiter's one Limiter keeps RATELIMIT_DEFAULT from the first app that set it."""
    from formsvc.extensions import limiter

    yield
    limiter.limit_manager.set_default_limits([])


def test_default_limits_never_stop_reading_or_leaving(make_form_app, default_limits_cleared):
    app = make_form_app(RATELIMIT_DEFAULT="1 per minute", RATELIMIT_POST="100 per minute")
    browser = FormBrowser(app.test_client())
    for _ in range(3):
        assert browser.get().status_code == 200
        assert browser.client.get("/enquiry/exit").status_code == 303
        assert browser.client.post("/enquiry/exit").status_code == 303
    browser.get()
    assert browser.submit(**valid_answers()).status_code == 303
    for _ in range(3):
        assert browser.client.get("/enquiry/sent").status_code == 200


# ---------------------------------------------------------------- every route, every method, every error page

ERROR_ROUTES = {
    # A test-only route per error the app-wide handler can meet (the form's own 400,
    # 413, 429 and 503 pages are requested for real below).
    "/_test/400": 400, "/_test/403": 403, "/_test/404": 404, "/_test/405": 405, "/_test/413": 413,
    "/_test/429": 429, "/_test/500": 500, "/_test/503": 503,
}


def request_path(rule) -> str:
    """A concrete address for a URL rule; a rule this does not know fails the test (so it gets covered)."""
    if not rule.arguments:
        return rule.rule
    if rule.endpoint.endswith("static") and rule.arguments == {"filename"}:
        return rule.rule.replace("<path:filename>", "enquiry.css")
    raise AssertionError(f"add an example address for {rule.rule} to request_path()")


def assert_no_unhashed_inline_script(response):
    """CSP without 'unsafe-inline': any inline script must be hashed in script-src; no inline handlers."""
    if not response.mimetype == "text/html":
        return
    from bs4 import BeautifulSoup

    from sitebuild import page_facts

    allowed = set(directives(response.headers["Content-Security-Policy"])["script-src"])
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    for text in page_facts.read(str(page)).scripts:
        assert page_facts.source_hash(text) in allowed, text[:80]
    for tag in page.find_all(True):
        handlers = [name for name in tag.attrs if name.lower().startswith("on")]
        assert not handlers, (tag.name, handlers)
        for name in ("href", "src", "action"):
            assert not str(tag.get(name, "")).lower().startswith("javascript:"), tag


def every_response(app):
    """(label, response) for every rule in app.url_map with each of its methods, then every error page."""
    from flask import abort

    for path, code in ERROR_ROUTES.items():
        app.add_url_rule(path, path, (lambda code=code: abort(code)) if code != 500 else (lambda: 1 / 0))
    client = app.test_client()
    browser = FormBrowser(client)
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule in ERROR_ROUTES:
            continue
        path = request_path(rule)
        for method in sorted(rule.methods):
            data = None
            if method == "POST" and rule.endpoint == "enquiry.submit":
                browser.get()
                data = {**browser.values(), **valid_answers()}
            response = client.open(path, method=method, data=data)
            out.append((f"{method} {path}", response))
    for path in ERROR_ROUTES:
        out.append((f"GET {path}", client.get(path)))
    out.append(("GET /nothing-here", client.get("/nothing-here")))
    return out


def test_every_route_and_error_page_sends_the_strict_headers(make_form_app, built_site):
    # The real shell (with its inline scripts, hashed) and the plain fallback layout.
    for site in (str(built_site), None):
        settings = {"PROPAGATE_EXCEPTIONS": False, "RATELIMIT_POST": "100 per minute"}
        app = make_form_app(**settings, **({"SITE_DIR": site} if site else {}))
        seen = {}
        for label, response in every_response(app):
            seen[label] = response.status_code
            assert_security_headers(response, form_page=security.is_form_page(label.split(" ", 1)[1]))
            assert_no_unhashed_inline_script(response)
            assert "Set-Cookie" not in response.headers or label.split(" ", 1)[1].startswith("/enquiry/")
            response.close()  # static files are streamed from an open file
        for path, code in ERROR_ROUTES.items():
            assert seen[f"GET {path}"] == code, path
        assert seen["POST /enquiry/"] == 303 and seen["GET /enquiry/"] == 200 and seen["GET /healthz"] == 200
        assert not any(label.startswith(("GET /static/", "HEAD /static/")) for label in seen)  # no stray routes


def test_the_forms_own_error_pages_send_the_strict_headers(make_form_app, built_site):
    """400 (CSRF), 413, 429 and 503 as the form really produces them, in the real shell."""
    from formsvc.outbox import get_outbox

    app = make_form_app(SITE_DIR=str(built_site), RATELIMIT_POST="1 per minute")
    browser = FormBrowser(app.test_client())
    responses = {}
    browser.get()
    responses[400] = browser.submit(drop=("csrf_token",))
    browser.get()
    responses[413] = browser.client.post("/enquiry/", data={**browser.values(), "message": "x" * 70_000})
    get_outbox(app).path.mkdir(parents=True)  # the outbox cannot be opened
    browser.get()
    responses[503] = browser.submit(**valid_answers())
    browser.get()
    responses[429] = browser.submit(**valid_answers())
    health = browser.client.get("/healthz")
    assert {code: r.status_code for code, r in responses.items()} == {400: 400, 413: 413, 503: 503, 429: 429}
    assert health.status_code == 503
    for response in [*responses.values(), health]:
        assert_security_headers(response, form_page=response is not health)
        assert_no_unhashed_inline_script(response)
    assert responses[503].headers["Retry-After"] and responses[429].headers["Retry-After"]


def test_the_refusal_of_requests_that_bypass_netlify_sends_the_strict_headers(make_form_app):
    app = make_form_app(NETLIFY_SIGNING_SECRET="n" * 64)
    for method in ("GET", "POST", "HEAD", "OPTIONS"):
        response = app.test_client().open("/enquiry/", method=method)
        assert response.status_code == 403
        assert_security_headers(response, form_page=True)
        assert_no_unhashed_inline_script(response)
