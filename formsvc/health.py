"""``GET /healthz``: is the outbox readable, is mail getting through, are enquiries sealed?

Counts only, nothing personal, so a monitor can alert on a growing backlog, an old
undelivered enquiry, or any failed or quarantined ones waiting for a person.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .extensions import csrf, limiter
from .outbox import OutboxUnavailable, get_outbox

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        stats = get_outbox().stats()
    except OutboxUnavailable:
        # Says which part is down, not why (the reason may name a host); the worker's and
        # the web's logs have the error class.
        response = jsonify(status="unavailable", outbox="unreachable")
        response.status_code = 503
    else:
        oldest = stats["oldest_undelivered_age_seconds"]
        sealing = current_app.extensions["sealer"].status()
        response = jsonify(
            status="ok",
            backlog=stats["backlog"],
            oldest_undelivered_age_seconds=None if oldest is None else round(oldest, 1),
            failed=stats["failed"],
            quarantined=stats["quarantined"],
            # How enquiries are sealed, and any warning (``none`` chosen, a key ending soon).
            sealing=sealing,
            # Every warning for an operator, in one list to alert on: a setting that is
            # overridden (said at start too), then sealing's.
            warnings=[*current_app.extensions["settings_warnings"], *sealing["warnings"]],
        )
    response.headers["Cache-Control"] = "no-store"
    return response


# A monitor polls this often; it must never be rate limited away. (GET needs no
# CSRF token; the exemption only keeps it so if methods are ever added.)
limiter.exempt(bp)
csrf.exempt(bp)
