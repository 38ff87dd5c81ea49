"""Links and images: broken or insecure addresses, link text that says nothing, images without alt text.

EDITING.md: "Broken links", "Links that are not secure", "Link text", "Images without alt text".
"""
from __future__ import annotations

import html
import posixpath
import re
from urllib.parse import unquote, urlsplit

from .. import languages
from .markdown import REFERENCE_DEFINITION, Page, plain
from .problem import Problem, Site
from .style import STYLE_FILE

INLINE_LINK = re.compile(
    r"(?P<image>!?)\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]"
    r"\(\s*(?P<target><[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
REFERENCE_LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\[\]]*)\]\[(?P<ref>[^\[\]]*)\]")
AUTOLINK = re.compile(r"<(?P<target>(?:https?|ftp|mailto):[^>\s]+)>", re.IGNORECASE)
HTML_LINK = re.compile(r"<a\b[^>]*?\bhref\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')", re.IGNORECASE | re.DOTALL)
HTML_IMAGE = re.compile(r"<img\b[^>]*>", re.IGNORECASE | re.DOTALL)
HTML_ATTRIBUTE = re.compile(r"\b(?P<name>alt|src)\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))",
                            re.IGNORECASE)
VAGUE_LINK_TEXT = {"click here", "here", "click", "this", "this page", "this link", "link", "read more", "more",
                   "find out more", "more information", "more info", "learn more", "go", "website", "this website"}
VAGUE_ALT_TEXT = {"image", "picture", "photo", "photograph", "graphic", "icon", "logo", "img", "screenshot",
                  "diagram", "chart"}
IMAGE_FILE = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|avif)$", re.IGNORECASE)


def _line_in(block_start: int, block: str, offset: int) -> int:
    return block_start + block.count("\n", 0, offset)


def _links(page: Page):
    """Every link and image in the body: (line, kind, text, target). kind: link, image, html-link, html-image."""
    definitions: dict[str, tuple[int, str]] = {}
    for number, text in page.body():
        match = REFERENCE_DEFINITION.match(text)
        if match:
            definitions[match.group("ref").strip().lower()] = (number, match.group("target").strip("<>"))
    found = []
    for start, block in page.blocks():
        for match in INLINE_LINK.finditer(block):
            kind = "image" if match.group("image") else "link"
            found.append((_line_in(start, block, match.start()), kind, match.group("text"), match.group("target").strip("<>")))
        for match in REFERENCE_LINK.finditer(block):
            ref = (match.group("ref") or match.group("text")).strip().lower()
            kind = "image" if match.group("image") else "link"
            line = _line_in(start, block, match.start())
            if ref in definitions:
                found.append((line, kind, match.group("text"), definitions[ref][1]))
            else:
                found.append((line, "missing-ref", match.group("text"), ref))
        for match in AUTOLINK.finditer(block):
            found.append((_line_in(start, block, match.start()), "link", match.group("target"), match.group("target")))
        for match in HTML_LINK.finditer(block):
            target = match.group("dq") if match.group("dq") is not None else match.group("sq")
            found.append((_line_in(start, block, match.start()), "html-link", "", html.unescape(target)))
        for match in HTML_IMAGE.finditer(block):
            attributes = {}
            for attribute in HTML_ATTRIBUTE.finditer(match.group(0)):
                value = next(v for v in (attribute.group("dq"), attribute.group("sq"), attribute.group("bare"), "")
                             if v is not None)
                attributes[attribute.group("name").lower()] = html.unescape(value)
            found.append((_line_in(start, block, match.start()), "html-image", attributes.get("alt"),
                          attributes.get("src", "")))
    return found


def images(page: Page) -> list[tuple[int, str | None, str]]:
    """Every picture in the body, Markdown or HTML: (line, alt text or None, address)."""
    return [(line, text, target) for line, kind, text, target in _links(page) if kind in {"image", "html-image"}]


def check_links(page: Page, site: Site) -> list[Problem]:
    problems = []

    def error(line, message):
        problems.append(Problem(page.name, line, "error", message))

    def warning(line, message):
        problems.append(Problem(page.name, line, "warning", message))

    for line, kind, text, target in _links(page):
        is_image = kind in {"image", "html-image"}
        if kind == "missing-ref":
            error(line, f'The link "[{text}]" uses a link reference "[{target}]" that is not defined on this page. '
                        f"Write the link as [{text}](page-name.md) instead.")
            continue
        if is_image:
            alt = (text or "").strip() if text is not None else ""
            if not alt:
                error(line, f'The image "{target}" has no alt text (the description a screen reader reads out). '
                            "Describe what the image shows between the square brackets: ![A practitioner and a victim "
                            "talking at a table](picture.png).")
            elif alt.lower().strip(".") in VAGUE_ALT_TEXT or IMAGE_FILE.search(alt):
                warning(line, f'The alt text "{alt}" does not say what the image shows. '
                              "Describe the picture in a few words, as you would to someone on the phone.")
        else:
            label = plain(text or "").lower().strip(" .:!")
            if kind == "link" and label in VAGUE_LINK_TEXT:
                error(line, f'The link text "{plain(text)}" does not say where the link goes. Screen reader users '
                            "often hear links on their own. Use words that name the page, like "
                            "[read how restorative justice works](how-it-works.md).")
        problems.extend(_check_target(page, site, line, target, is_image))
    return problems


def _check_target(page: Page, site: Site, line: int, target: str, is_image: bool) -> list[Problem]:
    def error(message):
        return [Problem(page.name, line, "error", message)]

    what = "image" if is_image else "link"
    if not target:
        return error(f"This {what} has no address between the round brackets. Add the page's file name, "
                     "like (how-it-works.md), or a full web address starting with https://.")
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme == "http":
        return error(f'The {what} "{target}" starts with http://, which is not secure. '
                     f'Change it to https://{target[len("http://"):]} and check it still opens the right page.')
    if scheme in {"https"} or target.startswith("//"):
        if is_image:
            return error(f'The image "{target}" is on another website. Loading it would tell that website who is '
                         f"reading our pages. Save the image in {site.docs_name}/images/ and link to it there.")
        return []
    if scheme in {"mailto", "tel"}:
        return []
    if scheme:
        return error(f'The {what} "{target}" is not a web address we can use. Use a full address starting with '
                     "https://, or a page's file name like how-it-works.md.")
    path = unquote(parts.path)
    anchor = unquote(parts.fragment)
    if path.startswith("/"):
        allowed = {p.rstrip("/") for p in site.style.site_paths}
        if path.rstrip("/") in allowed or any(path.startswith(p.rstrip("/") + "/") for p in allowed):
            return []
        return error(f'The {what} "{target}" starts with /, so it only works from one web address. Link to the '
                     "page's file instead, like (how-it-works.md). (Addresses served by another part of the "
                     f"website, like /enquiry/, are listed under site_paths in {STYLE_FILE}.)")
    if not path:
        if anchor and anchor not in site.anchors.get(page.src_uri, set()):
            return error(f'The link "#{anchor}" points to a heading that is not on this page. '
                         f"{_anchor_hint(site.anchors.get(page.src_uri, set()))}")
        return []
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page.src_uri), path))
    if resolved.startswith("../") or resolved == "..":
        return error(f'The {what} "{target}" points outside {site.docs_name}, so it will not be on the website. '
                     f"Link to a page or file inside {site.docs_name}.")
    if resolved in site.pages:
        if anchor and anchor not in site.anchors.get(resolved, set()):
            return error(f'The link "{target}" points to a heading "#{anchor}" that is not on {resolved}. '
                         f"{_anchor_hint(site.anchors.get(resolved, set()))}")
        return []
    if resolved in site.other_files or _shared(resolved, site) in site.other_files:
        return []
    if (site.docs_dir / resolved).is_dir() or path.endswith("/"):
        candidate = resolved.rstrip("/") + ".md"
        hint = f" Use ({candidate})." if candidate in site.pages else ""
        return error(f'The {what} "{target}" points to a web address, not a file. Link to the page\'s Markdown file, '
                     f"ending in .md.{hint}")
    suggestion = _closest(resolved, site.pages.keys() if not is_image else site.other_files)
    hint = f' Did you mean "{suggestion}"?' if suggestion else " Check the spelling of the file name."
    return error(f'The {what} "{target}" goes to a file that does not exist in {site.docs_name}.{hint}')


def _shared(resolved: str, site: Site) -> str:
    """A file in another language's folder as the file every language shares: each language's build
    has the shared files (pictures, stylesheets) at its top (prepare.py), so cy/images/x.svg is images/x.svg."""
    return languages.split(resolved, site.languages)[1] if site.languages else resolved


def _anchor_hint(anchors: set[str]) -> str:
    if not anchors:
        return "That page has no headings to link to. Link to the page without the # part."
    return ("A heading's link name is its text in small letters with - for spaces, like #who-can-take-part. "
            "Check the heading's spelling, or link to the page without the # part.")


def _closest(name: str, candidates) -> str | None:
    import difflib

    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return matches[0] if matches else None
