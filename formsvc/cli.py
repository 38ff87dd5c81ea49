"""Operator commands: ``flask --app formsvc deliver`` and ``flask --app formsvc outbox ...``.

They print references, counts and short error descriptions only, never answers.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .config import default
from .outbox import OutboxUnavailable, get_outbox
from .worker import run


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@click.command("deliver")
@click.option("--once", is_flag=True, help="Deliver everything due now, then exit.")
@click.option("--interval", type=float, default=None, help="Seconds between looks at the outbox.")
@with_appcontext
def deliver_command(once: bool, interval: float | None) -> None:
    """Send queued enquiries to the hub's inbox (runs until stopped)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Mail can wait a moment; someone sending the form should not. On a small machine a
    # burst of deliveries took CPU from the web workers and tripled their slowest
    # answers (bench/submit.py); at a lower priority it takes what they leave.
    niceness = int(current_app.config["DELIVER_NICENESS"])
    if niceness > 0 and hasattr(os, "nice"):
        os.nice(niceness)
    try:
        totals = run(current_app._get_current_object(), once=once, interval=interval)
    except OutboxUnavailable as exc:
        raise click.ClickException(f"The outbox is unavailable ({exc}).") from None
    click.echo("delivered {delivered}, retried {retried}, failed {failed}".format(**totals))


outbox_cli = AppGroup("outbox", help="Look after the outbox: its schema, failed and quarantined enquiries.")


@outbox_cli.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the outbox's schema now, ahead of a deploy.

    The service does it itself on first use (safe when several processes start at
    once); running it first means a deploy's new instances start on a ready schema
    and a schema problem shows here, not as a 503 to the first person.
    """
    try:
        get_outbox().migrate()
    except OutboxUnavailable as exc:
        # The class name or our own message only: never the URL (it may hold a password).
        raise click.ClickException(f"The outbox could not be migrated ({exc}).") from None
    click.echo("The outbox's schema is up to date.")


@outbox_cli.command("list")
def list_command() -> None:
    """Failed and quarantined enquiries: reference, created, attempts, last error."""
    outbox = get_outbox()
    row = "{:<12}  {:<20}  {:>8}  {}"
    click.echo("FAILED: delivery stopped; fix the cause, then `flask outbox retry REFERENCE`")
    failed = outbox.failed()
    click.echo(row.format("REFERENCE", "CREATED", "ATTEMPTS", "LAST ERROR"))
    for item in failed:
        click.echo(row.format(item["reference"], _when(item["created_at"]), item["attempts"],
                              item["last_error"] or "-"))
    if not failed:
        click.echo("(none)")
    click.echo("")
    click.echo("QUARANTINED: suspected spam, not sent; `flask outbox retry REFERENCE` sends a real one")
    quarantined = outbox.quarantined()
    click.echo(row.format("REFERENCE", "CREATED", "ATTEMPTS", "REASON"))
    for item in quarantined:
        reason = item["reason"] or "-"
        if item["purged"]:
            reason += " (message purged)"
        click.echo(row.format(item["reference"], _when(item["created_at"]), item["attempts"], reason))
    if not quarantined:
        click.echo("(none)")


@outbox_cli.command("retry")
@click.argument("reference")
def retry_command(reference: str) -> None:
    """Send a failed or quarantined enquiry again."""
    if not get_outbox().retry(reference):
        raise click.ClickException(
            "No failed or quarantined enquiry with that reference that can be sent "
            "(see `flask outbox list`)."
        )
    click.echo("Queued for delivery: the worker sends it on its next round.")


@outbox_cli.command("stats")
def stats_command() -> None:
    """Counts: backlog, oldest waiting, failed, quarantined, delivered."""
    for key, value in get_outbox().stats().items():
        if key == "oldest_undelivered_age_seconds" and value is not None:
            value = round(value)
        click.echo(f"{key}: {value if value is not None else '-'}")


@outbox_cli.command("purge-quarantine")
@click.option("--days", type=float, default=default("QUARANTINE_RETENTION_SECONDS") / 86400, show_default=True)
def purge_command(days: float) -> None:
    """Delete the message of quarantined enquiries older than DAYS (the worker does this hourly too)."""
    purged = get_outbox().purge_quarantine(days * 86400)
    click.echo(f"Purged the message of {purged} quarantined enquiries.")


def init_app(app) -> None:
    app.cli.add_command(deliver_command)
    app.cli.add_command(outbox_cli)
