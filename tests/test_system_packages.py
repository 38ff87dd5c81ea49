"""`make system-packages` (tools/system-packages.sh) on simulated machines: the tools hidden from PATH,
apt-get replaced by a recorder. What it asks Debian for is what a fresh machine would be asked for."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from testsupport import ROOT

SCRIPT = ROOT / "tools" / "system-packages.sh"
#: Each tool the project needs, by the command that shows it is there.
TOOLS = ["chromium", "redis-server", "java", "gpg", "openssl", "npm", "pg_ctl", "nginx"]
#: What the script itself runs; always there.
BASICS = ["sh", "id", "env"]


def machine(tmp_path: Path, present: list[str]) -> tuple[dict, Path]:
    """A PATH holding only the basics, the ``present`` tools (as stubs) and a recording apt-get."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in BASICS:
        (bin_dir / name).symlink_to(shutil.which(name))
    for name in present:
        stub = bin_dir / name
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    log = tmp_path / "apt.log"
    recorder = bin_dir / "apt-get"
    recorder.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    recorder.chmod(0o755)
    # PG_ROOT and SBIN: empty folders, so Debian's /usr/lib/postgresql and /usr/sbin/nginx on this
    # machine do not count.
    (tmp_path / "pg").mkdir()
    (tmp_path / "sbin").mkdir()
    return {"PATH": str(bin_dir), "PG_ROOT": str(tmp_path / "pg"), "SBIN": str(tmp_path / "sbin")}, log


def asked_for(tmp_path: Path, present: list[str], **env) -> list[str]:
    environment, log = machine(tmp_path, present)
    result = subprocess.run([shutil.which("sh"), str(SCRIPT)], env={**environment, **env},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return log.read_text().splitlines() if log.exists() else []


def installed(calls: list[str]) -> set[str]:
    """The packages named by the `install` calls."""
    words = [call.split() for call in calls if " install " in f" {call} "]
    return {word for call in words for word in call if not word.startswith("-") and word != "install"}


def test_a_machine_with_everything_asks_for_nothing(tmp_path):
    assert asked_for(tmp_path, TOOLS) == []


def test_a_fresh_machine_whose_nodejs_ships_npm_never_asks_debian_for_npm(tmp_path):
    # The machine image of this project: Node.js with its own npm; Debian's npm would conflict with it.
    calls = asked_for(tmp_path, ["npm", "java", "gpg", "openssl"])
    assert calls[0] == "update -qq"
    assert installed(calls) == {"chromium", "redis-server", "postgresql", "nginx"}
    assert not {"npm", "nodejs"} & installed(calls)


def test_each_missing_tool_is_asked_for_by_its_own_package(tmp_path):
    packages = {"chromium": "chromium", "redis-server": "redis-server", "java": "default-jre-headless",
                "gpg": "gnupg", "openssl": "openssl", "pg_ctl": "postgresql", "nginx": "nginx"}
    for number, (tool, package) in enumerate(packages.items()):
        folder = tmp_path / str(number)
        folder.mkdir()
        others = [t for t in TOOLS if t != tool]
        assert installed(asked_for(folder, others)) == {package}, tool


def test_node_and_npm_only_when_there_is_no_npm(tmp_path):
    assert installed(asked_for(tmp_path, [t for t in TOOLS if t != "npm"])) == {"nodejs", "npm"}


def test_postgresql_outside_path_counts_as_present(tmp_path):
    environment, log = machine(tmp_path, [t for t in TOOLS if t != "pg_ctl"])
    bindir = Path(environment["PG_ROOT"]) / "15" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "pg_ctl").write_text("#!/bin/sh\n")
    (bindir / "pg_ctl").chmod(0o755)
    subprocess.run([shutil.which("sh"), str(SCRIPT)], env=environment, check=True, capture_output=True)
    assert not log.exists()


def test_nginx_in_sbin_outside_path_counts_as_present(tmp_path):
    environment, log = machine(tmp_path, [t for t in TOOLS if t != "nginx"])
    nginx = Path(environment["SBIN"]) / "nginx"
    nginx.write_text("#!/bin/sh\n")
    nginx.chmod(0o755)
    subprocess.run([shutil.which("sh"), str(SCRIPT)], env=environment, check=True, capture_output=True)
    assert not log.exists()
