"""Running the checks over a site: its pages, their anchors, the settings."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from .checks import Problem, Site, check_page, check_setting_placeholders
from .markdown import Page, anchors_of
from .style import Style, find_style_file


def load_site(docs_dir: Path, md_files: dict[str, Path], other_files: set[str], *, base: Path,
              markdown_extensions=(), mdx_configs=None, style: Style, today: dt.date | None = None) -> Site:
    pages = {uri: Page.read(path, display_path(path, base), uri) for uri, path in md_files.items()}
    anchors = {uri: anchors_of(page, markdown_extensions, mdx_configs) for uri, page in pages.items()}
    return Site(docs_dir, pages, anchors, other_files, style, today or dt.date.today(), display_path(docs_dir, base))


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


def _site_from_mkdocs(config, files, today=None) -> Site:
    docs_dir = Path(config.docs_dir)
    base = Path(config.config_file_path or ".").resolve().parent
    md_files, other = {}, set()
    for file in files:
        if getattr(file, "generated_by", None) or not file.abs_src_path or not os.path.isfile(file.abs_src_path):
            continue  # made by another hook (e.g. the videos page): not a file an editor wrote
        inclusion = getattr(file, "inclusion", None)
        if inclusion is not None and inclusion.is_excluded():
            continue  # left out of the website (exclude_docs in mkdocs.yml)
        if file.is_documentation_page():
            md_files[file.src_uri] = Path(file.abs_src_path)
        else:
            other.add(file.src_uri)
    style = Style.load(find_style_file(base))
    return load_site(docs_dir, md_files, other, base=base, markdown_extensions=config.markdown_extensions,
                     mdx_configs=config.mdx_configs, style=style, today=today)


def setting_problems(config) -> list[Problem]:
    """The settings in mkdocs.yml that pages show, while still at their placeholders."""
    config_file = Path(config.config_file_path or "mkdocs.yml")
    return check_setting_placeholders(config.extra, config_file, display_path(config_file, Path.cwd()))


def summary(problems: list[Problem], pages: int) -> str:
    errors = sum(p.level == "error" for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return "Content checks: the page passed." if pages == 1 else f"Content checks: all {pages} pages passed."
    plural = lambda n, word: f"{n} {word}{'' if n == 1 else 's'}"  # noqa: E731
    verdict = ("Fix the errors: the website will not build until they are fixed." if errors
               else "The website will still build, but please fix the warnings soon.")
    return f"Content checks: {plural(errors, 'error')} and {plural(warnings, 'warning')} in {plural(pages, 'page')}. {verdict}"
