"""What every check reports (Problem) and what it may know about the whole site (Site)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .markdown import Page
from .style import Style


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    level: str  # "error" stops the build; "warning" does not
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"


@dataclass
class Site:
    """What the checks need to know about the whole site."""

    docs_dir: Path
    pages: dict[str, Page]  # by src_uri
    anchors: dict[str, set[str]]  # by src_uri
    other_files: set[str]  # src_uris of non-Markdown files (images, ...)
    style: Style
    today: dt.date
    docs_name: str = "site_content"  # the pages' folder, as editors know it
