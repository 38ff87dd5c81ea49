"""The delivery loop: take due enquiries from the outbox, mail them, record what happened.

Runs as its own process (``flask --app formsvc deliver``, in cli.py), never inside a
web request. Delivery is at-least-once: if the worker dies between the server's "250"
and ``mark_delivered``, the lease runs out and the enquiry is sent again with the
same Message-ID, so the hub sees one message twice rather than none.

Logs carry references, counts and short error descriptions only, never answers.
"""
from __future__ import annotations

import logging
import random
import signal
import threading
import time
import traceback
from dataclasses import dataclass

from .config import default
from .outbox import OutboxUnavailable, get_outbox
from .transport import ConnectError, Envelope, PermanentDeliveryError, TransientDeliveryError, transport_from_config

log = logging.getLogger(__name__)

BACKOFF_MAX_SECONDS = 3600
#: Transient failures for this long (from when it was queued) and we stop and ask
#: an operator: a relay down for three days needs a human anyway.
GIVE_UP_AFTER_SECONDS = 3 * 24 * 3600
BATCH_SIZE = 50
#: In a long burst, fold the WAL back (removing delivered answers from it) at least this often.
CHECKPOINT_EVERY_SECONDS = 60
#: While the outbox is unreachable (a database restarting), the wait before the next
#: look doubles from this, up to the max: back within seconds of a short outage, and
#: at most one look every half minute from each worker during a long one.
UNAVAILABLE_WAIT_FIRST_SECONDS = 0.5
UNAVAILABLE_WAIT_MAX_SECONDS = 30.0


def backoff_seconds(attempts: int, first: float = default("DELIVER_BACKOFF_FIRST_SECONDS")) -> float:
    """1, 2, 4, ... minutes up to an hour, plus up to 10% jitter so a queue that
    built up during an outage does not hit the relay all at the same second."""
    delay = min(first * 2 ** min(attempts, 20), BACKOFF_MAX_SECONDS)
    return delay + random.uniform(0, delay / 10)


@dataclass(frozen=True)
class DeliverySettings:
    """What delivery is told by the app's settings; ``from_config`` is the one place that reads them."""

    mail_from: str
    hub_inbox: str
    #: Enquiries claimed, and sent over one connection, per batch.
    limit: int = BATCH_SIZE
    lease_seconds: int = default("OUTBOX_LEASE_SECONDS")
    #: The first retry's wait; later ones double (tests and drills shorten it).
    backoff_first: float = default("DELIVER_BACKOFF_FIRST_SECONDS")
    #: The run loop's wait between looks at an empty outbox.
    interval: float = default("DELIVER_INTERVAL_SECONDS")
    #: The run loop purges quarantined messages older than this.
    quarantine_retention: float = default("QUARANTINE_RETENTION_SECONDS")

    @classmethod
    def from_config(cls, cfg) -> DeliverySettings:
        return cls(mail_from=cfg["MAIL_FROM"], hub_inbox=cfg["HUB_INBOX"],
                   lease_seconds=int(cfg["OUTBOX_LEASE_SECONDS"]),
                   backoff_first=float(cfg["DELIVER_BACKOFF_FIRST_SECONDS"]),
                   interval=float(cfg["DELIVER_INTERVAL_SECONDS"]),
                   quarantine_retention=float(cfg["QUARANTINE_RETENTION_SECONDS"]))


def _retry_or_give_up(outbox, enquiry, error: str, now: float, backoff_first: float) -> str:
    """After a transient failure: due again after a backoff, or failed for good once it has
    waited GIVE_UP_AFTER_SECONDS since it was queued. Returns which count it goes in."""
    started = enquiry.queued_at or enquiry.created_at
    if now - started >= GIVE_UP_AFTER_SECONDS:
        outbox.mark_permanent_failure(enquiry.id, f"gave up: {error}")
        log.error("gave up on %s after %d attempts (%s)", enquiry.reference, enquiry.attempts + 1, error)
        return "failed"
    delay = backoff_seconds(enquiry.attempts, backoff_first)
    outbox.mark_transient_failure(enquiry.id, error, now + delay)
    log.warning("will retry %s in %.0f s (%s)", enquiry.reference, delay, error)
    return "retried"


def deliver_due(outbox, transport, settings: DeliverySettings, *, now: float | None = None, should_stop=None,
                close_transport: bool = True) -> dict:
    """Send one batch of due enquiries over one connection.

    ``close_transport=False`` leaves the connection open for the next batch (the
    run loop closes it before it waits); it is still closed after a failure.

    Returns counts: ``claimed``, ``delivered``, ``retried`` (transient failure,
    tried again later), ``failed`` (given up, kept for an operator), ``released``
    (not tried: stopping, or the batch took too long; due again at once).
    """
    now = time.time() if now is None else now
    counts = {"claimed": 0, "delivered": 0, "retried": 0, "failed": 0, "released": 0}
    batch = outbox.claim(now=now, limit=settings.limit, lease_seconds=settings.lease_seconds)
    # Real elapsed time, whatever ``now`` says: stop well before our lease on the
    # rest of the batch runs out, or another worker could send them at the same time.
    deadline = time.monotonic() + settings.lease_seconds / 2
    counts["claimed"] = len(batch)
    if not batch:
        return counts
    envelope = Envelope.of(settings.mail_from, settings.hub_inbox)

    unreachable = None  # once the server cannot be reached, don't wait on it for every message
    failed = True
    try:
        for position, enquiry in enumerate(batch):
            stopping = should_stop is not None and should_stop()
            if stopping or time.monotonic() > deadline:
                outbox.release([e.id for e in batch[position:]])
                counts["released"] = len(batch) - position
                log.info("%s: released %d unsent enquiries", "stopping" if stopping else "slow batch",
                         counts["released"])
                break
            transient = None  # set to a short description when the failure is worth another try
            if unreachable:
                transient = unreachable
            else:
                try:
                    # The bytes stored at acceptance, unchanged (sealed ones cannot be rebuilt here).
                    transport.send(enquiry.message, envelope)
                except ConnectError as exc:
                    transient = unreachable = str(exc)
                except TransientDeliveryError as exc:
                    transient = str(exc)
                except PermanentDeliveryError as exc:
                    outbox.mark_permanent_failure(enquiry.id, str(exc))
                    counts["failed"] += 1
                    log.error("%s refused permanently (%s); kept for an operator", enquiry.reference, exc)
                except OutboxUnavailable:
                    raise
                except Exception as exc:
                    # A bug, not the relay. The exception's text may quote the message,
                    # so log only its type and where it happened, and keep the enquiry queued.
                    transient = type(exc).__name__
                    log.error("unexpected %s delivering %s:\n%s", transient, enquiry.reference,
                              "".join(traceback.format_tb(exc.__traceback__)))
                else:
                    outbox.mark_delivered(enquiry.id)
                    counts["delivered"] += 1
                    log.info("delivered %s", enquiry.reference)
            if transient is not None:
                counts[_retry_or_give_up(outbox, enquiry, transient, now, settings.backoff_first)] += 1
        failed = bool(unreachable)
    finally:
        if close_transport or failed:
            transport.close()
    return counts


def run(app, once: bool = False, interval: float | None = None) -> dict:
    """Deliver until stopped (SIGTERM/SIGINT finish the current message first).

    ``once``: drain everything due now, then return.
    """
    cfg = app.config
    settings = DeliverySettings.from_config(cfg)
    interval = settings.interval if interval is None else interval
    outbox = get_outbox(app)
    transport = transport_from_config(cfg)
    stop = threading.Event()
    restore = _handle_stop_signals(stop)
    totals = {"delivered": 0, "retried": 0, "failed": 0}
    next_purge = 0.0
    unavailable_wait = 0.0  # grows while the outbox stays unreachable (see UNAVAILABLE_WAIT_MAX_SECONDS)
    unfolded, next_checkpoint = 0, time.monotonic() + CHECKPOINT_EVERY_SECONDS
    try:
        while not stop.is_set():
            try:
                # One connection for as long as there is mail to send: reconnecting
                # (and TLS, and logging in) for each batch costs more than a message.
                counts = deliver_due(outbox, transport, settings, should_stop=stop.is_set, close_transport=False)
                if counts["claimed"]:
                    log.info("batch: delivered %(delivered)d, retried %(retried)d, failed %(failed)d", counts)
                    unfolded += counts["claimed"]
                drained = counts["claimed"] < settings.limit and not counts["released"]
                if unfolded and (drained or time.monotonic() >= next_checkpoint):
                    # Don't leave delivered answers in the WAL file. Once the queue is
                    # drained (or once a minute in a long burst), not after every batch:
                    # the checkpoint writes the database file and holds up the form's
                    # writes meanwhile.
                    outbox.checkpoint()
                    unfolded, next_checkpoint = 0, time.monotonic() + CHECKPOINT_EVERY_SECONDS
                if time.time() >= next_purge:
                    if purged := outbox.purge_quarantine(settings.quarantine_retention):
                        log.info("purged the messages of %d old quarantined enquiries", purged)
                    next_purge = time.time() + 3600
            except OutboxUnavailable as exc:
                transport.close()
                if once:
                    raise
                # Back off while it stays down: every worker of every machine asking at its
                # usual pace would only add to a struggling database's load.
                unavailable_wait = min(UNAVAILABLE_WAIT_MAX_SECONDS,
                                       max(interval, UNAVAILABLE_WAIT_FIRST_SECONDS, unavailable_wait * 2))
                log.error("outbox unavailable (%s); trying again in %.1f s", exc, unavailable_wait)
                stop.wait(unavailable_wait)
                continue
            unavailable_wait = 0.0
            for key in totals:
                totals[key] += counts[key]
            if counts["claimed"] >= settings.limit or counts["released"]:
                continue  # more may be due right now (stop.is_set() ends the loop)
            transport.close()  # nothing more to send now: don't keep the relay waiting
            if once and not counts["claimed"]:
                break
            if not once:
                stop.wait(interval)
    finally:
        transport.close()
        restore()
    return totals


def _handle_stop_signals(stop: threading.Event):
    """Turn SIGTERM/SIGINT into a request to stop after the current message."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        log.info("got %s: finishing the current message, then stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore():
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
