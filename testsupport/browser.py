"""What the browser tests share: the JavaScript they run in the page (Playwright's ``page.evaluate``),
and waiting for a page to finish loading what it asked for (``Traffic``).

Each script is a function expression in its own file in tests/js/, readable and
checkable as JavaScript rather than as a long Python string.
"""
from __future__ import annotations

import time

from . import ROOT

SCRIPTS = ROOT / "tests" / "js"


def script(name: str) -> str:
    """The function expression in tests/js/<name>.js, for ``page.evaluate``."""
    return (SCRIPTS / f"{name}.js").read_text(encoding="utf-8")


class Traffic:
    """What a page has asked the network for and not yet had answered, so a walk over many pages can
    wait for each to finish what it started (``settle``) before it looks or moves on.

    Playwright's own "networkidle" waits for 500 ms with no request at all, and a <video
    preload="metadata"> keeps its request open once it has the metadata (Chromium suspends it),
    so the Videos page waited 15 s each time. Media is left out; everything a page's scripts,
    styles or search ask for still counts, including what its workers fetch."""

    def __init__(self, page):
        self.page = page
        self.pending: set = set()
        self.last = time.monotonic()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request) -> None:
        self.last = time.monotonic()
        if request.resource_type != "media":
            self.pending.add(request)

    def _ended(self, request) -> None:
        self.last = time.monotonic()
        self.pending.discard(request)

    def settle(self, quiet_ms: int = 150, timeout_s: float = 10) -> None:
        """Wait until nothing but media is in flight and nothing has started or ended for ``quiet_ms``."""
        deadline = time.monotonic() + timeout_s
        while self.pending or time.monotonic() - self.last < quiet_ms / 1000:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.page.url} still loading after {timeout_s} s: "
                                     f"{sorted(r.url for r in self.pending)}")
            self.page.wait_for_timeout(25)  # Playwright delivers the page's events while it waits
