"""Reading a page: front matter, body lines, headings, links and text, with source line numbers."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
HTML_HEADING = re.compile(r"<h([1-6])\b", re.IGNORECASE)
LIST_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])[ \t]+")
ADMONITION = re.compile(r"^\s*(?:!!!|\?\?\?\+?)\s")
TABLE_ROW = re.compile(r"^\s*\|")
THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.DOTALL)


REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[(?P<ref>[^\]]+)\]:\s*(?P<target><[^>]*>|\S+)")


def strip_inline(text: str) -> str:
    """Markdown and HTML inside a line, down to the words a reader sees."""
    text = INLINE_CODE.sub("", text)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\([^)]*\)", r"\1", text)  # [text](url)
    text = re.sub(r"\[([^\[\]]*)\]\[[^\[\]]*\]", r"\1", text)  # [text][ref]
    text = re.sub(r"\[\^[^\]]*\]", "", text)  # footnote markers
    text = re.sub(r"<(?:https?|ftp|mailto):[^>\s]+>", "", text, flags=re.IGNORECASE)  # autolinks
    text = re.sub(r"\{\s*:?\s*[.#][^}]*\}", "", text)  # { .md-button } attribute lists
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags
    text = re.sub(r"\*{1,3}|(?<!\w)_{1,3}|_{1,3}(?!\w)", "", text)  # bold and italics
    return html.unescape(text)


def plain(text: str) -> str:
    """A line's words as a reader sees them, on one line."""
    return re.sub(r"\s+", " ", strip_inline(text)).strip()


# CommonMark with tables, as a reader: its tokens carry the lines they came from.
_COMMONMARK = MarkdownIt("commonmark").enable("table")


@dataclass
class Page:
    """One Markdown file, split into front matter and body, with line numbers kept."""

    path: Path  # on disk
    name: str  # as shown in messages, e.g. site_content/index.md
    src_uri: str  # relative to docs_dir, with forward slashes
    lines: list[str]
    meta: dict
    meta_error: tuple[int, str] | None
    front_matter_lines: tuple[int, int] | None  # first and last line of the --- block
    body_start: int  # line number (1-based) of the first body line
    code_lines: set[int]  # lines inside fenced code blocks (or the fences themselves)
    tokens: list = field(default_factory=list, repr=False)  # markdown-it-py's block tokens of the body

    @classmethod
    def read(cls, path: Path, name: str, src_uri: str) -> "Page":
        text = path.read_text(encoding="utf-8-sig")
        lines = text.splitlines()
        meta: dict = {}
        meta_error = None
        block = None
        body_start = 1
        if lines and lines[0].strip() == "---":
            for index in range(1, len(lines)):
                if lines[index].strip() in {"---", "..."}:
                    block = (1, index + 1)
                    body_start = index + 2
                    break
            if block is None:
                meta_error = (1, "The front matter that starts on line 1 with --- never ends. "
                                 "Add a line with just --- after the last setting.")
            else:
                source = "\n".join(lines[1: block[1] - 1])
                try:
                    loaded = yaml.safe_load(source)
                except yaml.YAMLError as exc:
                    mark = getattr(exc, "problem_mark", None)
                    line = 2 + (mark.line if mark else 0)
                    meta_error = (line, "The front matter is not written correctly here, so it cannot be read. "
                                        "Each line should be 'name: value'. Put a value in quotes if it has a colon in it.")
                else:
                    if isinstance(loaded, dict):
                        meta = loaded
                    elif loaded is not None:
                        meta_error = (2, "The front matter should be lines like 'description: ...', one setting a line.")
        tokens = _COMMONMARK.parse("\n".join(lines[body_start - 1:]))
        code_lines: set[int] = set()
        for token in tokens:
            if token.type == "fence" and token.map:
                # map: the fence's first line and the line after its closing fence (0-based, in the body).
                code_lines.update(range(body_start + token.map[0], body_start + token.map[1]))
        return cls(path, name, src_uri, lines, meta, meta_error, block, body_start, code_lines, tokens)

    def body(self):
        """(line number, text) for each body line outside code blocks, inline code blanked out."""
        for number in range(self.body_start, len(self.lines) + 1):
            if number not in self.code_lines:
                yield number, INLINE_CODE.sub(lambda m: " " * len(m.group(0)), self.lines[number - 1])

    def blocks(self):
        """Runs of non-blank body lines: (first line number, text joined with newlines)."""
        run: list[tuple[int, str]] = []
        for number, text in self.body():
            if text.strip():
                if run and number != run[-1][0] + 1:
                    yield run[0][0], "\n".join(t for _, t in run)
                    run = []
                run.append((number, text))
            elif run:
                yield run[0][0], "\n".join(t for _, t in run)
                run = []
        if run:
            yield run[0][0], "\n".join(t for _, t in run)

    def meta_line(self, key: str) -> int:
        if self.front_matter_lines:
            first, last = self.front_matter_lines
            pattern = re.compile(rf"^{re.escape(key)}\s*:")
            for number in range(first + 1, last):
                if pattern.match(self.lines[number - 1]):
                    return number
            return first
        return 1

    def headings(self) -> list[tuple[int, int, str]]:
        """(line, level, text) of every heading, in order: Markdown ones (# and underlined) as
        CommonMark reads them, and HTML ones (<h2>...) written into the page."""
        found = []
        for index, token in enumerate(self.tokens):
            if not token.map:
                continue
            line = self.body_start + token.map[0]
            if token.type == "heading_open":
                found.append((line, int(token.tag[1]), self.tokens[index + 1].content.strip()))
            elif token.type == "html_block":
                for match in HTML_HEADING.finditer(token.content):
                    found.append((line + token.content.count("\n", 0, match.start()), int(match.group(1)), ""))
            elif token.type == "inline":
                breaks = 0
                for child in token.children or []:
                    if child.type in {"softbreak", "hardbreak"}:
                        breaks += 1
                    elif child.type == "html_inline":
                        for match in HTML_HEADING.finditer(child.content):
                            found.append((line + breaks, int(match.group(1)), ""))
        return found


# ---------------------------------------------------------------- Anchors (what #... can point to)


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"id", "name"} and value:
                self.ids.add(value)


def anchors_of(page: Page, markdown_extensions, mdx_configs) -> set[str]:
    """The ids a page's HTML will have, rendered with the site's own Markdown settings."""
    import markdown

    body = "\n".join(page.lines[page.body_start - 1:])
    converter = markdown.Markdown(extensions=list(markdown_extensions or []), extension_configs=dict(mdx_configs or {}))
    parser = _Ids()
    parser.feed(converter.convert(body))
    return parser.ids
