"""Put the quick exit at the very start of every page's body.

"Exit this page" must be the first thing a keyboard user reaches, before
Material's own "Skip to content" link. Material gives no block that early in
<body>, so rather than copying base.html (and losing easy upgrades) we render
our partial, overrides/partials/exit-this-page.html, and place it right after
the <body> tag of every page, the 404 page and the enquiry form's shell.

This hook also gives the enquiry form's shell the same absolute links as the
404 page, because the form is served from /enquiry/, not from the site root.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from mkdocs.commands.build import get_context
from mkdocs.exceptions import PluginError

SHELL_TEMPLATE = "formsvc-shell.html"
PARTIAL = "partials/exit-this-page.html"
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)

_env = None


def on_config(config):
    url = str(config.extra.get("exit_url") or "")
    if not url.startswith("https://") and not url.startswith("http://"):
        raise PluginError(
            "extra.exit_url in mkdocs.yml must be the full address of a neutral website, "
            f"starting with https:// (found {url!r})."
        )
    return config


def on_env(env, config, files):
    global _env
    _env = env
    return env


def on_template_context(context, template_name, config):
    if template_name == SHELL_TEMPLATE:
        # Links relative to the site root, like the 404 page, so they work from /enquiry/.
        root = urlsplit(config.site_url or "/").path or "/"
        context.update(get_context(context["nav"], context["pages"], config, base_url=root))
    return context


def _insert_exit(html: str, config) -> str:
    match = _BODY_OPEN.search(html)
    if not match:
        return html
    partial = _env.get_template(PARTIAL).render(config=config, exit_url=config.extra["exit_url"])
    return html[: match.end()] + partial + html[match.end():]


def on_post_page(output, page, config):
    return _insert_exit(output, config)


def on_post_template(output_content, template_name, config):
    if template_name.endswith(".html"):
        return _insert_exit(output_content, config)
    return output_content
