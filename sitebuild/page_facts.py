"""What a finished page holds that the policy and the gate care about, read once."""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from . import BuildError

EXECUTABLE = {"text/javascript", "application/javascript", "module"}
# Attributes that make a browser fetch something (not links the reader follows).
LOADING_ATTRIBUTES = {
    "script": ["src"], "img": ["src", "srcset"], "iframe": ["src"], "frame": ["src"], "audio": ["src"],
    "video": ["src", "poster"], "source": ["src", "srcset"], "track": ["src"], "embed": ["src"],
    "object": ["data"], "input": ["src"], "image": ["href"], "use": ["href"],
}
LOADING_LINK_RELS = {"stylesheet", "icon", "preload", "prefetch", "preconnect", "dns-prefetch",
                     "modulepreload", "manifest", "apple-touch-icon"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")


def is_external(url: str | None) -> bool:
    url = (url or "").strip()
    return url.startswith("//") or urlsplit(url).scheme.lower() in {"http", "https", "ftp", "ws", "wss"}


def source_hash(text: str) -> str:
    """A CSP source expression for an inline script or style: 'sha256-...'."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@dataclass
class PageFacts:
    scripts: list[str] = field(default_factory=list)  # executable inline scripts
    styles: list[str] = field(default_factory=list)  # inline <style> elements
    style_attributes: list[str] = field(default_factory=list)  # style="..." (never allowed: no 'unsafe-hashes')
    embeds: list[str] = field(default_factory=list)  # data-embed-src: players loaded on request (sitebuild/videos/)
    loads: list[tuple[str, str]] = field(default_factory=list)  # (what, url) fetched from another origin
    first_in_body: tuple[str, dict] | None = None  # the first element inside <body>
    meta_policies: list[str] = field(default_factory=list)

    @property
    def script_hashes(self) -> set[str]:
        return {source_hash(text) for text in self.scripts}

    @property
    def style_hashes(self) -> set[str]:
        return {source_hash(text) for text in self.styles}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.facts = PageFacts()
        self._in_body = False
        self._text: list[str] | None = None
        self._kind = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        facts = self.facts
        if self._in_body and facts.first_in_body is None:
            facts.first_in_body = (tag, attrs)
        if tag == "body":
            self._in_body = True
        if attrs.get("data-embed-src"):
            facts.embeds.append(attrs["data-embed-src"])
        if "style" in attrs:
            facts.style_attributes.append(attrs["style"])
            facts.loads += [(f"{tag} style", m[0] or m[1]) for m in CSS_URL.findall(attrs["style"])
                            if is_external(m[0] or m[1])]
        for attribute in LOADING_ATTRIBUTES.get(tag, []):
            for candidate in attrs.get(attribute, "").split(","):
                url = candidate.split()[0] if candidate.split() else ""
                if is_external(url):
                    facts.loads.append((f"<{tag} {attribute}>", url))
        if tag == "link" and LOADING_LINK_RELS & set(attrs.get("rel", "").lower().split()) \
                and is_external(attrs.get("href")):
            facts.loads.append(("<link>", attrs["href"]))
        if tag == "meta":
            equiv = attrs.get("http-equiv", "").lower()
            if equiv == "refresh" and is_external(attrs.get("content", "").partition("url=")[2]):
                facts.loads.append(("<meta refresh>", attrs["content"]))
            if equiv == "content-security-policy":
                facts.meta_policies.append(attrs.get("content", ""))
        if tag == "script" and "src" not in attrs and (attrs.get("type") or "text/javascript").lower() in EXECUTABLE:
            self._text, self._kind = [], "script"
        elif tag == "style":
            self._text, self._kind = [], "style"

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._text is not None and tag == self._kind:
            text = "".join(self._text)
            if tag == "script":
                self.facts.scripts.append(text)
            else:
                self.facts.styles.append(text)
                self.facts.loads += [("<style>", m[0] or m[1]) for m in CSS_URL.findall(text)
                                     if is_external(m[0] or m[1])]
            self._text = None


def read(html: str) -> PageFacts:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.facts


def frame_origin(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise BuildError(f"{where}: a player may only be loaded from an https:// address (found {url!r}).")
    return f"https://{parts.netloc.lower()}"


# A theme script that makes a <style> element from a string of its own (Zensical 0.0.73's
# search: C("style",{},Tc.toString()) in a shadow root, with var Tc='...css...').
_INJECTED_STYLE_USE = re.compile(r"""["']style["'],\{\},([A-Za-z_$][\w$]*)\.toString\(\)""")


def injected_styles(site_dir) -> set[str]:
    """Hashes of the <style> elements the theme's own scripts add to pages at run time,
    read from the scripts' string literals, so the policy allows exactly those."""
    import codecs
    from pathlib import Path

    hashes = set()
    for script in sorted(Path(site_dir).glob("assets/javascripts/*.js")):
        code = script.read_text(encoding="utf-8", errors="replace")
        for name in set(_INJECTED_STYLE_USE.findall(code)):
            literal = re.search(rf"""(?<![\w$]){re.escape(name)}=(['"])((?:(?!\1)[^\\]|\\.)*)\1""", code)
            if literal:
                text = literal.group(2)
                hashes.add(source_hash(codecs.decode(text, "unicode_escape") if "\\" in text else text))
    return hashes
