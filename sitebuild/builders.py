"""The builders, driven as commands: `mkdocs build` or `zensical build` of a project."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from . import BuildError

BUILDERS = ("mkdocs", "zensical")


def _tool(name: str) -> list[str]:
    return [sys.executable, "-m", name] if name == "mkdocs" else [str(Path(sys.executable).with_name(name))]


def run_builder(builder: str, config_file: Path, environ: dict | None = None, site_dir: Path | None = None) -> None:
    """`<builder> build --strict` of config_file (into site_dir, or the config's own site_dir)."""
    command = _tool(builder) + ["build", "--strict", "-f", str(config_file)]
    if builder == "zensical":
        command.append("--clean")  # Zensical has no --site-dir: the staged config names it
    elif site_dir is not None:
        command += ["--site-dir", str(site_dir)]
    result = subprocess.run(command, env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(environ or {})})
    if result.returncode != 0:
        raise BuildError(f"{' '.join(command[:3])} failed (exit status {result.returncode}).")
