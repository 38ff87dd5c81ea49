"""Operator commands as an operator runs them: ``flask --app formsvc outbox migrate``, a real process."""
from __future__ import annotations

import os
import sqlite3

import psycopg
import pytest

from formsvc.outbox.postgresql import LATEST_VERSION
from formsvc.outbox.sqlite import SCHEMA_VERSION
from testsupport.net import free_port


@pytest.fixture
def flask_outbox(run_python):
    """``flask_outbox(*args, **settings)``: ``flask --app formsvc outbox *args`` with FORMSVC_ settings."""
    def run(*args: str, **settings: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSVC_")}
        env.update({"FORMSVC_ENV": "development", **{"FORMSVC_" + k: v for k, v in settings.items()}})
        return run_python("-m", "flask", "--app", "formsvc", "outbox", *args, env=env, timeout=60)

    return run


def test_migrate_creates_the_postgresql_schema_ahead_of_a_deploy(postgres_url, tmp_path, flask_outbox):
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT to_regclass('enquiries')").fetchone()[0] is None
    result = flask_outbox("migrate", DATABASE_URL=postgres_url, DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == LATEST_VERSION
        assert conn.execute("SELECT count(*) FROM enquiries").fetchone()[0] == 0
    assert not (tmp_path / "outbox.sqlite3").exists()
    again = flask_outbox("migrate", DATABASE_URL=postgres_url, DATA_DIR=str(tmp_path))
    assert again.returncode == 0, again.stderr


def test_migrate_creates_the_sqlite_file_without_a_database_url(tmp_path, flask_outbox):
    result = flask_outbox("migrate", DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "outbox.sqlite3") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_migrate_against_an_unreachable_database_fails_clearly_without_the_password(tmp_path, flask_outbox):
    url = f"postgresql://app:hunter2-secret@127.0.0.1:{free_port()}/outbox"  # nothing listens there
    result = flask_outbox("migrate", DATABASE_URL=url, DATA_DIR=str(tmp_path))
    assert result.returncode == 1
    assert "could not be migrated" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
