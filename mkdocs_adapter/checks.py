"""MkDocs' way into the content checks (sitebuild/content_checks/), over MkDocs' own list of pages.

Errors are logged as MkDocs warnings, so `mkdocs build --strict` (what `make build` and Netlify
run) fails on them, while `mkdocs serve` keeps previewing and shows them; warnings are logged as
information and never stop a build.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from sitebuild import content_checks
from sitebuild.content_checks.front_matter import as_date
from sitebuild.content_checks.style import find_style_file
from sitebuild.settings import read_config

log = logging.getLogger("mkdocs.hooks.content_checks")


def on_files(files, config):
    pages, other = {}, set()
    for file in files:
        inclusion = getattr(file, "inclusion", None)
        if file.generated_by or not file.abs_src_path or not os.path.isfile(file.abs_src_path) \
                or (inclusion is not None and inclusion.is_excluded()):
            continue  # made by the build (the Videos page), or left out of the website (exclude_docs)
        if file.is_documentation_page():
            pages[file.src_uri] = Path(file.abs_src_path)
        else:
            other.add(file.src_uri)
    config_file = Path(config.config_file_path or "mkdocs.yml")
    site = {"docs_dir": config.docs_dir,
            "markdown_extensions": [{name: config.mdx_configs.get(name, {})} for name in config.markdown_extensions],
            # mkdocs.yml's own, not config.extra, which has the settings' defaults filled in (pipeline.py).
            "extra": read_config(config_file).get("extra")}
    report = content_checks.run(site, config_file, files=(pages, other))
    for problem in report.problems:
        # A MkDocs warning fails `mkdocs build --strict`; information never does.
        (log.warning if problem.level == "error" else log.info)(str(problem))
    if report.problems:
        log.info(report.summary)
    return files


def on_page_markdown(markdown, page, config, files):
    # "Last reviewed" (overrides/main.html) needs a real date, also when someone wrote it in quotes.
    reviewed = as_date(page.meta.get("reviewed"))
    if reviewed is not None:
        page.meta["reviewed"] = reviewed
    return markdown


def on_serve(server, config, builder):
    # `mkdocs serve` rebuilds when someone edits the word list or the thresholds.
    server.watch(str(find_style_file(Path(config.config_file_path).resolve().parent)))
    return server
