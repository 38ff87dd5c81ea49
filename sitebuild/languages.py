"""The site's languages: one build per language, the same paths under /<code>/, linked both ways.

The languages are listed once, in mkdocs.yml under ``extra.languages`` (EDITING.md, "Pages in
other languages"): the first is the default, built from site_content/ to /; each other one is
the folder site_content/<code>/ with the same pages, built as a project of its own (its theme
language, its search index, its menu titles) into /<code>/. Zensical builds one language per
project, so MkDocs does the same: one way for both builders (docs/site-pipeline.md).

Here: reading the table, which language a page of the finished site is in and where its twins
are, the finishing touches a page gets for its language (<html lang>, <link rel="alternate"
hreflang>, a visible link to each other language, our own theme words), building the other
languages around either builder, and the tie between a translation and its English page.
"""
from __future__ import annotations

import functools
import hashlib
import html as html_lib
import json
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import BuildError

ROOT = Path(__file__).resolve().parent.parent


def components_dir() -> Path:
    """components/, or the folder in COMPONENTS_DIR (a test's copy with a made-up language's words)."""
    from .settings import env  # read where every variable is (settings.py imports this module)

    return Path(env("COMPONENTS_DIR") or ROOT / "components").resolve()


#: Our own words in the templates and the finished markup, one set per language (the exit's are
#: components/exit-this-page/messages.json).
THEME_MESSAGES = Path("site-words", "messages.json")
DEFAULT = {"code": "en", "name": "English"}
NOT_PAGES = {"404.html", "formsvc-shell.html"}
# Both themes' script takes every <link rel=alternate> (an exact match) for the root of a
# language made with their own selector, and fetches sitemap.xml below it: below our twin pages,
# from the site_url's origin, which the CSP refuses (and a 404 on the site's own). The leading
# space keeps the one token "alternate" for browsers and search engines (rel is a list of
# space-separated tokens) while that selector no longer matches.
ALTERNATE_REL = " alternate"
SITE_KEYS = ("site_name", "site_description", "copyright")


@dataclass(frozen=True)
class Language:
    code: str  # the BCP 47 code: <html lang>, hreflang, the folder and the address (/cy/)
    name: str  # in the language itself: the text of the link to it ("Cymraeg")
    english_name: str = ""  # for staff and the hub ("Welsh")
    default: bool = False
    row: Mapping = field(default_factory=dict, hash=False, compare=False)  # its entry in the table, as written
    nav: Mapping = field(default_factory=dict, hash=False, compare=False)  # menu titles: the English page file or section -> title
    theme_language: str = ""  # the themes' own strings, when not the code
    # mkdocs.yml's own site_name, site_description and copyright in this language.
    site: Mapping = field(default_factory=dict, hash=False, compare=False)

    @property
    def prefix(self) -> str:
        """Where its pages are in the site and in site_content/: "" or "cy/"."""
        return "" if self.default else f"{self.code}/"


def read(extra: Mapping | None) -> list[Language]:
    """mkdocs.yml's extra.languages as Languages, the default first; English alone when unset."""
    rows = (extra or {}).get("languages") or [DEFAULT]
    languages, seen = [], set()
    for number, row in enumerate(rows):
        if not isinstance(row, Mapping) or not row.get("code") or not row.get("name"):
            raise BuildError(f"mkdocs.yml extra.languages, entry {number + 1}: each language needs a code "
                             "and a name, like  - code: cy  and  name: Cymraeg")
        code = str(row["code"]).strip()
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", code) or code in seen:
            raise BuildError(f"mkdocs.yml extra.languages: {code!r} is not a language code (like cy), or is "
                             "listed twice.")
        seen.add(code)
        languages.append(Language(code, str(row["name"]), str(row.get("english_name") or ""), number == 0, dict(row),
                                  dict(row.get("nav") or {}), str(row.get("theme_language") or ""),
                                  {key: row[key] for key in SITE_KEYS if row.get(key)}))
    return languages


def split(rel: str, languages: list[Language]) -> tuple[Language, str]:
    """A file of the finished site ("cy/how-it-works/index.html") as its language and its path
    within that language ("how-it-works/index.html")."""
    for language in languages[1:]:
        if rel.startswith(language.prefix):
            return language, rel[len(language.prefix):]
    return languages[0], rel


def is_page(inner: str) -> bool:
    return inner not in NOT_PAGES


def address(inner: str) -> str:
    """A page's file within its language as the address below that language's root."""
    return inner[: -len("index.html")] if inner.endswith("index.html") else inner


# ---------------------------------------------------------------- Our own words, per language

@functools.lru_cache(maxsize=1)
def _theme_messages() -> dict:
    return json.loads((components_dir() / THEME_MESSAGES).read_text(encoding="utf-8"))


def words(code: str) -> dict[str, str]:
    """Our template and markup words in a language (components/site-words/messages.json); a language without
    its own set stops the build, naming the file, rather than showing English words unasked."""
    messages = _theme_messages()
    if code not in messages or code.startswith("_"):
        raise BuildError(f"components/site-words/messages.json has no words for the language {code!r}: copy the \"en\" set, "
                         f"name it \"{code}\" and translate each value.")
    return {**messages["en"], **messages[code]}


def setting_value(name: str, extra: Mapping, language: Language) -> tuple:
    """A site setting's value on this language's pages, and the value's language when it is not the
    page's ("en": English the force has set, with nothing yet in this language; None otherwise).
    extra: site_values(), every setting filled in. The value is the one the force gives in the
    language's entry of extra.languages; else, while the setting is at its default, the language's
    own default (components/site-words/messages.json, "default_<name>"); else the English one."""
    from contract.site_settings import SITE_SETTINGS

    setting, english = SITE_SETTINGS[name], extra.get(name)
    if language.default:
        return english, None
    if language.row.get(name) not in (None, ""):
        return language.row[name], None
    if english in (None, "", [], {}) or not setting.in_words:
        return english, None
    if english == setting.default and f"default_{name}" in (ours := words(language.code)):
        return ours[f"default_{name}"], None
    return english, read(extra)[0].code


def untranslated_settings(extra: Mapping) -> list[tuple[str, Language]]:
    """The settings the force has set in English but not in another language, which that language's
    pages show in English (the content checks warn). extra: mkdocs.yml's own, before the defaults."""
    from contract.site_settings import SITE_SETTINGS

    return [(name, language) for language in read(extra)[1:] for name, setting in SITE_SETTINGS.items()
            if setting.on_pages and setting.in_words and extra.get(name) not in (None, "", [], {})
            and extra.get(name) != setting.default and language.row.get(name) in (None, "")]


def setting_html(name: str, extra: Mapping, language: Language) -> str:
    """What the page marker of a site setting becomes in a language (contract/site_settings.py):
    its words around the value (components/site-words/messages.json) and setting_value()."""
    from contract.site_settings import page_html

    value, value_lang = setting_value(name, extra, language)
    return page_html(name, value, words(language.code), value_lang)


def form_settings(extra: Mapping, language: Language) -> dict:
    """The settings the form's pages show (contract/manifest.py, PASSED_THROUGH), as this language's
    pages give them: the manifest's "extra" for that language's form (formsvc/shell.py)."""
    from contract.manifest import PASSED_THROUGH

    values = {name: setting_value(name, extra, language)[0] for name in PASSED_THROUGH}
    return {name: value for name, value in values.items() if value is not None}


def shown_settings(extra: Mapping, language: Language) -> list[dict]:
    """Each page marker and its HTML in a language, for overrides/partials/site-settings.html."""
    from contract.site_settings import SITE_SETTINGS, field_markers, marker

    shown = [{"marker": marker(name), "html": setting_html(name, extra, language)}
             for name, setting in SITE_SETTINGS.items() if setting.on_pages]
    # A fact's parts inside a sentence of the page's own (<!-- extra.victim_support.phone -->, as
    # Easy Read pages write them), from the fact as this language's pages give it.
    return shown + field_markers({name: setting_value(name, extra, language)[0] for name in SITE_SETTINGS})


# The words sitebuild/markup.py writes into every page in English (names of the theme's
# controls), and their key in components/site-words/messages.json. Swapped on other languages' pages, here,
# so markup.py keeps one set of words.
_MARKUP_WORDS = (
    ('aria-label="Menu"', "aria-label=\"{}\"", "menu"),
    ('aria-label="Search"', "aria-label=\"{}\"", "search"),
    # The header buttons' hidden words, which must match their checkboxes' names (markup.py, toggle-button-words).
    ('<span class="md-visually-hidden">Menu</span>', '<span class="md-visually-hidden">{}</span>', "menu"),
    ('<span class="md-visually-hidden">Search</span>', '<span class="md-visually-hidden">{}</span>', "search"),
    ('<button type="submit" hidden>Search</button>', '<button type="submit" hidden>{}</button>', "search"),
)


# ---------------------------------------------------------------- Finishing a page for its language

_HTML_OPEN = re.compile(r"<html\b[^>]*>", re.IGNORECASE)
_LANG = re.compile(r'\slang="[^"]*"')
_HEAD_CLOSE = re.compile(r"</head\s*>", re.IGNORECASE)
# Where the link to the other language goes: first in the page's text, in both themes.
_ARTICLE = re.compile(r'<article class="md-content__inner md-typeset">')
SWITCH_CLASS = "lang-switch"


def _absolute(site_url: str, path: str) -> str:
    base = site_url if site_url.endswith("/") else site_url + "/"
    return base + path


def finish_page(html: str, rel: str, languages: list[Language], site_url: str, root_path: str) -> str:
    """<html lang>, the alternates in <head> and the visible switch link, for the page at rel."""
    language, inner = split(rel, languages)
    opening = _HTML_OPEN.search(html)
    if opening:
        tag = opening.group(0)
        tag = _LANG.sub(f' lang="{language.code}"', tag) if _LANG.search(tag) else tag[:-1] + f' lang="{language.code}">'
        html = html[: opening.start()] + tag + html[opening.end():]
    if not language.default:
        ours = words(language.code)
        for english, pattern, key in _MARKUP_WORDS:
            html = html.replace(english, pattern.format(html_lib.escape(ours[key])))
    if len(languages) < 2 or f'class="{SWITCH_CLASS}"' in html:
        return html
    others = [other for other in languages if other != language]
    if is_page(inner):
        # From the page itself: up to the site's root, then the twin's path.
        up = "../" * rel.count("/")
        targets = {other: up + other.prefix + address(inner) or "./" for other in languages}
        alternates = "".join(
            f'<link rel="{ALTERNATE_REL}" hreflang="{other.code}" href="{_absolute(site_url, other.prefix + address(inner))}">'
            for other in languages)
        html = _HEAD_CLOSE.sub(lambda m: alternates + m.group(0), html, count=1)
    else:
        # The 404 page and the form's frame are shown at any address: the other language's home page.
        targets = {other: root_path + other.prefix for other in languages}
    links = "".join(f'<a href="{targets[other]}" hreflang="{other.code}" lang="{other.code}">'
                    f'{html_lib.escape(other.name)}</a>' for other in others)
    switch = f'<p class="{SWITCH_CLASS}">{links}</p>'
    html, found = _ARTICLE.subn(lambda m: m.group(0) + switch, html, count=1)
    if not found:
        raise BuildError(f"{rel}: no <article class=\"md-content__inner md-typeset\"> to put the link to "
                         f"{', '.join(o.name for o in others)} in. The theme's markup has changed: update "
                         "sitebuild/languages.py.")
    return html


# ---------------------------------------------------------------- The other languages' builds

def translated_nav(nav, language: Language, where: str = "nav"):
    """mkdocs.yml's nav with each title in the language: from its nav table, by the page's file
    (or, for a section, its English title)."""
    out = []
    for item in nav or []:
        if not isinstance(item, Mapping):
            out.append(item)
            continue
        for title, target in item.items():
            key = target if isinstance(target, str) else title
            if key not in language.nav:
                raise BuildError(f"mkdocs.yml extra.languages, {language.code}: nav has no title for "
                                 f"{key!r}. Add a line under its nav: like  {key}: <the menu title in "
                                 f"{language.english_name or language.code}>")
            out.append({language.nav[key]: target if isinstance(target, str)
                        else translated_nav(target, language, where)})
    return out


def build_other_languages(config: Mapping, config_dir: Path, settings, builder: str, environ=None) -> None:
    """Each language but the default, as a project of its own, into the site's /<code>/ folder,
    each page finished there. The default language's build has already written the site
    (`python -m sitebuild build`, or MkDocs' own build, whose last event calls this)."""
    from . import finish, prepare
    from .builders import run_builder

    for language in settings.languages[1:]:
        with tempfile.TemporaryDirectory(prefix=f"sitebuild-{language.code}-") as staging:
            staged = prepare.stage(config, config_dir, Path(staging), settings, language)
            run_builder(builder, staged, environ)
            target = settings.site_dir / language.code
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(Path(staging) / "site", target)
        finish.finish_pages(settings, under=language.prefix)


# ---------------------------------------------------------------- Translations that stay true

TRANSLATION_OF = "translation_of"
SOURCE_HASH = "source_hash"
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def source_hash(english: Path) -> str:
    """What a translation was checked against: the English page's words (its title, description
    and text), not its review date or owner, so re-reviewing the English leaves translations current."""
    import yaml

    text = english.read_text(encoding="utf-8")
    match = _FRONT.match(text)
    meta = (yaml.safe_load(match.group(1)) or {}) if match else {}
    body = text[match.end():] if match else text
    words = json.dumps([meta.get("title"), meta.get("description"), body.strip()], ensure_ascii=False)
    return "sha256:" + hashlib.sha256(words.encode("utf-8")).hexdigest()[:16]


def mark_translated(translation: Path, docs_dir: Path) -> str:
    """`python -m sitebuild translated PAGE`: write into PAGE's front matter the English page it
    translates and the hash of that page as it is now. Returns what was written."""
    text = translation.read_text(encoding="utf-8")
    match = _FRONT.match(text)
    if not match:
        raise BuildError(f"{translation}: no front matter (the lines between --- at the top).")
    front = match.group(1).splitlines()
    import yaml

    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        raise BuildError(f"{translation}: the front matter cannot be read: run `python -m sitebuild check {translation}` "
                         "to see where (put a value with a colon in it in quotes).") from None
    english = Path(docs_dir, str(meta.get(TRANSLATION_OF) or translation.name))
    if not english.is_file():
        raise BuildError(f"{translation}: the English page {english} does not exist. Set translation_of: to "
                         "the English page's file name.")
    digest = source_hash(english)
    values = {TRANSLATION_OF: english.relative_to(docs_dir).as_posix(), SOURCE_HASH: digest}
    for key, value in values.items():
        line = f"{key}: {value}"
        at = next((i for i, existing in enumerate(front) if re.match(rf"{key}\s*:", existing)), None)
        if at is None:
            front.append(line)
        else:
            front[at] = line
    translation.write_text("---\n" + "\n".join(front) + "\n---\n" + text[match.end():], encoding="utf-8")
    return f"{translation}: {TRANSLATION_OF}: {values[TRANSLATION_OF]}, {SOURCE_HASH}: {digest}"
