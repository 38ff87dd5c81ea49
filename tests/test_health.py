"""GET /healthz: counts for a monitor, nothing personal, never rate limited."""
from __future__ import annotations

import time

from formsvc import create_app
from formsvc.outbox import get_outbox
from testsupport.hubmail import store


def test_healthz_reports_the_outbox(delivery_app, answers):
    client = delivery_app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    sealing = body.pop("sealing")
    warnings = body.pop("warnings")
    assert body == {"status": "ok", "backlog": 0, "oldest_undelivered_age_seconds": None,
                    "failed": 0, "quarantined": 0}
    # The tests seal with "none": said, and warned about, so a monitor can alert on it.
    assert (sealing["encryption"], sealing["recipients"]) == ("none", 0)
    assert sealing["warnings"] and "unsealed" in sealing["warnings"][0]
    assert warnings == sealing["warnings"]  # every warning in one list; no setting overridden here
    assert response.headers["Cache-Control"] == "no-store"

    outbox = get_outbox(delivery_app)
    store(outbox, answers(), submission_id="a")
    failing = store(outbox, answers(), submission_id="b")
    store(outbox, answers(), submission_id="c", quarantined=True, reason="honeypot")
    [first, second] = outbox.claim()
    outbox.mark_permanent_failure(second.id, "SMTP 550")
    assert second.reference == failing

    time.sleep(0.05)
    response = client.get("/healthz")
    body = response.get_json()
    assert body["status"] == "ok"
    assert (body["backlog"], body["failed"], body["quarantined"]) == (1, 1, 1)
    assert body["oldest_undelivered_age_seconds"] >= 0
    for value in answers().values():
        if len(value) > 3:  # not the choice codes ("no", "yes"), which ordinary words contain
            assert value.encode() not in response.data, value
    assert failing.encode() not in response.data  # not even references


def test_healthz_is_not_rate_limited(tmp_path):
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "RATELIMIT_DEFAULT": "1 per minute"})
    client = app.test_client()
    assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]


def test_healthz_says_so_when_the_outbox_is_unavailable(tmp_path):
    (tmp_path / "outbox.sqlite3").mkdir()  # something that is not a database where the database should be
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "outbox": "unreachable"}


def test_healthz_warns_of_a_hub_certificate_ending_within_30_days(tmp_path, caplog):
    from testsupport.keys import smime_certificate

    cert, _ = smime_certificate(tmp_path / "keys", days=10)
    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path / "data"), "HUB_ENCRYPTION": "smime",
                      "HUB_SMIME_CERTIFICATES": str(cert)})
    sealing = app.test_client().get("/healthz").get_json()["sealing"]
    assert (sealing["encryption"], sealing["recipients"]) == ("smime", 1)
    assert len([w for w in sealing["warnings"] if "expires" in w]) == 1
    # ...and it was said at start, in the log an operator reads.
    assert any(r.levelname == "WARNING" and "expires" in r.getMessage() for r in caplog.records)


def test_healthz_warns_that_enquiries_are_not_signed_without_a_signing_key(tmp_path, caplog):
    from testsupport.keys import smime_certificate

    cert, _ = smime_certificate(tmp_path / "keys")
    # Production settings: it starts without a signing key (signing is optional), and says so.
    app = create_app({"ENV": "production", "SECRET_KEY": "x" * 64, "DATA_DIR": str(tmp_path / "data"),
                      "HUB_ENCRYPTION": "smime", "HUB_SMIME_CERTIFICATES": str(cert)})
    sealing = app.test_client().get("/healthz").get_json()["sealing"]
    assert (sealing["signed"], sealing["signing_expires"]) == (False, None)
    [warning] = sealing["warnings"]
    assert warning.startswith("enquiries are not signed: the hub cannot tell them from a forged message")
    assert warning in [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]  # and in the log
