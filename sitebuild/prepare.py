"""The preparing step, for builders without MkDocs' hooks: the content checks and the
Videos page, by the same functions the MkDocs hooks call (hooks/content_checks/,
hooks/videos.py), into a staging copy of the sources that the builder then reads.

site_content/ itself is never written to: it is the comms staff's.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import yaml

from .settings import SiteInvalid

_FRONT = "---\n"


def _extensions(config: dict) -> tuple[list[str], dict]:
    names, configs = [], {}
    for item in config.get("markdown_extensions") or []:
        if isinstance(item, dict):
            for name, options in item.items():
                names.append(name)
                configs[name] = options or {}
        else:
            names.append(str(item))
    return names, configs


def content_checks(config: dict, config_dir: Path, docs: Path, today: dt.date | None = None) -> list[str]:
    """The same checks as `make check`; returns what to print. Raises SiteInvalid on errors."""
    from hooks.content_checks.checks import check_setting_placeholders
    from hooks.content_checks.site import check_site, load_site, summary
    from hooks.content_checks.style import Style, find_style_file

    md_files, other = {}, set()
    for path in sorted(docs.rglob("*")):
        if path.is_file():
            uri = path.relative_to(docs).as_posix()
            (md_files.__setitem__(uri, path) if path.suffix == ".md" else other.add(uri))
    names, configs = _extensions(config)
    site = load_site(docs, md_files, other, base=config_dir, markdown_extensions=names, mdx_configs=configs,
                     style=Style.load(find_style_file(config_dir)), today=today)
    problems = check_site(site) + check_setting_placeholders(config.get("extra"), config_dir / "mkdocs.yml")
    lines = [str(p) for p in problems]
    if problems:
        lines.append(summary(problems, len(site.pages)))
    if any(p.level == "error" for p in problems):
        raise SiteInvalid("\n".join(lines))
    return lines


# Zensical resolves src="..." in a page's HTML from the page's source file (videos.md, at
# the top of the pages), where MkDocs leaves it as written (so relative to /videos/); the
# staged page names the players' files from its source file, and both end up at /videos/.
_PLAYER_SRC = re.compile(r'(<(?:source|track)\b[^>]*\bsrc=")([^"/:]+")')


def videos_page(docs: Path) -> None:
    """The Videos page and the videos' files, made from videos/ as hooks/videos.py makes them for MkDocs."""
    from mkdocs.exceptions import PluginError

    from hooks import videos

    if (docs / videos.PAGE).exists():
        raise SiteInvalid(f"{videos.PAGE} in the pages' folder would hide the Videos page made from videos/.")
    try:
        meta, intro, entries = videos.read_catalogue(videos.catalogue_dir(None))
    except PluginError as error:
        raise SiteInvalid(str(error)) from None
    media = docs / videos.MEDIA
    media.mkdir(exist_ok=True)
    page = videos.page_markdown(meta, intro, entries)
    page = _PLAYER_SRC.sub(lambda m: f"{m.group(1)}{videos.MEDIA}/{m.group(2)}", page)
    (docs / videos.PAGE).write_text(page, encoding="utf-8")
    for entry in entries:
        for path in entry.files:
            if not (media / path.name).exists():
                shutil.copyfile(path, media / path.name)


def stage(config: dict, config_dir: Path, staging: Path) -> Path:
    """Copy the pages to staging/docs, add the Videos page, and write staging/mkdocs.yml
    pointing at them and at our overrides, building into staging/site (Zensical wants
    both inside the config's folder). Returns the config's path."""
    from hooks.content_checks.mkdocs_hook import on_config

    docs_source = (config_dir / config.get("docs_dir", "docs")).resolve()
    docs = staging / "docs"
    shutil.copytree(docs_source, docs)
    videos_page(docs)
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
    # No "Edit this page" links to the placeholder repository (hooks/content_checks/).
    links = SimpleNamespace(repo_url=staged.get("repo_url"), edit_uri=staged.get("edit_uri"))
    on_config(links)
    staged["repo_url"], staged["edit_uri"] = links.repo_url, links.edit_uri
    staged = {k: v for k, v in staged.items() if v is not None}
    path = staging / "mkdocs.yml"
    path.write_text(yaml.safe_dump(staged, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
