"""Content checks for the pages in site_content/, in plain English.

Each problem is reported as ``file:line: error|warning: what is wrong and how to fix it``.

- In every build: hooks/content_checks_hook.py is listed under ``hooks:`` in mkdocs.yml
  (mkdocs_hook.py here). Errors are logged as MkDocs warnings, so ``mkdocs build --strict``
  (Netlify, the tests) fails on them, while ``mkdocs serve`` keeps previewing and shows
  them. Warnings are logged as information and never stop a build.
- For editors, one command from the repository's folder (``make check`` runs the same)::

      .venv/bin/python -m hooks.content_checks            # every page
      .venv/bin/python -m hooks.content_checks site_content/how-it-works.md

The parts: ``markdown`` reads a page (front matter, headings, links, text, each with its
line), ``checks`` are the checks, ``style`` loads their settings from content-style.yml
(next to mkdocs.yml; EDITING.md explains every check to comms staff), ``site`` runs them
over a site, ``mkdocs_hook`` and ``__main__`` are the two ways in.
"""
