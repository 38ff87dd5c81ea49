"""Name the parts of Material's page that it leaves unnamed.

Material opens its menu drawer and its search with hidden checkboxes (#__drawer,
#__search) and <label>s styled as buttons, and marks the search box up as a
role="dialog" with no name. Our site.css makes the two checkboxes reachable with
the Tab key on small screens (a label cannot take focus), so they need names a
screen reader can say; and axe (aria-dialog-name) and Lighthouse want the dialog
named. These elements sit outside any template block we could extend, so, as
hooks/quick_exit.py does for the exit link, we add the attributes to the rendered
HTML of every page, the 404 page and the enquiry form's shell, and stop the build
if Material's markup changes so that a fix would silently stop applying.
"""
from __future__ import annotations

import re

from mkdocs.exceptions import PluginError

# (what to find, the attribute to add, what it is for)
FIXES = (
    (re.compile(r'<input class="md-toggle" data-md-toggle="drawer"[^>]*>'), 'aria-label="Menu"',
     "the menu button's checkbox"),
    (re.compile(r'<input class="md-toggle" data-md-toggle="search"[^>]*>'), 'aria-label="Search"',
     "the search button's checkbox"),
    (re.compile(r'<div class="md-search" data-md-component="search" role="dialog"[^>]*>'), 'aria-label="Search"',
     "the search dialog"),
)


# A section of the menu ("About this site") opens as a panel on small screens, with a
# checkbox that has two labels (the row and the panel's title). Name it once, by the row.
_NAV_TOGGLE = re.compile(r'<input class="md-nav__toggle md-toggle ?" type="checkbox" id="(__nav_[0-9_]+)"\s*>')


def _name_nav_toggle(match: re.Match, html: str) -> str:
    tag, toggle_id = match.group(0), match.group(1)
    if f'id="{toggle_id}_label"' not in html:
        return tag
    return tag[:-1].rstrip() + f' aria-labelledby="{toggle_id}_label">'


def name_material_controls(html: str, where: str = "a page") -> str:
    html = _NAV_TOGGLE.sub(lambda m: _name_nav_toggle(m, html), html)
    for pattern, attribute, what in FIXES:
        match = pattern.search(html)
        if match is None:
            raise PluginError(
                f"hooks/material_a11y.py: could not find {what} in {where}. Material's markup has "
                "changed: check the menu and search still work with the keyboard, then update this hook."
            )
        tag = match.group(0)
        if "aria-label=" in tag:
            continue
        named = tag[:-1].rstrip() + f" {attribute}>"
        html = html[: match.start()] + named + html[match.end():]
    return html


def on_post_page(output, page, config):
    return name_material_controls(output, page.file.src_uri)


def on_post_template(output_content, template_name, config):
    # Static templates: 404.html and the form's shell (not sitemap.xml and the like).
    if template_name.endswith(".html"):
        return name_material_controls(output_content, template_name)
    return output_content
