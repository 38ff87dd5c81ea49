"""The site pipeline as a plain command (Makefile: `make build [BUILDER=zensical]`).

    python -m sitebuild build [--builder mkdocs|zensical] [-f mkdocs.yml] [--site-dir site]
    python -m sitebuild verify SITE_DIR      # the gate alone, on a finished folder

mkdocs: runs `mkdocs build --strict`, whose hooks (hooks/finish.py) finish and verify.
zensical: prepare (content checks, Videos page) -> `zensical build --strict` -> finish ->
verify, the same functions. Exit status 1, with the problems named, when a step fails.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import finish, prepare, verify
from .settings import Settings, SiteInvalid, read_config

BUILDERS = ("mkdocs", "zensical")


def _run(command: list[str]) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(command, env=env)
    if result.returncode != 0:
        raise SiteInvalid(f"{' '.join(command[:3])} failed (exit status {result.returncode}).")


def _tool(name: str) -> list[str]:
    return [sys.executable, "-m", name] if name == "mkdocs" else [str(Path(sys.executable).with_name(name))]


def build(builder: str, config_file: Path, site_dir: Path | None) -> Settings:
    config_file = Path(config_file).resolve()
    config_dir = config_file.parent
    config = read_config(config_file)
    settings = Settings.from_config(config, config_dir, builder, site_dir)
    if builder == "mkdocs":
        _run(_tool("mkdocs") + ["build", "--strict", "-f", str(config_file), "--site-dir", str(settings.site_dir)])
        return settings
    for line in prepare.content_checks(config, config_dir, (config_dir / config.get("docs_dir", "docs")).resolve()):
        print(line)
    with tempfile.TemporaryDirectory(prefix="sitebuild-") as staging:
        staged = prepare.stage(config, config_dir, Path(staging))
        _run(_tool("zensical") + ["build", "--strict", "--clean", "-f", str(staged)])
        if settings.site_dir.exists():
            shutil.rmtree(settings.site_dir)
        shutil.copytree(Path(staging) / "site", settings.site_dir)
    finish.finish_pages(settings)
    finish.finish_site(settings)
    verify.verify(settings)
    print(f"Finished and verified: {settings.site_dir} (built with {builder})")
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sitebuild", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build, finish and verify the site")
    build_cmd.add_argument("--builder", choices=BUILDERS, default=os.environ.get("BUILDER") or "mkdocs")
    build_cmd.add_argument("-f", "--config-file", default="mkdocs.yml")
    build_cmd.add_argument("--site-dir", type=Path, help="default: site_dir in the config (site/)")
    verify_cmd = commands.add_parser("verify", help="check a finished site (the gate alone)")
    verify_cmd.add_argument("site_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build(args.builder, Path(args.config_file), args.site_dir)
        else:
            found = verify.problems(args.site_dir)
            if found:
                raise SiteInvalid("The finished site breaks a safety promise:\n  - " + "\n  - ".join(found))
            print(f"{args.site_dir}: every check passed.")
    except SiteInvalid as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
