"""What the pipeline knows about the build: mkdocs.yml as any builder reads it, the site's
settings (contract/site_settings.py) and the environment, read here once and nowhere else."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from contract.site_settings import SITE_SETTINGS, field_markers, marker, page_html

from . import BuildError
from . import languages as site_languages

ROOT = Path(__file__).resolve().parent.parent

#: Every environment variable the pipeline reads (the site's settings name theirs in contract/site_settings.py).
ENVIRONMENT = {
    "STAFF_PREVIEW": "`true`: a preview for comms staff, with **Edit this page** links (Netlify's deploy "
                     "previews; `python -m sitebuild build --staff-preview`). `mkdocs serve` is one anyway",
    "REPO_URL": "The repository's web address, which staff previews' edit links open (never Netlify's own "
                "REPOSITORY_URL, which can carry an access token)",
    "EDIT_URI": "Where in REPO_URL a page's file opens for editing; default `edit/main/<docs_dir>/`",
    "NETLIFY": "`true` on Netlify (Netlify sets it): FORMSVC_ORIGIN and the signing secret must then be set",
    "FORMSVC_ORIGIN": "The enquiry service's `https://` address, proxied at /enquiry/ (_redirects)",
    "FORMSVC_NETLIFY_SIGNING_SECRET": "Must be set on Netlify, which signs proxied requests with it; the build "
                                      "writes only its name into the site",
    "VIDEOS_DIR": "Another video catalogue than videos/ (the tests)",
    "COMPONENTS_DIR": "Another components/ folder (the tests: a made-up language's exit and template words)",
    "BUILDER": "`mkdocs` (default) or `zensical`, for `python -m sitebuild build`",
}


def env(name: str, environ: Mapping[str, str] | None = None) -> str:
    """One variable of ENVIRONMENT (or a site setting's), "" when unset."""
    known = {setting.env for setting in SITE_SETTINGS.values()}
    if name not in ENVIRONMENT and name not in known:
        raise KeyError(f"{name} is not in sitebuild/settings.py ENVIRONMENT")
    return (os.environ if environ is None else environ).get(name, "").strip()


def videos_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The video catalogue: videos/ at the top of the repository, found from this file so a copy of
    mkdocs.yml elsewhere (as some tests make) still finds it; or the folder in VIDEOS_DIR."""
    return Path(env("VIDEOS_DIR", environ) or ROOT / "videos").resolve()


def _true(value: str) -> bool:
    return value.lower() in {"1", "true", "yes"}


def site_values(extra: Mapping | None, environ: Mapping[str, str] | None = None) -> dict:
    """mkdocs.yml's extra with every site setting filled in: its environment variable, else
    mkdocs.yml, else the table's default. shown_settings: what each page marker becomes,
    for overrides/partials/site-settings.html."""
    values = dict(extra or {})
    for name, setting in SITE_SETTINGS.items():
        given = env(setting.env, environ) if setting.env else ""
        values[name] = given or (values[name] if values.get(name) is not None else setting.default)
    values["shown_settings"] = [{"marker": marker(name), "html": page_html(name, values[name])}
                                for name, setting in SITE_SETTINGS.items() if setting.on_pages] + field_markers(values)
    # Our own template words, in the default language (a staged build of another language gets its own).
    values["words"] = site_languages.words(site_languages.read(values)[0].code)
    return values


# Someone copying an example must not give readers edit links to a repository that is not ours.
_PLACEHOLDER_REPOSITORY = "/OWNER/REPO"


@dataclass
class Settings:
    site_dir: Path
    site_url: str
    exit_url: str
    extra: dict = field(default_factory=dict)  # site_values(): what the templates and the manifest get
    builder: str = "mkdocs"
    # `mkdocs serve` injects an inline live-reload script into every page; a <meta>
    # policy would block it, so the preview goes without (it sends no headers either).
    serve: bool = False
    # "Edit this page" links: only in previews for staff, never on the public site.
    repo_url: str | None = None
    edit_uri: str | None = None
    notes: list[str] = field(default_factory=list)  # information for the build's log
    on_netlify: bool = False
    formsvc_origin: str = ""
    signing_secret_set: bool = False
    videos_dir: Path = ROOT / "videos"

    @property
    def languages(self) -> list:
        """The site's languages (sitebuild/languages.py), the default first."""
        return site_languages.read(self.extra)

    @property
    def root_path(self) -> str:
        """Where the site's root is on its host ("/" unless site_url has a path)."""
        path = urlsplit(self.site_url or "/").path or "/"
        return path if path.endswith("/") else path + "/"

    def __post_init__(self):
        self.site_dir = Path(self.site_dir)
        if not self.exit_url.startswith(("https://", "http://")):
            raise BuildError(
                "extra.exit_url must be the full address of a neutral website, "
                f"starting with https:// (found {self.exit_url!r}).")

    @classmethod
    def read(cls, config: Mapping, config_dir: Path, builder: str, site_dir: Path | None = None, *,
             serve: bool = False, environ: Mapping[str, str] | None = None) -> "Settings":
        """config: mkdocs.yml's keys (read_config(), or a builder's own reading of it)."""
        extra = site_values(config.get("extra"), environ)
        docs_dir = Path(config_dir, config.get("docs_dir") or "docs").resolve()
        settings = cls(site_dir=Path(site_dir or Path(config_dir, config.get("site_dir") or "site")),
                       site_url=str(config.get("site_url") or "/"), exit_url=str(extra["exit_url"] or ""),
                       extra=extra, builder=builder, serve=serve,
                       on_netlify=env("NETLIFY", environ) == "true",
                       formsvc_origin=env("FORMSVC_ORIGIN", environ).rstrip("/"),
                       signing_secret_set=bool(env("FORMSVC_NETLIFY_SIGNING_SECRET", environ)),
                       videos_dir=videos_dir(environ))
        if serve or _true(env("STAFF_PREVIEW", environ)):
            settings._edit_links(env("REPO_URL", environ), env("EDIT_URI", environ), docs_dir, Path(config_dir))
        return settings

    def _edit_links(self, repo_url: str, edit_uri: str, docs_dir: Path, config_dir: Path) -> None:
        if not repo_url.startswith("https://") or _PLACEHOLDER_REPOSITORY in repo_url:
            self.notes.append("This preview has no 'Edit this page' links: set REPO_URL to the repository's web "
                              "address, like https://github.com/our-force/meet-your-offender.")
            return
        try:
            folder = docs_dir.relative_to(config_dir.resolve()).as_posix()
        except ValueError:
            folder = docs_dir.name
        self.repo_url = repo_url
        self.edit_uri = edit_uri or f"edit/main/{folder}/"


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
