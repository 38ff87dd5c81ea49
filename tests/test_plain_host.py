"""On a plain static host that sends no headers (a deploy preview, a mirror, a later host),
every promise the headers make that HTML can make too still holds, because each page
makes it itself (<meta http-equiv="Content-Security-Policy">, <meta name="referrer">).

What only a header can do, and so is not promised there: frame-ancestors (a <meta> policy
may not carry it), HSTS, nosniff, Permissions-Policy, X-Robots-Tag (the form's frame file
has a robots <meta> instead). Tested with Python's own file server: no headers of ours at all.
"""
from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page

from testsupport.browser import Traffic
from testsupport.net import free_port
from testsupport.site import site_frames, site_pages

pytestmark = pytest.mark.browser


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def plain_host(built_site):
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), functools.partial(Quiet, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_the_host_really_sends_no_policy(page: Page, plain_host):
    response = page.goto(plain_host + "/")
    assert "content-security-policy" not in response.headers and "referrer-policy" not in response.headers


def test_every_page_enforces_its_own_policy_with_no_violations(page: Page, built_site, plain_host):
    traffic = Traffic(page)
    errors, problems = [], []
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    for path in site_pages(built_site) + site_frames(built_site, "404.html"):
        page.goto(plain_host + path)
        traffic.settle()
        problems += errors  # what the page itself did: nothing may break its policy
        errors.clear()
        # An inline script added now is refused, and so is a picture from elsewhere.
        refused = page.evaluate("""() => new Promise(done => {
            const seen = [];
            const finish = () => done({ran: window.__injected === true, seen});
            // Both refusals reported: done at once; otherwise the timeout reports what was seen.
            document.addEventListener('securitypolicyviolation', e => {
                seen.push(e.violatedDirective);
                if (seen.includes('script-src-elem') && seen.includes('img-src')) setTimeout(finish, 0);
            });
            const script = document.createElement('script');
            script.textContent = 'window.__injected = true';
            document.head.append(script);
            const img = new Image();
            img.src = 'http://localhost:9/pixel.png';
            setTimeout(finish, 2000);
        })""")
        assert refused["ran"] is False, path
        assert {"script-src-elem", "img-src"} <= set(refused["seen"]), (path, refused)
        errors.clear()  # the refusals just provoked
    assert problems == []


def test_leaving_tells_the_neutral_site_nothing(page: Page, plain_host, neutral_site):
    page.goto(plain_host + "/how-it-works/")
    neutral_site.requests.clear()
    for _ in range(3):
        page.keyboard.press("Shift")  # the script's location.replace(): only the referrer policy decides
    page.wait_for_url(neutral_site.url)
    [visit] = [r for r in neutral_site.requests if r["path"] == "/weather"]
    assert "referer" not in {k.lower() for k in visit["headers"]}
