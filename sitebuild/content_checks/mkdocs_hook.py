"""The checks in every MkDocs build (loaded through hooks/content_checks_hook.py)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from .checks import _as_date
from .site import _site_from_mkdocs, check_site, setting_problems, summary
from .style import find_style_file

PLACEHOLDER_REPO = "github.com/OWNER/REPO"

log = logging.getLogger("mkdocs.hooks.content_checks")


def on_config(config):
    # Never publish "Edit this page" links to the placeholder repository. (Netlify's own
    # REPOSITORY_URL is no substitute: it can carry an access token.)
    if os.environ.get("NETLIFY") == "true" and PLACEHOLDER_REPO in str(config.repo_url or ""):
        log.info("REPO_URL is not set in Netlify's environment variables, so the pages have no 'Edit this "
                 "page' link. Set it to the repository's web address, like https://github.com/our-force/site.")
        config.repo_url = None
        config.edit_uri = None
    return config


def on_files(files, config):
    site = _site_from_mkdocs(config, files)
    problems = check_site(site) + setting_problems(config)
    for problem in problems:
        # A MkDocs warning fails `mkdocs build --strict`; information never does.
        (log.warning if problem.level == "error" else log.info)(str(problem))
    if problems:
        log.info(summary(problems, len(site.pages)))
    return files


def on_page_markdown(markdown, page, config, files):
    # "Last reviewed" (overrides/main.html) needs a real date, also when someone wrote it in quotes.
    reviewed = _as_date(page.meta.get("reviewed"))
    if reviewed is not None:
        page.meta["reviewed"] = reviewed
    return markdown


def on_serve(server, config, builder):
    # `mkdocs serve` rebuilds when someone edits the word list or the thresholds.
    server.watch(str(find_style_file(Path(config.config_file_path).resolve().parent)))
    return server
