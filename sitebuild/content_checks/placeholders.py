"""Settings that pages show, still at their placeholder (EDITING.md, "Settings still at their placeholder").

Which settings, their placeholders and what to set them to: contract/site_settings.py.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from contract.site_settings import SITE_SETTINGS

from .. import languages
from .problem import Problem


def check_setting_placeholders(extra: Mapping | None, config_file: Path, name: str = "mkdocs.yml") -> list[Problem]:
    """A warning naming mkdocs.yml (file and line) for each such setting that is unset, empty or
    still its placeholder. extra: mkdocs.yml's own `extra`, before the defaults are filled in."""
    extra = extra or {}
    try:
        lines = config_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    shown = Path(name).name
    problems = []
    several_languages = len(extra.get("languages") or []) > 1
    for key, setting in SITE_SETTINGS.items():
        if not setting.placeholder or (setting.translations and not several_languages):
            continue
        value = extra.get(key)
        text = "" if value is None else str(value).strip()
        if text and text != setting.default:
            continue
        line = next((n for n, line in enumerate(lines, 1) if re.match(rf"\s*{key}\s*:", line)), None)
        what = f"{setting.meaning[0].lower()}{setting.meaning[1:]}, like: {key}: {setting.example}"
        advice = f"Set it to {what}"
        if value is None:
            line = next((n for n, line in enumerate(lines, 1) if re.match(r"extra\s*:", line)), 1)
            state = (f'is not set, so pages show the placeholder "{setting.default}"' if setting.default
                     else "is not set, so pages ask readers to ask us instead" if setting.when_empty
                     else "is not set")
            advice = f"Add a line under extra: with {what}"
        elif text:
            state = f'is still the placeholder "{setting.default}"'
        else:
            state = "is empty"
        if setting.translations:
            # Not shown on pages: say what it stands for instead.
            state = ("is not set: no qualified translator's check of the pages and the enquiry form's words in other "
                     "languages is recorded"
                     if value is None or not text else "still says nobody has checked the translations")
        end = "" if advice.endswith(".") else "."  # an example that is a sentence has its own full stop
        problems.append(Problem(name, line or 1, "warning", f"The setting extra.{key} in {shown} {state}. {advice}{end}"))
    return problems + _untranslated(extra, lines, name)


def _untranslated(extra: Mapping, lines: list[str], name: str) -> list[Problem]:
    """A warning for each setting our force has set in English but not in another language: that
    language's pages show the English words (marked as English), which its readers did not choose."""
    shown, problems = Path(name).name, []
    for key, language in languages.untranslated_settings(extra):
        line = next((n for n, text in enumerate(lines, 1) if re.match(rf"\s*{key}\s*:", text)), 1)
        called = language.english_name or language.code
        problems.append(Problem(name, line, "warning", (
            f"The setting extra.{key} in {shown} has no {called} words, so {called} pages show it in English. "
            f"In {shown}, under languages:, find the entry with code: {language.code} and add a line with the "
            f"same words in {called}, like:  {key}: <the words in {called}>")))
    return problems
