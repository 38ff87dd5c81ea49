"""The app factory's module and the light package around it."""
from __future__ import annotations


def test_the_csp_can_be_imported_without_flask(run_python):
    # The site's build reads formsvc/csp.py; importing the package must not pull in Flask.
    code = "import sys, formsvc.csp; sys.exit(1 if 'flask' in sys.modules else 0)"
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr or "importing formsvc.csp imported Flask"


def test_flask_finds_the_factory_and_the_operator_commands(tmp_path, run_python):
    env = {"FORMSVC_ENV": "development", "FORMSVC_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = run_python("-m", "flask", "--app", "formsvc", "--help", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "deliver" in result.stdout and "outbox" in result.stdout
    result = run_python("-m", "flask", "--app", "formsvc", "outbox", "--help", env=env, timeout=60)
    for command in ("list", "retry", "stats", "purge-quarantine"):
        assert command in result.stdout
