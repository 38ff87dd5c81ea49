"""Settings come from FORMSVC_* variables, with safe defaults and refusals (formsvc/config.py)."""
from __future__ import annotations

import pytest

from formsvc import create_app


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.startswith("FORMSVC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FORMSVC_DATA_DIR", str(tmp_path / "data"))


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(RuntimeError, match="FORMSVC_SECRET_KEY"):
        create_app()


def test_production_with_a_secret_key_has_secure_cookies(monkeypatch):
    monkeypatch.setenv("FORMSVC_SECRET_KEY", "a-long-random-value-for-this-test-only")
    app = create_app()
    assert app.config["SECRET_KEY"] == "a-long-random-value-for-this-test-only"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_PATH"] == "/enquiry/"


def test_development_runs_without_a_secret_and_delivers_locally(monkeypatch, tmp_path):
    monkeypatch.setenv("FORMSVC_ENV", "development")
    app = create_app()
    assert app.config["SECRET_KEY"]
    assert app.config["SMTP_HOST"] == ""
    assert app.config["DATA_DIR"] == str(tmp_path / "data")
    assert (tmp_path / "data").is_dir()


def test_environment_values_are_typed(monkeypatch):
    monkeypatch.setenv("FORMSVC_ENV", "development")
    monkeypatch.setenv("FORMSVC_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("FORMSVC_MIN_FILL_SECONDS", "0")
    monkeypatch.setenv("FORMSVC_PROXY_HOPS", "1")
    monkeypatch.setenv("FORMSVC_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("FORMSVC_SMTP_SECURITY", "ssl")
    app = create_app()
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["MIN_FILL_SECONDS"] == 0
    assert app.config["PROXY_HOPS"] == 1
    assert app.config["SMTP_PORT"] == 465  # the port follows the security mode unless set


def test_an_unknown_smtp_security_mode_is_refused(monkeypatch):
    monkeypatch.setenv("FORMSVC_ENV", "development")
    monkeypatch.setenv("FORMSVC_SMTP_SECURITY", "tls-please")
    with pytest.raises(RuntimeError, match="FORMSVC_SMTP_SECURITY"):
        create_app()


def test_behind_one_proxy_the_client_address_comes_from_that_hop_only(monkeypatch):
    monkeypatch.setenv("FORMSVC_ENV", "development")
    monkeypatch.setenv("FORMSVC_PROXY_HOPS", "1")
    app = create_app()
    seen = {}

    @app.get("/whoami")
    def whoami():
        from flask import request

        seen["addr"] = request.remote_addr
        return ""

    # A client cannot choose its own address by sending an extra X-Forwarded-For entry.
    app.test_client().get("/whoami", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7"},
                          environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert seen["addr"] == "203.0.113.7"
