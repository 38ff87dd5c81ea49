"""Content checks for the pages in site_content/, in plain English, whatever builds the site.

Each problem is reported as ``file:line: error|warning: what is wrong and how to fix it``.
Errors stop the build; warnings never do.

- In every build: ``python -m sitebuild build`` runs them first (prepare.py); MkDocs runs
  them from mkdocs_adapter/, which logs errors as MkDocs warnings, so ``mkdocs build --strict``
  fails on them while ``mkdocs serve`` keeps previewing and shows them.
- For editors (EDITING.md; ``make check`` runs the same)::

      .venv/bin/python -m sitebuild check            # every page
      .venv/bin/python -m sitebuild check site_content/how-it-works.md

The parts: ``markdown`` reads a page (front matter, headings, links, text, each with its
line); one module per check that EDITING.md explains: ``links`` (links, images, link text),
``headings``, ``front_matter`` (description, review date, owner), ``words`` (words to avoid),
``reading_age``, ``easy_read`` (the Easy Read format, on pages with ``easy_read: true``, instead of
the reading age), ``placeholders`` (settings pages show, contract/site_settings.py); ``style``
loads their settings from content-style.yml (next to mkdocs.yml); ``site`` runs them over a
site (``run``) and says how it went.
"""
from .site import NotAPage, Report, run

__all__ = ["NotAPage", "Report", "run"]
