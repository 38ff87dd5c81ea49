"""``python -m hooks.content_checks [PAGE ...]``: the checks for editors (``make check``)."""
from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

from .site import _site_from_mkdocs, check_site, display_path, setting_problems, summary


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m hooks.content_checks",
        description="Check the pages in site_content/ and say in plain words what to fix.",
    )
    parser.add_argument("paths", nargs="*", help="pages or folders to check (default: every page)")
    parser.add_argument("-f", "--config-file", default="mkdocs.yml", help="the site's settings (default: mkdocs.yml)")
    parser.add_argument("--today", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    config = load_config(config_file=args.config_file)
    site = _site_from_mkdocs(config, get_files(config), today=args.today)
    only = None
    if args.paths:
        only = set()
        docs = Path(config.docs_dir).resolve()
        for given in args.paths:
            target = Path(given).resolve()
            matched = {uri for uri, page in site.pages.items()
                       if page.path.resolve() == target or target in page.path.resolve().parents}
            if not matched:
                print(f"{given}: not a page in {display_path(docs, Path.cwd())}/", file=sys.stderr)
                return 2
            only |= matched
    problems = check_site(site, only)
    if only is None:
        problems += setting_problems(config)
    for problem in problems:
        print(problem)
    print(summary(problems, len(only) if only is not None else len(site.pages)))
    return 1 if any(p.level == "error" for p in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
