"""The app factory's module and the light package around it."""
from __future__ import annotations


def test_the_package_imports_the_app_only_when_asked(run_python):
    # `python -m formsvc.config` prints docs/deploying.md's table; with the app imported first, runpy warns.
    code = "import sys, formsvc.config; sys.exit(1 if 'flask' in sys.modules else 0)"
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr or "importing formsvc.config imported Flask"
    result = run_python("-m", "formsvc.config")
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_flask_finds_the_factory_and_the_operator_commands(tmp_path, run_python):
    env = {"FORMSVC_ENV": "development", "FORMSVC_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = run_python("-m", "flask", "--app", "formsvc", "--help", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "deliver" in result.stdout and "outbox" in result.stdout
    result = run_python("-m", "flask", "--app", "formsvc", "outbox", "--help", env=env, timeout=60)
    for command in ("list", "retry", "stats", "purge-quarantine"):
        assert command in result.stdout
