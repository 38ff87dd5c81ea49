"""Running the checks over a site: its pages, their anchors, the settings; the report."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import BuildError, languages
from .easy_read import check_easy_read, is_easy_read
from .front_matter import check_front_matter
from .headings import check_headings
from .links import check_links
from .markdown import Page, anchors_of
from .placeholders import check_setting_placeholders
from .problem import Problem, Site
from .reading_age import check_reading_age, check_sentence_length
from .style import Style, find_style_file
from .translations import check_translation
from .words import check_words


class NotAPage(BuildError):
    """A page asked for by name is not one of the site's."""


def check_page(page: Page, site: Site) -> list[Problem]:
    language = languages.split(page.src_uri, site.languages)[0] if site.languages else None
    # The reading age formula counts English syllables: on other languages' pages it would mislead,
    # so there only sentence length is measured.
    english = language is None or language.default
    if is_easy_read(page):
        # Easy Read's own rules (15 words a sentence, hard words explained, a picture beside each
        # idea) in every language, instead of the reading age: its formula counts syllables, and
        # would mark down the explained words the format asks for (easy_read.py).
        by_language = check_easy_read(page, site.style, language.code if language else "en")
    else:
        by_language = check_reading_age(page, site.style) if english else check_sentence_length(page)
    return sorted(
        check_front_matter(page, site.style, site.today)
        + check_headings(page)
        + check_links(page, site)
        + check_words(page, site.style)
        + by_language
        + check_translation(page, site)
    )


def pages_in(docs_dir: Path) -> tuple[dict[str, Path], set[str]]:
    """The Markdown pages (by their path in docs_dir) and the other files, as a builder finds
    them: hidden files and folders left out."""
    md_files, other = {}, set()
    for path in sorted(docs_dir.rglob("*")):
        uri = path.relative_to(docs_dir).as_posix()
        if not path.is_file() or any(part.startswith(".") for part in uri.split("/")):
            continue
        if path.suffix == ".md":
            md_files[uri] = path
        else:
            other.add(uri)
    return md_files, other


def extensions(items) -> tuple[list[str], dict]:
    """mkdocs.yml's markdown_extensions (names, or {name: options}) as names and their options."""
    names, configs = [], {}
    for item in items or []:
        if isinstance(item, Mapping):
            for name, options in item.items():
                names.append(name)
                configs[name] = options or {}
        else:
            names.append(str(item))
    return names, configs


def load_site(docs_dir: Path, md_files: dict[str, Path], other_files: set[str], *, base: Path,
              markdown_extensions=(), mdx_configs=None, style: Style, today: dt.date | None = None,
              site_languages=None) -> Site:
    pages = {uri: Page.read(path, display_path(path, base), uri) for uri, path in md_files.items()}
    anchors = {uri: anchors_of(page, markdown_extensions, mdx_configs) for uri, page in pages.items()}
    return Site(docs_dir, pages, anchors, other_files, style, today or dt.date.today(), display_path(docs_dir, base),
                list(site_languages or languages.read(None)))


def display_path(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def check_site(site: Site, only: set[str] | None = None) -> list[Problem]:
    problems = []
    for uri, page in sorted(site.pages.items()):
        if only is None or uri in only:
            problems.extend(check_page(page, site))
    return problems


def summary(problems: list[Problem], pages: int) -> str:
    errors = sum(p.level == "error" for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return "Content checks: the page passed." if pages == 1 else f"Content checks: all {pages} pages passed."
    plural = lambda n, word: f"{n} {word}{'' if n == 1 else 's'}"  # noqa: E731
    verdict = ("Fix the errors: the website will not build until they are fixed." if errors
               else "The website will still build, but please fix the warnings soon.")
    return f"Content checks: {plural(errors, 'error')} and {plural(warnings, 'warning')} in {plural(pages, 'page')}. {verdict}"


@dataclass
class Report:
    problems: list[Problem]
    pages: int

    @property
    def has_errors(self) -> bool:
        return any(p.level == "error" for p in self.problems)

    @property
    def summary(self) -> str:
        return summary(self.problems, self.pages)


def run(config: Mapping, config_file: Path, *, files: tuple[dict[str, Path], set[str]] | None = None,
        paths=None, today: dt.date | None = None) -> Report:
    """Every check over the site that mkdocs.yml (config: its keys, as read) describes.

    files: the pages and other files, when the builder has listed them (default: pages_in);
    paths: check only these pages or folders (and not the settings). Names in the report are
    relative to mkdocs.yml's folder."""
    config_file = Path(config_file)
    base = config_file.resolve().parent
    docs = Path(base, config.get("docs_dir") or "docs").resolve()
    md_files, other = files if files is not None else pages_in(docs)
    names, configs = extensions(config.get("markdown_extensions"))
    site = load_site(docs, md_files, other, base=base, markdown_extensions=names, mdx_configs=configs,
                     style=Style.load(find_style_file(base)), today=today,
                     site_languages=languages.read(config.get("extra")))
    if paths is None:
        problems = check_site(site) + check_setting_placeholders(
            config.get("extra"), config_file, display_path(config_file, Path.cwd()))
        return Report(problems, len(site.pages))
    only = set()
    for given in paths:
        target = Path(given).resolve()
        matched = {uri for uri, page in site.pages.items()
                   if page.path.resolve() == target or target in page.path.resolve().parents}
        if not matched:
            raise NotAPage(f"{given}: not a page in {display_path(docs, Path.cwd())}/")
        only |= matched
    return Report(check_site(site, only), len(only))
