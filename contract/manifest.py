"""The contract between the site and the enquiry service: one small JSON file in the
finished site, written by the finishing step (sitebuild/finish.py) and read by formsvc/shell.py.

    site-manifest.json
    {
      "version": 1,
      "builder": "mkdocs" | "zensical",
      "exit_url": "https://...",                         # extra.exit_url (contract/site_settings.py)
      "shell": {"path": "formsvc-shell.html",            # the form's frame, in the site
                "script_hashes": ["'sha256-...'"],       # its inline scripts, as CSP sources
                "style_hashes": []},                     # its inline <style> elements
      "script_hashes": [...], "style_hashes": [...],     # the same for the whole site
      "extra": {"reply_within": ..., "emergency": ..., ...},   # the settings the form shows
      "languages": [{"code": "en", "name": "English", "english_name": "", "prefix": "",
                     "shell": "formsvc-shell.html"},             # the default language, at /
                    {"code": "cy", "name": "Cymraeg", "english_name": "Welsh", "prefix": "cy/",
                     "shell": "cy/formsvc-shell.html",           # each other one, at /cy/, with
                     "script_hashes": [...], "style_hashes": [...],   # its frame's own inline code
                     "extra": {"emergency": ..., ...}}]          # and the settings as its pages say them
    }
A manifest without "languages" is a site in English alone (DEFAULT_LANGUAGES).
"""
from __future__ import annotations

import json
from pathlib import Path

from .site_settings import SITE_SETTINGS

MANIFEST_FILE = "site-manifest.json"
SHELL_FILE = "formsvc-shell.html"
VERSION = 1
# The site's settings that the form's pages show too.
DEFAULT_LANGUAGES = [{"code": "en", "name": "English", "english_name": "", "prefix": "", "shell": SHELL_FILE}]
PASSED_THROUGH = tuple(name for name, setting in SITE_SETTINGS.items() if setting.form_shows)


def write(site_dir: Path, *, builder: str, exit_url: str, shell_scripts, shell_styles, scripts, styles,
          extra: dict, languages: list[dict] | None = None) -> dict:
    manifest = {
        "version": VERSION,
        "builder": builder,
        "exit_url": exit_url,
        "shell": {"path": SHELL_FILE, "script_hashes": sorted(shell_scripts), "style_hashes": sorted(shell_styles)},
        "script_hashes": sorted(scripts),
        "style_hashes": sorted(styles),
        "extra": {key: extra[key] for key in PASSED_THROUGH if extra.get(key) is not None},
        "languages": languages or DEFAULT_LANGUAGES,
    }
    (Path(site_dir) / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return manifest


def read(site_dir: Path) -> dict:
    """The manifest of a finished site; FileNotFoundError if the site was not built, ValueError if unreadable."""
    manifest = json.loads((Path(site_dir) / MANIFEST_FILE).read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or manifest.get("version") != VERSION:
        raise ValueError(f"{MANIFEST_FILE}: not a version {VERSION} manifest; rebuild the site")
    return manifest
