"""The checks' settings: content-style.yml, next to mkdocs.yml."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]  # the repository (content-style.yml)
STYLE_FILE = "content-style.yml"


@dataclass
class Style:
    target_reading_age: float = 11
    reading_age_limit: float = 13
    hard_sentences_to_show: int = 5
    review_warn_after_months: int = 11
    review_error_after_months: int = 12
    description_max_length: int = 155
    site_paths: list[str] = field(default_factory=lambda: ["/enquiry/"])
    avoid_errors: dict[str, str] = field(default_factory=dict)
    avoid_warnings: dict[str, str] = field(default_factory=dict)
    # Easy Read pages: words to explain in the page's word list, by language code.
    easy_read_hard_words: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "Style":
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        reading = data.get("reading_age") or {}
        review = data.get("review") or {}
        avoid = data.get("avoid") or {}
        easy_read = data.get("easy_read") or {}
        style = cls(
            target_reading_age=float(reading.get("target", cls.target_reading_age)),
            reading_age_limit=float(reading.get("limit", cls.reading_age_limit)),
            hard_sentences_to_show=int(reading.get("sentences_to_show", cls.hard_sentences_to_show)),
            review_warn_after_months=int(review.get("warn_after_months", cls.review_warn_after_months)),
            review_error_after_months=int(review.get("error_after_months", cls.review_error_after_months)),
            description_max_length=int(data.get("description_max_length", cls.description_max_length)),
            site_paths=[str(p) for p in data.get("site_paths") or []],
            avoid_errors={str(k): str(v) for k, v in (avoid.get("errors") or {}).items()},
            avoid_warnings={str(k): str(v) for k, v in (avoid.get("warnings") or {}).items()},
            easy_read_hard_words={str(code): [str(w) for w in words or []]
                                  for code, words in (easy_read.get("hard_words") or {}).items()},
        )
        if style.review_warn_after_months > style.review_error_after_months:
            raise ValueError(f"{path}: review.warn_after_months must not be more than review.error_after_months")
        return style


def find_style_file(config_dir: Path) -> Path:
    """content-style.yml next to mkdocs.yml, else the repository's own."""
    for candidate in (config_dir / STYLE_FILE, ROOT / STYLE_FILE):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{STYLE_FILE} not found next to mkdocs.yml")
