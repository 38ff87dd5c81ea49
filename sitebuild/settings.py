"""What the pipeline needs to know from mkdocs.yml, whichever builder read it."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent


class SiteInvalid(Exception):
    """The finished site breaks a promise; the message names the page and what to do."""


@dataclass
class Settings:
    site_dir: Path
    site_url: str
    exit_url: str
    extra: dict = field(default_factory=dict)
    builder: str = "mkdocs"
    # `mkdocs serve` injects an inline live-reload script into every page; a <meta>
    # policy would block it, so the preview goes without (it sends no headers either).
    serve: bool = False

    @property
    def root_path(self) -> str:
        """Where the site's root is on its host ("/" unless site_url has a path)."""
        path = urlsplit(self.site_url or "/").path or "/"
        return path if path.endswith("/") else path + "/"

    def __post_init__(self):
        self.site_dir = Path(self.site_dir)
        if not self.exit_url.startswith(("https://", "http://")):
            raise SiteInvalid(
                "extra.exit_url in mkdocs.yml must be the full address of a neutral website, "
                f"starting with https:// (found {self.exit_url!r}).")

    @classmethod
    def from_mkdocs(cls, config, serve: bool = False) -> "Settings":
        extra = dict(config.extra or {})
        return cls(site_dir=Path(config.site_dir), site_url=str(config.site_url or "/"),
                   exit_url=str(extra.get("exit_url") or ""), extra=extra, builder="mkdocs", serve=serve)

    @classmethod
    def from_config(cls, config: dict, config_dir: Path, builder: str, site_dir: Path | None = None) -> "Settings":
        extra = dict(config.get("extra") or {})
        return cls(site_dir=Path(site_dir or config_dir / config.get("site_dir", "site")),
                   site_url=str(config.get("site_url") or "/"), exit_url=str(extra.get("exit_url") or ""),
                   extra=extra, builder=builder)


class _Loader(yaml.SafeLoader):
    """mkdocs.yml as both builders read it: !ENV [NAME, ..., default] takes the first
    variable that is set, else the default; other tags (!!python/name) become None."""


def _env(loader, node):
    if isinstance(node, yaml.ScalarNode):
        names, default = [loader.construct_scalar(node)], None
    else:
        values = loader.construct_sequence(node)
        names, default = values[:-1] if len(values) > 1 else values, values[-1] if len(values) > 1 else None
    for name in names:
        if os.environ.get(str(name)):
            return os.environ[str(name)]
    return default


_Loader.add_constructor("!ENV", _env)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def read_config(path: Path) -> dict:
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_Loader) or {}
