"""The enquiry form's pages: ask, check, store durably, confirm.

Every way a post can go wrong shows the form again with what the person typed,
except a body too large to read (413), which says so and gives the limit:

- invalid answers             -> the form with an error summary (200)
- CSRF token missing/expired  -> "This page timed out..." (400)
- form token too new/bad/old  -> "Please check your answers and send again" (200)
- too many posts              -> "You have sent a lot of messages..." (429, Retry-After);
                                 only stored enquiries count, posts with problems have a limit of their own
- the outbox cannot store     -> "Sorry, we could not take your enquiry..." (503)
- a post we cannot read       -> "Sorry, we could not read your answers" (400): another
                                 character set is decoded, but text that cannot be is refused;
                                 plain ASCII in a character set we do not know is shown back

Answers are never logged and never put in a URL, the session or a cookie: the
session cookie is signed, not encrypted. Only the reference of the last enquiry
sent is kept in the session, for the confirmation page.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import secrets
import time

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge

from .accept import accept
from .extensions import csrf, limiter
from .forms import EnquiryForm, UnreadablePost, posted_formdata
from .i18n import form_paths, language
from .outbox import OutboxUnavailable, get_outbox
from .questions import LANGUAGE_KEY, QUESTIONS
from .seal import SealingFailed
from .shell import site_extra

log = logging.getLogger(__name__)

bp = Blueprint(
    "enquiry",
    __name__,
    url_prefix="/enquiry",
    # Served at /enquiry/static/...: only /enquiry/* reaches this service.
    static_folder="static",
    static_url_path="/static",
)

FORM_TOKEN_SALT = "enquiry-form"
SENT_SESSION_KEY = "sent"

# What the notice at the top of the page says after each kind of trouble.
NOTICE_CHECK = {
    "title": _l("Please check your answers and send again"),
    "body": [_l("Your answers are below.")],
}
NOTICE_TIMEOUT = {
    "title": _l("This page timed out"),
    "body": [_l("Your answers are below. Check them and send again.")],
}
NOTICE_NO_COOKIE = _l(
    "If you see this message again, your browser may be blocking cookies. This form needs "
    "one cookie to keep your message secure. It is deleted when you close your browser or "
    "use Exit this page."
)
NOTICE_UNREADABLE = {
    "title": _l("Sorry, we could not read your answers"),
    "body": [
        _l("Nothing has been sent. Your browser sent them in a way we cannot read."),
        _l("Please fill in the form again on this page and send it."),
    ],
}
NOTICE_UNREADABLE_KEPT = {
    "title": _l("Sorry, we could not read your answers"),
    "body": [
        _l("Nothing has been sent. Your browser sent them in a way we cannot read."),
        _l("Check your answers below and send them again."),
    ],
}
NOTICE_UNAVAILABLE = {
    "title": _l("Sorry, we could not take your enquiry"),
    "body": [
        _l("Nothing has been sent. Please try again in a few minutes."),
        # The numbers themselves are in the warning and the support section below, in the
        # site's words (mkdocs.yml extra), not copied here.
        _l("If you need the police now, read the warning further down this page."),
        _l("Your answers are below."),
    ],
}


def notice_rate_limited(wait_seconds: int) -> dict:
    minutes = max(1, round(wait_seconds / 60))
    return {
        "title": _l("You have sent a lot of messages in a short time"),
        "body": [
            _l("Nothing has been sent this time. Your answers are below."),
            _("Wait a minute, then send again.") if minutes == 1
            else _("Wait %(minutes)s minutes, then send again.", minutes=minutes),
        ],
    }


# ---------------------------------------------------------------- form token
# A signed random submission id, made when the form is served. Signing time
# tells a post made seconds after the page loaded (a bot); the id makes a
# double click or a resubmit one enquiry with one reference (outbox.add is
# idempotent on it). It carries nothing about the person.


def _form_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=FORM_TOKEN_SALT)


def new_form_token(submission_id: str | None = None) -> str:
    return _form_serializer().dumps(submission_id or secrets.token_urlsafe(16))


def check_form_token(token: str) -> tuple[str | None, str | None]:
    """Return (submission_id, problem); problem is None, "invalid", "expired" or "too_fast"."""
    cfg = current_app.config
    try:
        submission_id, signed_at = _form_serializer().loads(
            token or "", max_age=int(cfg["FORM_TOKEN_MAX_AGE"]), return_timestamp=True
        )
    except SignatureExpired:
        return None, "expired"
    except BadData:
        return None, "invalid"
    if not isinstance(submission_id, str) or not 16 <= len(submission_id) <= 64:
        return None, "invalid"
    if time.time() - signed_at.timestamp() < float(cfg["MIN_FILL_SECONDS"]):
        return submission_id, "too_fast"
    return submission_id, None


def idempotency_key(submission_id: str, answers: dict[str, str]) -> str:
    """One enquiry per form and per set of answers.

    A double click, or Back and send again unchanged, is the same enquiry. If the
    person went Back and changed something, the changed enquiry is kept as well
    rather than silently dropped. The answers are only in a keyed digest.
    """
    canonical = json.dumps(answers, sort_keys=True, ensure_ascii=False).encode("utf-8")
    digest = hmac.new(str(current_app.secret_key).encode("utf-8"), canonical, hashlib.sha256).hexdigest()
    return f"{submission_id}:{digest[:32]}"


def refresh_form_token(form: EnquiryForm) -> tuple[str | None, str | None]:
    """Check the form's token; if it has a problem, give the form a fresh one.

    Returns what ``check_form_token`` found. A good token is kept (same submission
    id, same start time); a "too fast" one keeps its submission id, signed again now.
    """
    submission_id, problem = check_form_token(form.form_token.data)
    if problem:
        form.form_token.data = new_form_token(submission_id if problem == "too_fast" else None)
    return submission_id, problem


# ---------------------------------------------------------------- pages


@bp.app_context_processor
def site_words() -> dict:
    """``site``: what every page of the service says in the site's own words, written once in
    mkdocs.yml ``extra`` (999 and the Silent Solution, 101, Victim Support, the domestic abuse
    helplines, what the force has confirmed) and read from site-manifest.json. Empty without a
    built site: the pages then keep only "call 999" and links to the site (templates/_macros.html).
    In another language, what the site's pages in it say (formsvc/shell.py, site_extra)."""
    return {"site": site_extra(current_app, language())}


def render_form(form: EnquiryForm, *, notice: dict | None = None, status: int = 200, headers=None):
    return (
        render_template(
            "enquiry_form.html",
            form=form,
            notice=notice,
            errors=form.error_list(),
            questions=QUESTIONS,
            message_max=int(current_app.config["MESSAGE_MAX_CHARS"]),
        ),
        status,
        headers or {},
    )


def _posted_form() -> EnquiryForm:
    """The form filled with what was posted, or empty if the body cannot be read."""
    try:
        formdata = posted_formdata() if request.method == "POST" else None
    except UnreadablePost as exc:
        formdata = exc.kept
    except (RequestEntityTooLarge, OSError, ValueError):
        formdata = None
    return EnquiryForm(formdata=formdata)


def _post_limit() -> str:
    return current_app.config["RATELIMIT_POST"]


def _invalid_post_limit() -> str:
    return current_app.config["RATELIMIT_INVALID_POST"]


def _not_stored(response) -> bool:
    return response.status_code != 303


# Only the POST is rate limited (below). Reading the form, the confirmation and,
# above all, leaving must never be refused, whatever default limits are configured.
@bp.get("/")
@limiter.exempt
def form():
    enquiry = EnquiryForm(formdata=None)
    enquiry.form_token.data = new_form_token()
    return render_form(enquiry)


# Posts that are not stored have a limit of their own, generous for people putting
# their answers right, but not for a bot trying answers to learn what the checks accept.
@bp.post("/")
@limiter.limit(_invalid_post_limit, methods=["POST"], deduct_when=_not_stored)
def submit():
    try:
        enquiry = EnquiryForm(formdata=posted_formdata())
    except UnreadablePost as exc:
        # Never stored as it came. Plain ASCII (exc.kept) reads the same in any character set,
        # so it is shown back to be checked; anything else could not be read as meant.
        log.info("Enquiry form shown again: post unreadable (%s)", exc)
        enquiry = EnquiryForm(formdata=exc.kept)
        refresh_form_token(enquiry)
        if exc.kept is None:
            return render_form(enquiry, notice=NOTICE_UNREADABLE, status=400)
        enquiry.validate()
        return render_form(enquiry, notice=NOTICE_UNREADABLE_KEPT, status=400)
    submission_id, problem = refresh_form_token(enquiry)
    if problem:
        # Not stored. Shown again with the fresh token, and any answer problems too
        # so they can all be put right at once.
        log.info("Enquiry form shown again: form token %s", problem)
        enquiry.validate()
        return render_form(enquiry, notice=NOTICE_CHECK)

    if not enquiry.validate():
        return render_form(enquiry)

    # A filled-in honeypot is probably a bot, but may be a person whose browser
    # filled it in: keep it aside for an operator to release, and show the usual
    # confirmation so a bot learns nothing.
    quarantined = enquiry.honeypot_filled()
    # Only an enquiry about to be stored counts towards RATELIMIT_POST (counted here, at
    # once, so posts arriving together cannot all slip under it). Over it: RateLimitExceeded,
    # and the form comes back with the answers (rate_limited below).
    with limiter.limit(_post_limit):
        pass
    try:
        # The language it was written in goes to the hub with the answers (message.py).
        answers = {**enquiry.answers(), LANGUAGE_KEY: language()}
        cfg = current_app.config
        reference = accept(
            get_outbox(),
            answers,
            submission_id=idempotency_key(submission_id, answers),
            mail_from=cfg["MAIL_FROM"],
            hub_inbox=cfg["HUB_INBOX"],
            seal=current_app.extensions["sealer"].seal,
            quarantined=quarantined,
            reason="honeypot" if quarantined else None,
        )
    except (OutboxUnavailable, SealingFailed) as exc:
        # SealingFailed's text names the method and the error's type only, never the message.
        log.error("Enquiry not stored, the person was asked to try again: %s (%s)", type(exc).__name__, exc)
        return render_form(enquiry, notice=NOTICE_UNAVAILABLE, status=503, headers={"Retry-After": "120"})

    if quarantined:
        log.warning("Enquiry %s quarantined: honeypot field filled in", reference)
    else:
        log.info("Enquiry %s stored", reference)
    # The confirmation page reads the reference from the session, not from the URL:
    # a URL stays in the browser's history (readable by anyone using the device, and
    # itsdangerous tokens are readable, not encrypted), whereas the session cookie is
    # HttpOnly, limited to /enquiry/, ends with the browser session and is deleted by
    # "Exit this page". The reference says nothing about the enquiry itself.
    session[SENT_SESSION_KEY] = {"reference": reference, "at": int(time.time())}
    return redirect(url_for(".sent"), 303)


@bp.get("/sent")
@limiter.exempt
def sent():
    record = session.get(SENT_SESSION_KEY)
    max_age = int(current_app.config["SENT_PAGE_MAX_AGE"])
    if not isinstance(record, dict) or time.time() - record.get("at", 0) > max_age:
        session.pop(SENT_SESSION_KEY, None)
        return redirect(url_for(".form"), 303)
    # How soon the hub replies is the site's setting (mkdocs.yml extra.reply_within, through
    # site-manifest.json): one value for the Email us page and this one.
    reply_within = site_extra(current_app, language()).get("reply_within")
    return render_template("enquiry_sent.html", reference=record["reference"], site_reply_within=reply_within)


@bp.route("/exit", methods=["GET", "POST"], endpoint="exit")
@csrf.exempt  # leaving must always work, token or not
@limiter.exempt
def exit_page():
    # Drops the CSRF secret and the last reference: the cookie is deleted, and with it the
    # form's cookie in every other language (each language's form has it at its own address).
    session.clear()
    response = redirect(current_app.config["EXIT_URL"], 303)
    here = request.script_root + request.path
    cfg = current_app.config
    for path in form_paths(current_app):
        if not here.startswith(path):
            response.delete_cookie(cfg["SESSION_COOKIE_NAME"], path=path, secure=cfg["SESSION_COOKIE_SECURE"],
                                   httponly=True, samesite=cfg["SESSION_COOKIE_SAMESITE"])
    return response


# ---------------------------------------------------------------- trouble


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError):
    log.info("Enquiry form shown again: CSRF check failed (%s)", error.description)
    enquiry = _posted_form()
    refresh_form_token(enquiry)
    enquiry.validate()
    notice = NOTICE_TIMEOUT
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        notice = {**notice, "body": [*notice["body"], NOTICE_NO_COOKIE]}
    # csrf_token() in the template makes a fresh token (and a new session secret if
    # the cookie was missing).
    return render_form(enquiry, notice=notice, status=400)


@bp.errorhandler(RateLimitExceeded)
def rate_limited(error: RateLimitExceeded):
    log.info("Enquiry form shown again: rate limit reached")
    wait = 60
    current = limiter.current_limit
    if current is not None:
        # The window's own reset time, rounded up: RequestLimit.reset_at is already a second later.
        wait = max(1, math.ceil(current.window.reset_time - time.time()))
    enquiry = _posted_form()
    refresh_form_token(enquiry)
    return render_form(
        enquiry, notice=notice_rate_limited(wait), status=429, headers={"Retry-After": str(wait)}
    )
