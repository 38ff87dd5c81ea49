"""The delivery loop against a real SMTP server (and a missing one), real SQLite, real processes."""
from __future__ import annotations

import logging
import mailbox
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from formsvc.outbox import get_outbox
from formsvc.transport import SMTPTransport
from formsvc.worker import GIVE_UP_AFTER_SECONDS, DeliverySettings, deliver_due
from testsupport.hubmail import store

ROOT = Path(__file__).resolve().parent.parent
MAIL_FROM = "enquiries@rj.example"
HUB = "hub@hub.example"
SETTINGS = DeliverySettings(mail_from=MAIL_FROM, hub_inbox=HUB)


def transport_to(server_or_port) -> SMTPTransport:
    port = getattr(server_or_port, "port", server_or_port)
    return SMTPTransport("127.0.0.1", port, security="none", timeout=5)


def deliver(outbox, transport, now=None):
    return deliver_due(outbox, transport, SETTINGS, now=now)


def personal_values(answers: dict) -> list[str]:
    values = [answers[k] for k in ("name", "email", "phone", "call_times", "crime_reference")] + \
        answers["message"].splitlines()
    return [value for value in values if value.strip()]


def test_smtp_down_keeps_everything_then_all_arrive_once_it_is_up(outbox, answers, closed_port,
                                                                 start_smtp_server):
    refs = [store(outbox, answers(), submission_id=f"s{i}") for i in range(3)]
    t0 = time.time()

    counts = deliver(outbox, transport_to(closed_port), now=t0)
    assert counts == {"claimed": 3, "delivered": 0, "retried": 3, "failed": 0, "released": 0}
    assert outbox.stats()["backlog"] == 3
    # Not due again until the backoff has passed.
    assert deliver(outbox, transport_to(closed_port), now=t0 + 30)["claimed"] == 0

    server = start_smtp_server(closed_port)  # the relay comes back
    counts = deliver(outbox, transport_to(server), now=t0 + 3600)
    assert counts["delivered"] == 3
    assert sorted(m["Subject"].rsplit(" ", 1)[1] for m in server.inbox.messages) == sorted(refs)
    assert outbox.stats()["backlog"] == 0 and outbox.stats()["delivered"] == 3


def test_a_4xx_reply_is_retried_later(outbox, answers, smtp_server):
    store(outbox, answers(), submission_id="s")
    t0 = time.time()
    smtp_server.inbox.reply = "451 4.3.0 Mailbox busy"
    assert deliver(outbox, transport_to(smtp_server), now=t0)["retried"] == 1
    assert smtp_server.inbox.envelopes == []
    assert deliver(outbox, transport_to(smtp_server), now=t0 + 50)["claimed"] == 0

    smtp_server.inbox.reply = "250 OK"
    assert deliver(outbox, transport_to(smtp_server), now=t0 + 70)["delivered"] == 1
    assert len(smtp_server.inbox.envelopes) == 1


def test_transient_failures_for_three_days_go_to_an_operator(outbox, answers, smtp_server):
    reference = store(outbox, answers(), submission_id="s")
    smtp_server.inbox.reply = "451 4.3.0 Mailbox busy"
    counts = deliver(outbox, transport_to(smtp_server), now=time.time() + GIVE_UP_AFTER_SECONDS + 1)
    assert counts["failed"] == 1
    assert [(r["reference"], r["last_error"]) for r in outbox.failed()] == [(reference, "gave up: SMTP 451 4.3.0")]


def test_a_5xx_is_failed_listed_without_personal_data_and_retry_sends_it(delivery_app, smtp_server, answers, caplog):
    caplog.set_level(logging.DEBUG)
    outbox = get_outbox(delivery_app)
    sent = answers()
    reference = store(outbox, sent, submission_id="s")
    runner = delivery_app.test_cli_runner()

    smtp_server.inbox.reply = "550 5.7.1 Message rejected"
    result = runner.invoke(args=["deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert outbox.stats()["failed"] == 1 and smtp_server.inbox.envelopes == []

    listing = runner.invoke(args=["outbox", "list"])
    assert listing.exit_code == 0
    assert reference in listing.output and "SMTP 550 5.7.1" in listing.output
    stats = runner.invoke(args=["outbox", "stats"])
    assert "failed: 1" in stats.output and "backlog: 0" in stats.output

    retried = runner.invoke(args=["outbox", "retry", reference.lower()])
    assert retried.exit_code == 0, retried.output
    assert outbox.stats()["backlog"] == 1
    assert runner.invoke(args=["outbox", "retry", "RJ-ZZZZZZZZ"]).exit_code != 0

    smtp_server.inbox.reply = "250 OK"
    assert runner.invoke(args=["deliver", "--once"]).exit_code == 0
    [message] = smtp_server.inbox.messages
    assert message["Subject"] == f"Restorative justice enquiry {reference}"
    assert outbox.stats()["delivered"] == 1

    # Nothing the person wrote appears in listings, stats or our logs (the test
    # SMTP server's own debug log is another matter: it is the hub's side).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("formsvc"))
    shown = listing.output + stats.output + retried.output + ours
    assert reference in ours
    for value in personal_values(sent):
        assert value not in shown, value


class FirstSendRaises(SMTPTransport):
    """A real SMTP transport with a bug: its first send raises something no transport should
    (RuntimeError), its text the whole message, as an exception's text might quote it."""

    def __init__(self, server):
        super().__init__("127.0.0.1", server.port, security="none", timeout=5)
        self.calls = 0

    def send(self, data, envelope):
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError(data.decode("ascii", "replace"))
        return super().send(data, envelope)


def test_an_unexpected_error_keeps_the_enquiry_for_a_retry_and_the_batch_goes_on(
        outbox, answers, smtp_server, caplog):
    caplog.set_level(logging.INFO)
    sent = answers()
    first, *others = [store(outbox, sent, submission_id=f"s{i}") for i in range(3)]
    t0 = time.time()

    transport = FirstSendRaises(smtp_server)
    counts = deliver(outbox, transport, now=t0)
    # Not delivered (the hub never got it), not given up on: tried again later; the rest went.
    assert counts == {"claimed": 3, "delivered": 2, "retried": 1, "failed": 0, "released": 0}
    assert transport.calls == 3
    assert sorted(m["Subject"].rsplit(" ", 1)[1] for m in smtp_server.inbox.messages) == sorted(others)
    assert outbox.stats()["backlog"] == 1 and outbox.stats()["delivered"] == 2 and outbox.failed() == []
    # The exception's text may quote the message: only its type is logged and kept.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("formsvc"))
    assert f"unexpected RuntimeError delivering {first}" in ours
    for value in personal_values(sent):
        assert value not in ours, value

    assert deliver(outbox, transport, now=t0 + 30)["claimed"] == 0  # waits its backoff like any retry
    [retried] = outbox.claim(now=t0 + 3600)
    assert (retried.reference, retried.attempts) == (first, 1)
    outbox.release([retried.id])
    assert deliver(outbox, transport, now=t0 + 3600)["delivered"] == 1
    assert outbox.stats()["backlog"] == 0 and len(smtp_server.inbox.messages) == 3


def test_stopping_releases_what_was_not_tried(outbox, answers, smtp_server):
    for i in range(3):
        store(outbox, answers(), submission_id=f"s{i}")
    asked = []
    counts = deliver_due(outbox, transport_to(smtp_server), SETTINGS,
                         should_stop=lambda: bool(asked.append(1)) or len(asked) > 1)
    assert counts["delivered"] == 1 and counts["released"] == 2
    assert len(outbox.claim()) == 2  # given back at once, not after the lease


def test_delivery_settings_come_from_the_apps_config(tmp_path):
    from formsvc import create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "MAIL_FROM": MAIL_FROM, "HUB_INBOX": HUB,
                      "OUTBOX_LEASE_SECONDS": 120, "DELIVER_BACKOFF_FIRST_SECONDS": 0.5,
                      "DELIVER_INTERVAL_SECONDS": 2, "QUARANTINE_RETENTION_SECONDS": 86400})
    assert DeliverySettings.from_config(app.config) == DeliverySettings(
        mail_from=MAIL_FROM, hub_inbox=HUB, lease_seconds=120, backoff_first=0.5, interval=2.0,
        quarantine_retention=86400.0)
    # Unset, each is config.py's default, as the dataclass's own defaults are.
    defaults = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "MAIL_FROM": MAIL_FROM, "HUB_INBOX": HUB})
    assert DeliverySettings.from_config(defaults.config) == SETTINGS


def test_with_no_smtp_host_mail_waits_in_a_maildir(tmp_path, answers):
    from formsvc import create_app

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "SMTP_HOST": ""})
    reference = store(get_outbox(app), answers(), submission_id="s")
    assert app.test_cli_runner().invoke(args=["deliver", "--once"]).exit_code == 0
    [message] = list(mailbox.Maildir(tmp_path / "maildir", create=False))
    assert message["Subject"] == f"Restorative justice enquiry {reference}"


# -- a real worker process, killed mid-run --------------------------------------------------


def worker_process(run_python, data_dir: Path, smtp_port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "FORMSVC_ENV": "development",
        "FORMSVC_SECRET_KEY": "test-only",
        "FORMSVC_DATA_DIR": str(data_dir),
        "FORMSVC_SMTP_HOST": "127.0.0.1",
        "FORMSVC_SMTP_PORT": str(smtp_port),
        "FORMSVC_SMTP_SECURITY": "none",
        "FORMSVC_MAIL_FROM": MAIL_FROM,
        "FORMSVC_HUB_INBOX": HUB,
        # Short, so the enquiry that was in flight when we killed it comes back soon.
        "FORMSVC_OUTBOX_LEASE_SECONDS": "2",
    }
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return run_python.start("-m", "flask", "--app", "formsvc", "deliver", "--interval", "0.2",
                                env=env, stdout=output, stderr=subprocess.STDOUT)


def wait_for(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_worker_killed_mid_run_loses_nothing_and_resends_with_the_same_message_id(
        tmp_path, outbox, answers, smtp_server, run_python):
    data_dir = outbox.path.parent
    count = 8
    refs = [store(outbox, answers(), submission_id=f"s{i}") for i in range(count)]
    stored_ids = {ref: mid for ref, mid in sqlite3.connect(outbox.path).execute(
        "SELECT reference, message_id FROM enquiries")}
    smtp_server.inbox.delay = 0.3  # a slow relay, so we can kill it mid-conversation
    log = tmp_path / "worker.log"

    first = worker_process(run_python, data_dir, smtp_server.port, log)
    try:
        wait_for(lambda: len(smtp_server.inbox.envelopes) >= 3, 20, "the first messages")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert len(smtp_server.inbox.envelopes) < count, "killed too late to prove anything"
    assert outbox.stats()["backlog"] > 0

    second = worker_process(run_python, data_dir, smtp_server.port, log)
    try:
        wait_for(lambda: outbox.stats()["backlog"] == 0, 30, "every enquiry to be delivered")
    finally:
        second.send_signal(signal.SIGTERM)  # graceful: finishes the current message, exits 0
        code = second.wait(10)
    assert code == 0, log.read_text()

    seen: dict[str, set[str]] = {}
    for message in smtp_server.inbox.messages:
        seen.setdefault(message["Subject"].rsplit(" ", 1)[1], set()).add(message["Message-ID"])
    assert set(seen) == set(refs)  # every enquiry arrived
    assert all(ids == {stored_ids[ref]} for ref, ids in seen.items())  # any resend is the same message
    assert outbox.stats()["delivered"] == count
    # The worker's log names references, never what people wrote.
    for value in personal_values(answers()):
        assert value not in log.read_text(), value
