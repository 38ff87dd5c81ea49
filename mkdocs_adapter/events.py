"""MkDocs' way into the site pipeline (sitebuild/): the finishing step and the gate.

Each page, and the 404 page, is finished as MkDocs writes it; after the build the
site-wide files are written and the finished folder is checked. Zensical ignores hooks,
so `python -m sitebuild build --builder zensical` calls the very same functions.
"""
from __future__ import annotations

from mkdocs.exceptions import PluginError

from sitebuild import finish, verify
from sitebuild.settings import Settings, SiteInvalid

_serve = False


def on_startup(command, dirty):
    global _serve
    _serve = command == "serve"


def _settings(config) -> Settings:
    try:
        return Settings.from_mkdocs(config, serve=_serve)
    except SiteInvalid as error:
        raise PluginError(str(error)) from None


def on_config(config):
    _settings(config)  # a wrong extra.exit_url stops the build before anything is written
    return config


def on_post_page(output, page, config):
    try:
        return finish.finish_page(output, page.file.dest_uri, _settings(config))
    except SiteInvalid as error:
        raise PluginError(str(error)) from None


def on_post_template(output_content, template_name, config):
    # Static templates: 404.html (not sitemap.xml).
    if not template_name.endswith(".html"):
        return output_content
    try:
        return finish.finish_page(output_content, template_name, _settings(config))
    except SiteInvalid as error:
        raise PluginError(str(error)) from None


def on_post_build(config):
    settings = _settings(config)
    try:
        finish.finish_site(settings)
        verify.verify(settings)
    except SiteInvalid as error:
        raise PluginError(str(error)) from None
