"""Let every page draw before its scripts run: each <script src> gets "defer".

Material puts its bundle, and then our extra_javascript, at the end of <body> as
plain parser-blocking scripts, so the browser holds the first paint until they have
downloaded (Lighthouse: "Eliminate render-blocking resources"). None of them writes
into the page while it is parsed: they all work on the finished page, so "defer"
only lets the text show sooner, and keeps their order. Without JavaScript nothing
changes. The exit link is a plain link and works before any script has run.
"""
from __future__ import annotations

import re

_SCRIPT = re.compile(r"<script\b(?![^>]*\b(?:defer|async|type=)\b)([^>]*\bsrc=[^>]*)>", re.IGNORECASE)


def defer_scripts(html: str) -> str:
    return _SCRIPT.sub(r"<script\1 defer>", html)


def on_post_page(output, page, config):
    return defer_scripts(output)


def on_post_template(output_content, template_name, config):
    if template_name.endswith(".html"):
        return defer_scripts(output_content)
    return output_content
