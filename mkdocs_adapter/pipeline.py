"""MkDocs' way into the site pipeline (sitebuild/): settings, then finishing and the gate.

- startup/config: the pipeline's settings (a wrong extra.exit_url stops the build before anything
  is written); the templates get the site's settings with their defaults; "Edit this page" links
  only in a preview for staff (`mkdocs serve`, or STAFF_PREVIEW=true; with REPO_URL set);
- each page, and the 404 page, is finished as MkDocs writes it; after the build the site-wide
  files are written and the finished folder is checked.

Zensical ignores hooks, so `python -m sitebuild build --builder zensical` calls the very same
functions around it.
"""
from __future__ import annotations

import logging
from pathlib import Path

from mkdocs.exceptions import PluginError

from sitebuild import BuildError, finish, verify
from sitebuild.settings import Settings

log = logging.getLogger("mkdocs.hooks.sitebuild")

_serve = False


def on_startup(command, dirty):
    global _serve
    _serve = command == "serve"


def _settings(config) -> Settings:
    try:
        return Settings.read(config, Path(config.config_file_path or ".").resolve().parent, "mkdocs", serve=_serve)
    except BuildError as error:
        raise PluginError(str(error)) from None


def on_config(config):
    settings = _settings(config)
    config.extra.update(settings.extra)
    config.repo_url, config.edit_uri = settings.repo_url, settings.edit_uri
    for note in settings.notes:
        log.info(note)
    return config


def on_post_page(output, page, config):
    try:
        return finish.finish_page(output, page.file.dest_uri, _settings(config))
    except BuildError as error:
        raise PluginError(str(error)) from None


def on_post_template(output_content, template_name, config):
    # Static templates: 404.html (not sitemap.xml).
    if not template_name.endswith(".html"):
        return output_content
    try:
        return finish.finish_page(output_content, template_name, _settings(config))
    except BuildError as error:
        raise PluginError(str(error)) from None


def on_post_build(config):
    settings = _settings(config)
    try:
        finish.finish_site(settings)
        verify.verify(settings)
    except BuildError as error:
        raise PluginError(str(error)) from None
