"""A browser for the enquiry form, as far as the form is concerned.

Both read the form page, keep its cookie and hidden tokens, and post them back:

- ``FormBrowser`` drives the app through Flask's test client and parses the pages
  (what they say: title, error summary, notice, reference);
- ``FormClient`` talks plain HTTP/1.1 to a real server (gunicorn in the fault tests
  and the benchmarks), cheaply enough for thousands of posts.
"""
from __future__ import annotations

import html
import http.client
import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .processes import netlify_signature


class FormBrowser:
    """Just enough of a browser for the enquiry form: one page at a time, cookies kept."""

    def __init__(self, client):
        self.client = client
        self.response = None
        self.page = None

    def _load(self, response):
        from bs4 import BeautifulSoup

        self.response = response
        self.page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        return response

    def get(self, path: str = "/enquiry/", **kwargs):
        return self._load(self.client.get(path, **kwargs))

    def form(self):
        """The enquiry form (the site's shell has a search form too)."""
        form = self.page.select_one("form.fs-form")
        assert form is not None, "no enquiry form on this page"
        return form

    def values(self) -> dict[str, str]:
        """What the page's form would send as it stands."""
        form = self.form()
        values: dict[str, str] = {}
        for field in form.find_all(["input", "textarea"]):
            name = field.get("name")
            if not name:
                continue
            if field.name == "textarea":
                values[name] = field.get_text()
            elif field.get("type") == "radio":
                if field.has_attr("checked"):
                    values[name] = field["value"]
                else:
                    values.setdefault(name, "")
            else:
                values[name] = field.get("value", "")
        return values

    def answers(self) -> dict[str, str]:
        """The person's answers as the page shows them (no tokens, no honeypot)."""
        return {k: v for k, v in self.values().items() if k not in {"csrf_token", "form_token", "website"}}

    def submit(self, drop: tuple[str, ...] = (), **changes):
        data = {**self.values(), **changes}
        for name in drop:
            data.pop(name, None)
        action = self.form().get("action") or "/enquiry/"
        return self._load(self.client.post(action, data=data))

    def follow(self):
        assert self.response.status_code in (301, 302, 303, 307, 308), self.response.status_code
        return self.get(self.response.headers["Location"])

    def send(self, **answers):
        """Open the form, fill it in with ``answers`` and send it."""
        self.get()
        return self.submit(**answers)

    # What the page says
    @property
    def title(self) -> str:
        return self.page.title.get_text()

    def error_links(self) -> list[tuple[str, str]]:
        summary = self.page.select_one(".fs-error-summary")
        if summary is None:
            return []
        return [(a["href"], a.get_text(strip=True)) for a in summary.select("a")]

    def notice(self) -> str:
        notice = self.page.select_one(".fs-notice")
        return notice.get_text(" ", strip=True) if notice else ""

    def reference(self) -> str:
        return self.page.select_one(".fs-panel__reference").get_text(strip=True)


class HttpBrowser:
    """A browser over real HTTP (urllib): cookies kept, redirects followed, error pages read."""

    def __init__(self, base: str, headers: dict[str, str] | None = None):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.opener.addheaders = list((headers or {}).items())

    def open(self, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            response = self.opener.open(self.base + path, data=body, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        return response.status, response.geturl(), response.headers, response.read().decode()


def hidden_fields(html: str) -> dict[str, str]:
    from bs4 import BeautifulSoup

    page = BeautifulSoup(html, "html.parser")
    return {i["name"]: i.get("value", "") for i in page.select("form input[type=hidden]")}


def form_catalogue(folder: Path, code: str, words: dict[str, str]) -> Path:
    """A gettext catalogue of the form's words in language ``code`` in ``folder`` (the service's
    TRANSLATIONS_DIR), compiled as `make setup` does: the .po and its .mo."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import write_po

    catalog = Catalog(locale=code)
    for english, translated in words.items():
        catalog.add(english, translated)
    where = Path(folder, code, "LC_MESSAGES")
    where.mkdir(parents=True, exist_ok=True)
    with open(where / "messages.po", "wb") as po:
        write_po(po, catalog)
    with open(where / "messages.mo", "wb") as mo:
        write_mo(mo, catalog)
    return folder


_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')
_REFERENCE = re.compile(r'class="fs-panel__reference">([^<]+)<')


class FormClient:
    """A browser for the enquiry form over plain HTTP/1.1 (http.client).

    ``headers`` go with every request (e.g. what Netlify's proxy adds); ``signing_secret``
    adds a fresh X-Nf-Sign. Cookies are kept by name (their Secure flag is ignored:
    behind Netlify the browser's side is HTTPS).
    """

    def __init__(self, port: int, *, headers: dict[str, str] | None = None, signing_secret: str | None = None,
                 timeout: float = 30):
        self.port, self.timeout = port, timeout
        self.headers = dict(headers or {})
        self.signing_secret = signing_secret
        self._signature: tuple[float, str] | None = None
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self._reused = False

    def _sign(self) -> dict[str, str]:
        if not self.signing_secret:
            return {}
        now = time.time()
        if self._signature is None or now - self._signature[0] > 60:
            self._signature = (now, netlify_signature(self.signing_secret))
        return {"X-Nf-Sign": self._signature[1]}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        all_headers = {**self.headers, **self._sign(), **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=all_headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had already closed: once more on a fresh one
                # (only when reusing; a fresh connection failing is a real failure).
                reused = attempt == 1 and self._reused
                self.close()
                if not reused:
                    raise
                continue
            except BaseException:
                self.close()
                raise
            self._reused = not response.will_close
            if response.will_close:
                self.close()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, val = cookie.partition("=")
                    if val and "max-age=0" not in value.lower() and "1970" not in value:
                        self.cookies[key.strip()] = val
                    else:
                        self.cookies.pop(key.strip(), None)
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self._reused = False

    # -- the form ------------------------------------------------------------------------

    def get_form(self) -> dict[str, str]:
        """Open the form page; return its hidden fields (csrf_token, form_token)."""
        status, _, body = self.request("GET", "/enquiry/")
        if status != 200:
            raise AssertionError(f"GET /enquiry/ answered {status}")
        return {name: html.unescape(value) for name, value in _HIDDEN.findall(body.decode())}

    def post_form(self, hidden: dict[str, str], answers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        fields = {**hidden, **answers, "website": ""}
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.headers.get("X-Forwarded-Proto") == "https":
            # A browser on HTTPS sends a same-origin Referer (Referrer-Policy: same-origin),
            # which Flask-WTF's CSRF check requires there.
            headers["Referer"] = f"https://127.0.0.1:{self.port}/enquiry/"
        return self.request("POST", "/enquiry/", body=body, headers=headers)

    def confirmation(self) -> str | None:
        """The reference on the confirmation page, if it shows one."""
        status, _, body = self.request("GET", "/enquiry/sent")
        if status != 200:
            return None
        found = _REFERENCE.search(body.decode())
        return found.group(1).strip() if found else None
