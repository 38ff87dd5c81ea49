"""The finishing step: the same for every builder's output.

finish_page() runs on each built HTML page (MkDocs: from mkdocs_adapter/ as it writes it; Zensical:
over the folder afterwards); finish_site() then writes the files made from the whole site.
"""
from __future__ import annotations

import re
from pathlib import Path

from contract import csp, manifest

from . import BuildError, exit_button, languages, markup, netlify, page_facts
from .settings import Settings

NOT_FOUND_PAGE = "404.html"
_CHARSET = re.compile(r"<meta charset=[^>]*>", re.IGNORECASE)
_HEAD_OPEN = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_TITLE = re.compile(r"<title>.*?</title>", re.DOTALL)
# overrides/404.html marks its own text, which the form's shell replaces with the form.
_CONTENT = re.compile(r"<!--page:content-->.*?<!--/page:content-->", re.DOTALL)


def assets_base(rel: str, settings: Settings) -> str:
    """How a page reaches the site's root: relatively from a folder, like the theme's own
    links, but from the root for the 404 page, which is shown at any address."""
    if languages.split(rel, settings.languages)[1] == NOT_FOUND_PAGE:
        return settings.root_path
    return "../" * rel.count("/")


def _after_charset(html: str, tags: str) -> str:
    # First in <head>, before any script or style it governs.
    match = _CHARSET.search(html) or _HEAD_OPEN.search(html)
    if match is None:
        return html
    return html[: match.end()] + tags + html[match.end():]


def page_policy(facts: page_facts.PageFacts, where: str, *, meta: bool, theme_styles=()) -> str:
    frames = {page_facts.frame_origin(url, where) for url in facts.embeds}
    return csp.policy(facts.script_hashes, frames, facts.style_hashes | set(theme_styles), meta=meta)


def add_meta_policy(html: str, rel: str, theme_styles=()) -> str:
    """The page's own policy (its own inline scripts and players only) in a <meta>
    element, for a host that sends no headers. Last: it hashes the page as finished.
    theme_styles: page_facts.injected_styles() of the site."""
    if 'http-equiv="Content-Security-Policy"' in html:
        return html
    policy = page_policy(page_facts.read(html), rel, meta=True, theme_styles=theme_styles)
    return _after_charset(html, f'<meta http-equiv="Content-Security-Policy" content="{policy}">')


def finish_page(html: str, rel: str, settings: Settings) -> str:
    """One built page, finished. rel: its path in the site ("how-it-works/index.html",
    "cy/how-it-works/index.html")."""
    html = markup.fix_page(html, rel)
    # Its language: <html lang>, the alternates, the link to the other language, our words.
    language = languages.split(rel, settings.languages)[0]
    html = languages.finish_page(html, rel, settings.languages, settings.site_url, settings.root_path)
    html = exit_button.insert(html, settings.exit_url, assets_base(rel, settings), language.code)
    if 'name="referrer"' not in html:
        # What the Referrer-Policy header says, for a host that sends no headers.
        html = _after_charset(html, '<meta name="referrer" content="same-origin">')
    if not settings.serve:
        html = add_meta_policy(html, rel, page_facts.injected_styles(settings.site_dir))
    return html


def finish_pages(settings: Settings, under: str = "") -> None:
    """finish_page() over a built folder (for builders without hooks): the default language's
    pages, or with under="cy/" that language's."""
    wanted = languages.split(under, settings.languages)[0] if under else settings.languages[0]
    for path in sorted((settings.site_dir / under).rglob("*.html")):
        rel = path.relative_to(settings.site_dir).as_posix()
        language, inner = languages.split(rel, settings.languages)
        if inner == manifest.SHELL_FILE or language != wanted:
            continue
        path.write_text(finish_page(path.read_text(encoding="utf-8"), rel, settings), encoding="utf-8")


def write_shell(site: Path, prefix: str = "") -> str:
    """The form's frame, made from the finished 404 page: the site's header, exit, menu and
    footer, with markers where the service puts its title, head and content (formsvc/shell.py).
    Both builders make a 404 page with links from the site's root, as the form needs."""
    not_found = site / prefix / NOT_FOUND_PAGE
    if not not_found.is_file():
        raise BuildError(f"{NOT_FOUND_PAGE} is missing, so the enquiry form's frame cannot be made from it.")
    html = not_found.read_text(encoding="utf-8")
    if len(_CONTENT.findall(html)) != 1 or len(_TITLE.findall(html)) != 1:
        raise BuildError(f"{NOT_FOUND_PAGE}: expected one <title> and one <!--page:content--> ... "
                          "<!--/page:content--> (overrides/404.html), to make the form's frame from it.")
    html = _TITLE.sub("<title><!--formsvc:title--></title>", html)
    html = _CONTENT.sub("<!--formsvc:content-->", html)
    # The frame file is not a page: kept out of search results even where no X-Robots-Tag
    # header is sent (formsvc/shell.py takes this out of the form's own pages).
    html = re.sub(r"</head\s*>", lambda m: '<meta name="robots" content="noindex" data-shell-only>'
                  "<!--formsvc:head-->" + m.group(0), html, count=1)
    (site / prefix / manifest.SHELL_FILE).write_text(html, encoding="utf-8")
    return html


def write_robots(site: Path, settings: Settings) -> None:
    base = settings.site_url if settings.site_url.endswith("/") else settings.site_url + "/"
    # Each language's build writes its own sitemap (/sitemap.xml, /cy/sitemap.xml).
    sitemaps = "".join(f"Sitemap: {base}{language.prefix}sitemap.xml\n" for language in settings.languages)
    (site / "robots.txt").write_text(f"User-agent: *\nAllow: /\n\n{sitemaps}", encoding="utf-8")


def write_headers(site: Path) -> tuple[set[str], set[str]]:
    """_headers from every finished page; returns the site's script and style hashes."""
    scripts, styles, frames = set(), page_facts.injected_styles(site), {}
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    for rel in pages:
        facts = page_facts.read((site / rel).read_text(encoding="utf-8"))
        scripts |= facts.script_hashes
        styles |= facts.style_hashes
        if facts.embeds:
            frames[rel] = {page_facts.frame_origin(url, rel) for url in facts.embeds}
    netlify.write_headers(site, scripts, styles, frames, pages)
    return scripts, styles


def finish_site(settings: Settings) -> dict:
    """After every page is finished: assets, robots.txt, the form's shell, _headers,
    _redirects and the manifest. Returns the manifest."""
    site = settings.site_dir
    exit_button.publish(site)
    write_robots(site, settings)
    shell = page_facts.read(write_shell(site))
    # Each other language's frame, from its own 404 page, for the form in that language, with
    # its inline scripts and styles and the settings the form shows, as that language's pages do.
    own = {}
    for language in settings.languages[1:]:
        frame = page_facts.read(write_shell(site, language.prefix))
        own[language.code] = {"script_hashes": sorted(frame.script_hashes), "style_hashes": sorted(frame.style_hashes),
                              "extra": languages.form_settings(settings.extra, language)}
    scripts, styles = write_headers(site)
    netlify.write_redirects(site, settings)
    return manifest.write(site, builder=settings.builder, exit_url=settings.exit_url,
                          shell_scripts=shell.script_hashes,
                          # The frame loads the theme's scripts, and with them the styles they add.
                          shell_styles=shell.style_hashes | page_facts.injected_styles(site),
                          scripts=scripts, styles=styles, extra=settings.extra,
                          languages=[{"code": lang.code, "name": lang.name, "english_name": lang.english_name,
                                      "prefix": lang.prefix, "shell": lang.prefix + manifest.SHELL_FILE,
                                      **own.get(lang.code, {})}
                                     for lang in settings.languages])
