"""The gate: a finished site that breaks a safety promise does not build.

Every problem names the page. Checked on the finished folder, whatever built it:
- every page (the 404 page and the form's frame too) starts its <body> with the exit;
- every inline script and <style> has its hash in the policy of _headers and in the
  page's own <meta> policy; no style="" attribute (the policy would block it);
- _headers, the form's frame and the manifest exist;
- nothing is loaded from another origin: no page or stylesheet names an outside address
  in anything a browser fetches by itself (links the reader follows are fine).
"""
from __future__ import annotations

import re
from pathlib import Path

from contract import manifest

from . import BuildError, exit_button, netlify, page_facts
from .settings import Settings

_POLICY_LINE = re.compile(r"^\s+Content-Security-Policy:\s*(.*)$", re.MULTILINE)


def _sources(policy: str, directive: str) -> set[str]:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == directive:
            return set(words[1:])
    return set()


def problems(site: Path, *, serve: bool = False) -> list[str]:
    site = Path(site)
    found: list[str] = []
    headers = site / netlify.HEADERS_FILE
    if not headers.is_file():
        found.append(f"{netlify.HEADERS_FILE} is missing: the site would be served with no "
                     "Content-Security-Policy.")
        header_policies = []
    else:
        header_policies = _POLICY_LINE.findall(headers.read_text(encoding="utf-8"))
    for required in (manifest.SHELL_FILE, manifest.MANIFEST_FILE):
        if not (site / required).is_file():
            found.append(f"{required} is missing (the enquiry service needs it).")
    everywhere = header_policies[0] if header_policies else ""
    theme_styles = page_facts.injected_styles(site)
    for digest in sorted(theme_styles - _sources(everywhere, "style-src")):
        found.append(f"{netlify.HEADERS_FILE}: the style a theme script adds ({digest}) has no hash in style-src.")
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        facts = page_facts.read(path.read_text(encoding="utf-8"))
        first = facts.first_in_body
        if first is None or first[0] != "div" or "qe" not in first[1].get("class", "").split() \
                or "data-qe" not in first[1]:
            what = f"<{first[0]} class=\"{first[1].get('class', '')}\">" if first else "nothing"
            found.append(f"{rel}: the quick exit is not the first thing in <body> (found {what}). Every page "
                         f"must start with {exit_button.MARKER}...>.")
        policies = [(netlify.HEADERS_FILE, everywhere)] if header_policies else []
        if not serve:
            if not facts.meta_policies:
                found.append(f"{rel}: no <meta http-equiv=\"Content-Security-Policy\">: on a host that sends "
                             "no headers the page would have no policy.")
            policies += [("its <meta> policy", p) for p in facts.meta_policies]
            for digest in sorted(theme_styles - set().union(*(_sources(p, "style-src") for p in facts.meta_policies))):
                found.append(f"{rel}: the style a theme script adds ({digest}) has no hash in its <meta> policy.")
        for where, policy in policies:
            for digest in sorted(facts.script_hashes - _sources(policy, "script-src")):
                found.append(f"{rel}: an inline script ({digest}) has no hash in {where}'s script-src.")
            for digest in sorted(facts.style_hashes - _sources(policy, "style-src")):
                found.append(f"{rel}: an inline <style> ({digest}) has no hash in {where}'s style-src.")
        for style in facts.style_attributes:
            found.append(f"{rel}: a style=\"{style[:40]}\" attribute, which the policy blocks: use a class.")
        for what, url in facts.loads:
            found.append(f"{rel}: {what} loads {url} from another website; that tells it who is reading. "
                         "Keep the file in the site instead.")
    for path in sorted(site.rglob("*.css")):
        rel = path.relative_to(site).as_posix()
        for match in page_facts.CSS_URL.findall(path.read_text(encoding="utf-8", errors="replace")):
            url = match[0] or match[1]
            if page_facts.is_external(url):
                found.append(f"{rel}: loads {url} from another website.")
    return found


def verify(settings: Settings) -> None:
    found = problems(settings.site_dir, serve=settings.serve)
    if found:
        raise BuildError("The finished site breaks a safety promise, so it was not built:\n  - "
                          + "\n  - ".join(found))
