"""MkDocs hook (mkdocs.yml ``hooks:``): the content checks in every build.

MkDocs loads a hook by its path with hooks/ on sys.path while it does, so the package
next to this file is imported as ``content_checks``; see hooks/content_checks/.
"""
from content_checks.mkdocs_hook import on_config, on_files, on_page_markdown, on_serve

__all__ = ["on_config", "on_files", "on_page_markdown", "on_serve"]
