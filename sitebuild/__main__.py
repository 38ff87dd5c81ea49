"""The site pipeline as a plain command, from any folder (Makefile: `make build`, `make check`; Netlify).

    python -m sitebuild build [--builder mkdocs|zensical] [-f mkdocs.yml] [--site-dir site] [--staff-preview]
    python -m sitebuild check [-f mkdocs.yml] [PAGE ...]   # the content checks alone, for editors
    python -m sitebuild verify SITE_DIR                      # the gate alone, on a finished folder

mkdocs: runs `mkdocs build --strict`, whose events (mkdocs_adapter/) run the same steps.
zensical: prepare (content checks, Videos page) -> `zensical build --strict` -> finish ->
verify. Exit status 1, with the problems named, when a step fails.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import BuildError, content_checks, finish, prepare, verify
from .settings import Settings, env, read_config

BUILDERS = ("mkdocs", "zensical")


def _run(command: list[str], environ: dict) -> None:
    result = subprocess.run(command, env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **environ})
    if result.returncode != 0:
        raise BuildError(f"{' '.join(command[:3])} failed (exit status {result.returncode}).")


def _tool(name: str) -> list[str]:
    return [sys.executable, "-m", name] if name == "mkdocs" else [str(Path(sys.executable).with_name(name))]


def build(builder: str, config_file: Path, site_dir: Path | None, staff_preview: bool = False) -> Settings:
    config_file = Path(config_file).resolve()
    config_dir = config_file.parent
    config = read_config(config_file)
    # A flag for this build, as Netlify's deploy previews set it (settings.py ENVIRONMENT).
    environ = {"STAFF_PREVIEW": "true"} if staff_preview else {}
    settings = Settings.read(config, config_dir, builder, site_dir, environ={**os.environ, **environ})
    if builder == "mkdocs":
        _run(_tool("mkdocs") + ["build", "--strict", "-f", str(config_file), "--site-dir", str(settings.site_dir)],
             environ)
        return settings
    for line in prepare.check_content(config, config_file) + settings.notes:
        print(line)
    with tempfile.TemporaryDirectory(prefix="sitebuild-") as staging:
        staged = prepare.stage(config, config_dir, Path(staging), settings)
        _run(_tool("zensical") + ["build", "--strict", "--clean", "-f", str(staged)], environ)
        if settings.site_dir.exists():
            shutil.rmtree(settings.site_dir)
        shutil.copytree(Path(staging) / "site", settings.site_dir)
    finish.finish_pages(settings)
    finish.finish_site(settings)
    verify.verify(settings)
    print(f"Finished and verified: {settings.site_dir} (built with {builder})")
    return settings


def check(config_file: Path, paths: list[str], today: dt.date | None) -> int:
    report = content_checks.run(read_config(config_file), config_file, paths=paths or None, today=today)
    for problem in report.problems:
        print(problem)
    print(report.summary)
    return 1 if report.has_errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sitebuild", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build, finish and verify the site")
    build_cmd.add_argument("--builder", choices=BUILDERS, default=env("BUILDER") or "mkdocs")
    build_cmd.add_argument("-f", "--config-file", default="mkdocs.yml")
    build_cmd.add_argument("--site-dir", type=Path, help="default: site_dir in the config (site/)")
    build_cmd.add_argument("--staff-preview", action="store_true",
                           help="a preview for comms staff: pages get 'Edit this page' links (needs REPO_URL)")
    check_cmd = commands.add_parser("check", help="the content checks: what to fix on each page, in plain words")
    check_cmd.add_argument("paths", nargs="*", help="pages or folders to check (default: every page)")
    check_cmd.add_argument("-f", "--config-file", default="mkdocs.yml", help="the site's settings (default: mkdocs.yml)")
    check_cmd.add_argument("--today", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    verify_cmd = commands.add_parser("verify", help="check a finished site (the gate alone)")
    verify_cmd.add_argument("site_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build(args.builder, Path(args.config_file), args.site_dir, args.staff_preview)
        elif args.command == "check":
            return check(Path(args.config_file), args.paths, args.today)
        else:
            found = verify.problems(args.site_dir)
            if found:
                raise BuildError("The finished site breaks a safety promise:\n  - " + "\n  - ".join(found))
            print(f"{args.site_dir}: every check passed.")
    except content_checks.NotAPage as error:
        print(error, file=sys.stderr)
        return 2
    except BuildError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
