"""The app factory's module and the light package around it."""
from __future__ import annotations

import subprocess
import sys

from testsupport import ROOT


def test_the_package_imports_the_app_only_when_asked():
    # `python -m formsvc.config` prints the README's table; with the app imported first, runpy warns.
    code = "import sys, formsvc.config; sys.exit(1 if 'flask' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "importing formsvc.config imported Flask"
    result = subprocess.run([sys.executable, "-m", "formsvc.config"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_flask_finds_the_factory_and_the_operator_commands(tmp_path):
    env = {"FORMSVC_ENV": "development", "FORMSVC_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "formsvc", "--help"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "deliver" in result.stdout and "outbox" in result.stdout
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "formsvc", "outbox", "--help"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    for command in ("list", "retry", "stats", "purge-quarantine"):
        assert command in result.stdout
