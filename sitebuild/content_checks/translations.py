"""Translations that stay true (EDITING.md, "Pages in Welsh, and adding a language").

A page in another language's folder (site_content/cy/how-it-works.md) names the English page it
translates (translation_of:) and a hash of the English words it was checked against
(source_hash:, written by `python -m sitebuild translated PAGE`). When the English changes, the
hash no longer matches and the translation gets a warning naming both files; a translation with
no English page is an error (the site would have a Welsh page with no English twin)."""
from __future__ import annotations

from .. import languages
from .markdown import Page
from .problem import Problem, Site


def check_translation(page: Page, site: Site) -> list[Problem]:
    language, english_uri = languages.split(page.src_uri, site.languages)
    if language.default:
        return []
    shown_english = f"{site.docs_name}/{page.meta.get(languages.TRANSLATION_OF) or english_uri}"
    english = site.docs_dir / str(page.meta.get(languages.TRANSLATION_OF) or english_uri)
    command = f"python -m sitebuild translated {page.name}"
    line = page.meta_line(languages.TRANSLATION_OF) if languages.TRANSLATION_OF in page.meta else 1
    if not english.is_file():
        return [Problem(page.name, line, "error",
                        f"This page translates {shown_english}, which does not exist. Every page in "
                        f"{language.english_name or language.code} has the same file name as its English page; "
                        "rename it, or set translation_of: to the English page's file name.")]
    recorded = page.meta.get(languages.SOURCE_HASH)
    if not recorded:
        return [Problem(page.name, line, "warning",
                        f"This page has not been checked against {shown_english} yet. When it says everything "
                        f"the English page says, run: {command}")]
    if str(recorded) != languages.source_hash(english):
        return [Problem(page.name, page.meta_line(languages.SOURCE_HASH), "warning",
                        f"{shown_english} has changed since this translation was checked against it. Change "
                        f"{page.name} to say what the English page now says, then run: {command}")]
    return []
