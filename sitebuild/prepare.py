"""The preparing step: the content checks and the Videos page, before the builder runs.

For a builder without MkDocs' hooks (Zensical), into a staging copy of the sources that the
builder then reads; mkdocs_adapter/ calls the same functions from MkDocs' events.
site_content/ itself is never written to: it is the comms staff's.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from . import BuildError, content_checks, languages, videos
from .settings import Settings


def check_content(config: dict, config_file: Path) -> list[str]:
    """The same checks as `make check`; returns what to print. Raises BuildError on errors."""
    report = content_checks.run(config, config_file)
    lines = [str(p) for p in report.problems] + ([report.summary] if report.problems else [])
    if report.has_errors:
        raise BuildError("\n".join(lines))
    return lines


# Zensical resolves src="..." in a page's HTML from the page's source file (videos.md, at
# the top of the pages), where MkDocs leaves it as written (so relative to /videos/): for
# Zensical the staged page names the players' files from its source file, so both builders'
# pages end up naming /videos/<file> (and /cy/videos/<file>, with the same files copied).
_PLAYER_SRC = re.compile(r'(<(?:source|track)\b[^>]*\bsrc=")([^"/:]+")')


def videos_page(docs: Path, settings: Settings, language: languages.Language | None = None) -> None:
    """The Videos page and the videos' files, made from the catalogue into a copy of the pages.
    In another language its introduction is videos/<code>/index.md (the videos stay as they are)."""
    if (docs / videos.PAGE).exists():
        raise BuildError(f"{videos.PAGE} in the pages' folder would hide the Videos page made from videos/.")
    meta, intro, entries = videos.read_catalogue(settings.videos_dir)
    if language is not None and not language.default:
        translated = settings.videos_dir / language.code / videos.INDEX
        if not translated.is_file():
            raise BuildError(f"{translated} is missing: the Videos page's introduction in "
                             f"{language.english_name or language.code} (translate videos/{videos.INDEX}).")
        meta, intro = videos.catalogue.read_markdown(translated, str(translated))
    media = docs / videos.MEDIA
    media.mkdir(exist_ok=True)
    page = videos.page_markdown(meta, intro, entries)
    if settings.builder == "zensical":
        page = _PLAYER_SRC.sub(lambda m: f"{m.group(1)}{videos.MEDIA}/{m.group(2)}", page)
    (docs / videos.PAGE).write_text(page, encoding="utf-8")
    for entry in entries:
        for path in entry.files:
            if not (media / path.name).exists():
                shutil.copyfile(path, media / path.name)


def _copy_pages(docs_source: Path, docs: Path, settings: Settings, language: languages.Language) -> None:
    """The pages of one language at the top of docs, with the files every language shares
    (stylesheets, scripts, pictures): the other languages' folders left out."""
    folders = {other.code for other in settings.languages[1:]}
    shutil.copytree(docs_source, docs, ignore=lambda folder, names: [
        name for name in names
        if (Path(folder) == docs_source and (name in folders or (not language.default and name.endswith(".md"))))])
    if not language.default:
        own = docs_source / language.code
        if not own.is_dir():
            raise BuildError(f"{own} is missing: the pages in {language.english_name or language.code}.")
        shutil.copytree(own, docs, dirs_exist_ok=True)


def stage(config: dict, config_dir: Path, staging: Path, settings: Settings,
          language: languages.Language | None = None) -> Path:
    """Copy one language's pages to staging/docs, add the Videos page, and write staging/mkdocs.yml
    pointing at them and at our overrides, building into staging/site (Zensical wants
    both inside the config's folder). Returns the config's path.

    language: another language than the default, built as a project of its own (languages.py)
    with its theme strings, its menu titles and its address (site_url + code/)."""
    language = language or settings.languages[0]
    docs_source = (config_dir / config.get("docs_dir", "docs")).resolve()
    docs = staging / "docs"
    _copy_pages(docs_source, docs, settings, language)
    videos_page(docs, settings, language)
    staged = dict(config)
    # Relative paths, inside the staging folder: Zensical 0.0.73 refuses (or panics on)
    # folders outside its config's folder.
    staged["docs_dir"] = "docs"
    staged["site_dir"] = "site"
    theme = dict(staged.get("theme") or {})
    if theme.get("custom_dir"):
        shutil.copytree(config_dir / theme["custom_dir"], staging / "overrides")
        theme["custom_dir"] = "overrides"
    staged["theme"] = theme
    # MkDocs' own: the pipeline does their work here.
    for key in ("hooks", "watch"):
        staged.pop(key, None)
    # The templates get the site's settings with their defaults filled in (contract/site_settings.py),
    # and "Edit this page" links only in a staff preview (settings.py).
    staged["extra"] = settings.extra
    staged["repo_url"], staged["edit_uri"] = settings.repo_url, settings.edit_uri
    if not language.default:
        theme["language"] = language.theme_language or language.code
        staged["nav"] = languages.translated_nav(config.get("nav"), language)
        staged.update(language.site)
        staged["site_url"] = settings.site_url.rstrip("/") + "/" + language.prefix
        staged["extra"] = {**settings.extra, "words": languages.words(language.code),
                           "shown_settings": languages.shown_settings(settings.extra, language)}
        if settings.edit_uri:
            staged["edit_uri"] = settings.edit_uri.rstrip("/") + "/" + language.prefix
    staged = {k: v for k, v in staged.items() if v is not None}
    path = staging / "mkdocs.yml"
    path.write_text(yaml.safe_dump(staged, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
