"""The quick exit, as one component: components/exit-this-page/ (its README names every user).

Here it is rendered and put first in a page's <body>, with its stylesheet and script,
which the finishing step copies into the site at assets/exit-this-page/.
"""
from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import BuildError, languages

COMPONENT = Path("exit-this-page")  # in components/ (languages.components_dir())
ASSETS = "assets/exit-this-page"  # where its files are published in the site
STYLESHEET = "exit-this-page.css"
SCRIPT = "exit-this-page.js"
MARKER = '<div class="qe" data-qe'  # how the finished page's first element starts

_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_HEAD_CLOSE = re.compile(r"</head\s*>", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)


def _folder() -> Path:
    return languages.components_dir() / COMPONENT


@functools.lru_cache(maxsize=1)
def all_messages() -> dict[str, dict[str, str]]:
    """messages.json: one set of words per language code."""
    return json.loads((_folder() / "messages.json").read_text(encoding="utf-8"))


def messages(language: str = "en") -> dict[str, str]:
    """The exit's words in a language; a language without its set stops the build, naming the file."""
    found = all_messages()
    if language not in found:
        raise BuildError(f"components/exit-this-page/messages.json has no words for {language!r}: copy the "
                         f"\"en\" set, name it \"{language}\" and translate each value.")
    return found[language]


@functools.lru_cache(maxsize=1)
def _template():
    env = Environment(loader=FileSystemLoader(str(_folder())), autoescape=select_autoescape(default=True),
                      keep_trailing_newline=False)
    return env.get_template("template.html")


def markup(exit_url: str, language: str = "en") -> str:
    return _template().render(exit_url=exit_url, messages=messages(language)).strip()


def insert(html: str, exit_url: str, assets_base: str, language: str = "en") -> str:
    """The exit right after <body>, its stylesheet before </head>, its script before </body>.

    assets_base: how the page reaches the site's root ("../" from a folder, "/" for the
    404 page and the form's shell, which are served at other addresses)."""
    if MARKER in html:
        return html  # already finished (mkdocs serve can hand a page over twice)
    body = _BODY_OPEN.search(html)
    if not body:
        return html
    html = html[: body.end()] + markup(exit_url, language) + html[body.end():]
    link = f'<link rel="stylesheet" href="{assets_base}{ASSETS}/{STYLESHEET}">'
    html = _HEAD_CLOSE.sub(lambda m: link + m.group(0), html, count=1)
    script = f'<script src="{assets_base}{ASSETS}/{SCRIPT}" defer></script>'
    tail = list(_BODY_CLOSE.finditer(html))
    if tail:
        at = tail[-1].start()
        html = html[:at] + script + html[at:]
    return html


def publish(site_dir: Path) -> None:
    target = Path(site_dir) / ASSETS
    target.mkdir(parents=True, exist_ok=True)
    for name in (STYLESHEET, SCRIPT):
        shutil.copyfile(_folder() / name, target / name)
