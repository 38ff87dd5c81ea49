"""JavaScript that the browser tests run in the page (Playwright's ``page.evaluate``).

Each script is a function expression in its own file in tests/js/, readable and
checkable as JavaScript rather than as a long Python string.
"""
from __future__ import annotations

from . import ROOT

SCRIPTS = ROOT / "tests" / "js"


def script(name: str) -> str:
    """The function expression in tests/js/<name>.js, for ``page.evaluate``."""
    return (SCRIPTS / f"{name}.js").read_text(encoding="utf-8")
