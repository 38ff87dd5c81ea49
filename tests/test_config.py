"""Settings come from FORMSVC_* variables, with safe defaults and refusals (formsvc/config.py)."""
from __future__ import annotations

import pytest

from formsvc import create_app
from testsupport.answers import valid_answers
from testsupport.forms import FormBrowser


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
    monkeypatch.setenv("FORMSVC_HUB_ENCRYPTION", "none")  # production asks for an explicit choice
    app = create_app()
    assert app.config["SECRET_KEY"] == "a-long-random-value-for-this-test-only"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_PATH"] == "/enquiry/"


def test_a_setting_the_service_overrides_says_so_at_start_and_in_healthz(monkeypatch, caplog):
    monkeypatch.setenv("FORMSVC_SECRET_KEY", "a-long-random-value-for-this-test-only")
    monkeypatch.setenv("FORMSVC_HUB_ENCRYPTION", "none")
    monkeypatch.setenv("FORMSVC_SESSION_COOKIE_SECURE", "false")
    monkeypatch.setenv("FORMSVC_SESSION_COOKIE_HTTPONLY", "true")  # the value the service sets: nothing to say
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True  # still overridden outside development
    said = ("FORMSVC_SESSION_COOKIE_SECURE=false is ignored: the service sets SESSION_COOKIE_SECURE=true itself "
            "outside development")
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "ignored" in r.getMessage()] == [
        said]
    assert said in app.test_client().get("/healthz").get_json()["warnings"]


def test_a_setting_given_the_value_the_service_sets_gets_no_warning(monkeypatch, caplog):
    monkeypatch.setenv("FORMSVC_ENV", "development")
    monkeypatch.setenv("FORMSVC_SESSION_COOKIE_SECURE", "false")
    app = create_app()
    assert app.extensions["settings_warnings"] == []
    assert not [r for r in caplog.records if "ignored" in r.getMessage()]


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


# ---------------------------------------------------------------- the defaults themselves
# Every other rate-limit test sets its own limit, so only these notice a default that drifts.
# The numbers are docs/deploying.md's ("5 per minute;30 per hour"), written out on purpose: reading
# them from config.DEFAULTS would follow a wrong default instead of catching it.


def send_enquiries(browser: FormBrowser, count: int) -> list[int]:
    """Send ``count`` valid enquiries, one after another; their statuses (303: stored, 429: refused)."""
    return [browser.send(**valid_answers(message=f"Enquiry {n}")).status_code for n in range(count)]


def test_by_default_a_sixth_enquiry_within_a_minute_is_refused(make_form_app, clock):
    app = make_form_app()  # no RATELIMIT_POST: the default applies
    browser = FormBrowser(app.test_client())
    assert send_enquiries(browser, 6) == [303] * 5 + [429]
    assert 1 <= int(browser.response.headers["Retry-After"]) <= 60
    clock.advance(61)
    assert send_enquiries(browser, 1) == [303]


def test_by_default_a_thirty_first_enquiry_within_an_hour_is_refused(make_form_app, clock):
    app = make_form_app()
    browser = FormBrowser(app.test_client())
    for _ in range(6):  # five a minute stays under the per-minute limit
        assert send_enquiries(browser, 5) == [303] * 5
        clock.advance(61)
    assert send_enquiries(browser, 1) == [429]
    assert int(browser.response.headers["Retry-After"]) > 60  # the hour's limit, not the minute's
    clock.advance(3600)
    assert send_enquiries(browser, 1) == [303]


# ---------------------------------------------------------------- one table of settings

# Names Flask and its extensions read that config.load sets itself (not settings anyone chooses).
FIXED = {"SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_PATH",
         "PREFERRED_URL_SCHEME", "RATELIMIT_HEADERS_ENABLED", "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED",
         "RATELIMIT_SWALLOW_ERRORS", "RATELIMIT_STORAGE_OPTIONS", "TESTING"}


def _config_reads() -> dict[str, list[str]]:
    """Every ``config["NAME"]`` / ``cfg.get("NAME", ...)`` in the service's code: name -> the lines."""
    import re

    from testsupport import ROOT

    reads: dict[str, list[str]] = {}
    pattern = re.compile(r"""\b(?:config|cfg)(?:\[|\.get\()["']([A-Z][A-Z0-9_]+)["'](?=([^\n]*))""")
    for path in sorted((ROOT / "formsvc").glob("*.py")):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            reads.setdefault(match.group(1), []).append(f"{path.name}: {match.group(0)}{match.group(2)}")
    return reads


def test_every_setting_the_service_reads_is_in_the_table_with_a_meaning():
    from formsvc.config import DEFAULTS

    missing = sorted(set(_config_reads()) - set(DEFAULTS) - FIXED)
    assert not missing, f"read but not in config.DEFAULTS: {missing}"
    for name, setting in DEFAULTS.items():
        assert setting.meaning.strip() and "\n" not in setting.meaning, name


def test_no_module_keeps_a_default_of_its_own():
    # cfg.get("NAME", fallback) would be a second default beside config.DEFAULTS.
    import re

    own = [line for lines in _config_reads().values() for line in lines
           if not line.startswith("config.py") and re.search(r"""\.get\(["'][A-Z0-9_]+["']\s*,""", line)]
    assert not own, own


def test_the_deploying_docs_table_is_the_table_of_settings():
    from formsvc.config import settings_table
    from testsupport import ROOT

    docs = (ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")
    assert settings_table() in docs, "docs/deploying.md's settings table is out of date: paste `python -m formsvc.config`"


def test_every_setting_in_the_table_can_be_set_from_the_environment(monkeypatch):
    from formsvc.config import DEFAULTS

    monkeypatch.setenv("FORMSVC_ENV", "development")
    monkeypatch.setenv("FORMSVC_DELIVER_INTERVAL_SECONDS", "2.5")
    monkeypatch.setenv("FORMSVC_QUARANTINE_RETENTION_SECONDS", "60")
    app = create_app()
    assert app.config["DELIVER_INTERVAL_SECONDS"] == 2.5
    assert app.config["QUARANTINE_RETENTION_SECONDS"] == 60
    for name in DEFAULTS:
        assert name in app.config, name


def test_the_signing_settings_come_from_the_environment(monkeypatch, tmp_path):
    from testsupport.keys import smime_certificate

    hub, _ = smime_certificate(tmp_path / "keys")
    cert, key = smime_certificate(tmp_path / "keys", "enquiries", key_usage="digitalSignature",
                                  email="enquiries@localhost")  # MAIL_FROM's default
    for name, value in {"SECRET_KEY": "x" * 64, "HUB_ENCRYPTION": "smime", "HUB_SMIME_CERTIFICATES": hub,
                        "SIGNING_SMIME_CERTIFICATE": cert, "SIGNING_SMIME_KEY": key}.items():
        monkeypatch.setenv(f"FORMSVC_{name}", str(value))
    sealer = create_app().extensions["sealer"]
    assert sealer.signing.file == str(cert) and sealer.warnings() == []
