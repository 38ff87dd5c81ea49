"""Turn an accepted enquiry into the hub's email, and hand stored messages to a transport.

The web process builds the message when it accepts an enquiry (``formsvc.accept``);
the outbox keeps its bytes and the worker sends them unchanged. Knows nothing of
Flask requests. Rules that protect the person who wrote:

* No user text in any header, nor anything built from it. ``Reply-To`` is the hub's own
  inbox, so Reply (which quotes the whole enquiry) comes back to the hub, never to the
  person or to our sender address. The subject is "Restorative justice enquiry " and
  the reference, nothing else.
* For a person who chose email, the body has a ``mailto:`` link to exactly the address
  they typed, with the reference alone as its subject and nothing of the enquiry in it.
* The body starts with how it is safe to contact them, so nobody phones a person
  who said "email only", or leaves a message they said was unsafe. Each answer is
  under the form's own question, worded as on the form (formsvc/questions.py).
* Errors describe themselves in a few words ("SMTP 451", "TimeoutError"): server
  replies and exception texts can echo what was sent, so they are not kept.
"""
from __future__ import annotations

import email.policy
import functools
import mailbox
import os
import re
import select
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .config import default
from .questions import ABOUT_KEYS, BY_KEY, CONTACT_KEYS, NOT_ANSWERED, Question

SUBJECT_PREFIX = "Restorative justice enquiry "

#: One plain address, ASCII only: what the form accepts (forms.py) and what the reply link
#: may carry. No spaces, quotes, commas, brackets, colons or semicolons, so a mail client
#: that reads the link's address as an address list finds this one address and no other.
EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
EMAIL_MAX = 254  # the longest address SMTP allows

#: Starts every line of the person's message in the hub's email, so that none of their lines is
#: read as ours or as mail syntax: "-- " would start a signature (Thunderbird greys out the rest),
#: a line starting "From " becomes ">From " in an mbox, one starting ">" shows as a quotation,
#: and a typed "End of message" or "HOW TO CONTACT THEM SAFELY" cannot pass for the email's own.
MESSAGE_PREFIX = "| "

# Characters that could break a header or fake a line or reorder text on screen:
# C0/C1 controls, line/paragraph separators, bidi embeddings, overrides and isolates.
_UNSAFE_INLINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


class DeliveryError(Exception):
    """Sending failed. ``str(error)`` is a short description safe to store and log."""


class TransientDeliveryError(DeliveryError):
    """Try again later: no connection, timeout, disconnect, a 4xx reply."""


class ConnectError(TransientDeliveryError):
    """The server (or Maildir) could not be reached at all: later messages would fail too."""


class PermanentDeliveryError(DeliveryError):
    """The server refused this message for good (a 5xx reply)."""


# -- the message ----------------------------------------------------------------------


# Characters that reorder the text around them on screen (bidirectional embeddings,
# overrides, isolates and marks): "\u202e" can make "Do not call" display as something else.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible_bidi(text: str) -> str:
    """Bidirectional controls written out ("[U+202E]"): the hub sees that they were there,
    and the email displays in the order it was typed."""
    return _BIDI.sub(lambda found: f"[U+{ord(found.group()):04X}]", text)
@dataclass(frozen=True)
class Enquiry:
    """An enquiry just accepted: what the hub's message is made from (in memory only)."""

    reference: str
    message_id: str
    #: When the person sent it (epoch seconds); the message's Date.
    created_at: float
    answers: dict[str, str] = field(repr=False)  # never in a repr, so never in a log by accident


def new_message_id(mail_from: str) -> str:
    """A Message-ID in our own domain, minted once per enquiry and kept across resends.

    Never the machine's name: make_msgid's default would look it up, slowly, and put
    the host name in every message.
    """
    domain = parseaddr(mail_from or "")[1].rpartition("@")[2]
    return make_msgid(domain=domain or "localhost")


def one_line(value: str | None) -> str:
    """A single-line answer as safe plain text: no line breaks or controls, bidi controls shown.

    Answers other than the message are one line on the form; flattening them here
    means none of them can add a fake line such as "Only contact this person by PHONE."
    """
    return re.sub(r"\s+", " ", _UNSAFE_INLINE.sub(" ", visible_bidi(value or ""))).strip()


def reply_link(answers: dict[str, str], reference: str) -> str | None:
    """``mailto:`` the address they typed, subject the reference: or None if they did not
    choose email, or the address is not one plain address (then staff copy it from the body).

    Nothing but the reference goes in the subject: it shows in the person's inbox and
    notifications, where someone else may see it. No ``body=``: nothing of the enquiry is
    quoted, so the new email holds only what staff write. Everything but letters, digits,
    "-._~" and the "@" is percent-encoded (RFC 6068 asks at least "%/?#[]"; "+" as %2B so
    no client reads it as a space).
    """
    address = answers.get("email") or ""
    if answers.get("contact_method") != "email" or len(address) > EMAIL_MAX or not EMAIL_RE.fullmatch(address):
        return None
    return f"mailto:{quote(address, safe='@')}?subject={quote(reference, safe='')}"


def answer_line(question: Question, answers: dict[str, str]) -> str:
    """One answer as the hub reads it: the form's question, then the answer worded as on the form."""
    if question.choices:
        choice = question.choice(answers.get(question.key))
        if choice is None:
            text = question.not_answered
        else:
            text = choice.label + (f" - {choice.for_the_hub}" if choice.for_the_hub else "")
    else:
        text = one_line(answers.get(question.key)) or question.not_answered
    return f"{question.label}{' ' if question.label.endswith('?') else ': '}{text}"


# The hub works in UK time; UTC alone would be an hour out all summer.
UK_TIME = ZoneInfo("Europe/London")


def uk_time(timestamp: float) -> str:
    """A moment as the hub reads it: "1 December 2026, 21:35 GMT", or BST in summer."""
    when = datetime.fromtimestamp(timestamp, UK_TIME)
    return f"{when.day} {when:%B %Y, %H:%M} {when.tzname()}"


def reply_lines(answers: dict[str, str], reference: str) -> list[str]:
    """How to write to a person who chose email: the link on a line of its own, so a mail
    client finds where it ends; and that Reply is not the way (it comes back to the hub)."""
    link = reply_link(answers, reference)
    if link is None:
        return ["To write to them, copy the address above into a new email. Reply comes back to the hub."]
    return ["To write to them, use this link (a new email to that address only). Reply comes back to the hub.",
            link]


def build_body(enquiry: Enquiry) -> str:
    a = enquiry.answers
    method = a.get("contact_method")
    known_method = BY_KEY["contact_method"].choice(method) is not None

    def wanted(key: str) -> bool:
        # Only the way of contact they chose: the other may not be safe to use. If the
        # choice is missing, show everything (the first line says to take care).
        only_for = BY_KEY[key].only_for
        return only_for is None or not known_method or only_for == method

    contact = []
    for key in CONTACT_KEYS:
        if wanted(key):
            contact.append(answer_line(BY_KEY[key], a))
            if key == "email" and method == "email":
                contact += reply_lines(a, enquiry.reference)
    lines = [
        f"Restorative justice enquiry {enquiry.reference}",
        f"Received: {uk_time(enquiry.created_at)}",
        "",
        "HOW TO CONTACT THEM SAFELY",
        "--------------------------",
        *contact,
        "",
        "ABOUT THEM",
        "----------",
        *(answer_line(BY_KEY[key], a) for key in ABOUT_KEYS),
    ]
    message = visible_bidi(a.get("message") or "")
    lines += [
        "",
        f'THEIR MESSAGE, exactly as typed after the "{MESSAGE_PREFIX}" that starts each line',
        BY_KEY["message"].label,
        "--------------------------------",
        # Every kind of line break a client may show ends a line here, so each line it shows has the prefix.
        *([MESSAGE_PREFIX + line for line in message.splitlines()] if message.strip() else [NOT_ANSWERED]),
        "--------------------------------",
        "End of message",
    ]
    return "\n".join(lines) + "\n"


class _HeaderClasses(HeaderRegistry):
    """The email package's header registry, making each header class once.

    The stock registry creates a new class (``type(...)``) for every header it
    parses, which was a third of the cost of building a message. The classes it
    makes hold no state, so one per header name does exactly the same.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._made: dict[str, type] = {}

    def __getitem__(self, name):
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


#: ``email.policy.default`` with the registry above: same parsing, same checks.
POLICY = email.policy.default.clone(header_factory=_HeaderClasses())


@functools.lru_cache(maxsize=32)
def _same_in_every_message(name: str, value: str):
    """A header parsed once (our own addresses, fixed values), with the usual checks."""
    return POLICY.header_store_parse(name, value)[1]


def build_message(enquiry: Enquiry, *, mail_from: str, hub_inbox: str) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = SUBJECT_PREFIX + enquiry.reference
    msg["From"] = _same_in_every_message("From", mail_from)  # our own address: the person's would fail DMARC
    msg["To"] = _same_in_every_message("To", hub_inbox)
    # Date is when the person wrote, so every resend is the same message.
    msg["Date"] = format_datetime(datetime.fromtimestamp(enquiry.created_at, timezone.utc))
    msg["Message-ID"] = enquiry.message_id
    # Reply quotes the whole enquiry: it goes back to the hub's own inbox, whose key staff
    # have, so it stays sealed. Never the person (a header built from what they typed can
    # be made to hold another address: CPython gh-80222) nor our sender's mailbox.
    msg["Reply-To"] = _same_in_every_message("Reply-To", hub_inbox)
    # Ask the hub's mail system not to send out-of-office or other automatic
    # replies: they would only loop back to the hub or to our sender address.
    msg["Auto-Submitted"] = _same_in_every_message("Auto-Submitted", "auto-generated")
    msg["X-Auto-Response-Suppress"] = _same_in_every_message("X-Auto-Response-Suppress", "All")
    # Quoted-printable keeps every character of the message intact across relays
    # that only speak 7-bit; the message is text, never HTML.
    msg.set_content(build_body(enquiry), subtype="plain", charset="utf-8", cte="quoted-printable")
    return msg


# -- transports ------------------------------------------------------------------------


class Transport:
    """``open()``, ``send(data, envelope)``, ``close()``; ``with transport:`` opens and closes.

    ``data`` is a stored message (``message_bytes``), sent exactly as it is.
    """

    def open(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def send(self, data: bytes, envelope: Envelope) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _describe_reply(code: int, text: bytes | str | None) -> str:
    """"SMTP 550 5.7.1": the code and enhanced status only, never the server's words."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    enhanced = re.match(r"\s*([245]\.\d{1,3}\.\d{1,3})\b", text or "")
    return f"SMTP {code}" + (f" {enhanced.group(1)}" if enhanced else "")


def _error_name(exc: BaseException) -> str:
    """The exception's type name; smtplib reports a timed-out read as a disconnect, so name the timeout."""
    if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, TimeoutError):
        return "TimeoutError"
    return type(exc).__name__


def _classify(code: int, text) -> DeliveryError:
    error = PermanentDeliveryError if 500 <= code < 600 else TransientDeliveryError
    return error(_describe_reply(code, text))


def _international(addresses) -> bool:
    return not all(address.isascii() for address in addresses)


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as it goes on the wire (CRLF line ends), for the outbox to keep.

    Not ``smtplib.send_message``'s writer: it uses mbox "From " quoting, so a line of
    someone's message starting "From what I remember" reached the hub as
    ">From what I remember" (found by tests/test_fuzz.py). ``as_bytes`` does not.
    """
    addresses = [a.addr_spec for name in ("From", "To") for a in msg[name].addresses]
    policy = msg.policy.clone(linesep="\r\n", utf8=_international(addresses))
    return msg.as_bytes(policy=policy)


@dataclass(frozen=True)
class Envelope:
    """Who the stored messages are from and to, for SMTP's MAIL FROM and RCPT TO."""

    sender: str
    recipients: tuple[str, ...]

    @classmethod
    def of(cls, mail_from: str, hub_inbox: str) -> "Envelope":
        return cls(_same_in_every_message("From", mail_from).addresses[0].addr_spec,
                   tuple(a.addr_spec for a in _same_in_every_message("To", hub_inbox).addresses))

    @property
    def options(self) -> tuple[str, ...]:
        """MAIL options: a non-ASCII address needs SMTPUTF8 (its headers are UTF-8 too)."""
        return ("SMTPUTF8", "BODY=8BITMIME") if _international([self.sender, *self.recipients]) else ()


class SMTPTransport(Transport):
    def __init__(self, host: str, port: int, security: str = "starttls", username: str = "",
                 password: str = "", timeout: float = default("SMTP_TIMEOUT")):
        if security not in {"starttls", "ssl", "none"}:
            raise ValueError("security must be starttls, ssl or none")
        self.host, self.port, self.security = host, int(port), security
        self.username, self.password = username, password
        self.timeout = float(timeout or default("SMTP_TIMEOUT"))  # never wait for ever on a silent server
        self._smtp: smtplib.SMTP | None = None
        self._used = False

    def open(self) -> None:
        """Connect (and secure and log in). Any failure here is transient.

        Even a 5xx at this stage (say, a wrong password) is about our settings, not
        about a message: the queue waits for an operator rather than failing every
        enquiry in it.
        """
        if self._smtp is not None:
            return
        context = ssl.create_default_context()  # verifies the certificate and the host name
        smtp = None
        try:
            if self.security == "ssl":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
        except smtplib.SMTPResponseException as exc:
            self._quietly_close(smtp)
            raise ConnectError("connect: " + _describe_reply(exc.smtp_code, exc.smtp_error)) from None
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers refused, timeout, TLS
            self._quietly_close(smtp)
            raise ConnectError(_error_name(exc)) from None
        self._smtp, self._used = smtp, False

    def send(self, data: bytes, envelope: Envelope) -> None:
        if self._smtp is not None and self._used and not self._alive():
            # The server dropped an idle connection between messages: start afresh.
            self.close()
        self.open()
        self._used = True
        try:
            refused = self._smtp.sendmail(envelope.sender, list(envelope.recipients), data,
                                          mail_options=envelope.options)
        except smtplib.SMTPRecipientsRefused as exc:
            raise self._refused(exc.recipients) from None
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, ...
            if exc.smtp_code == 421:  # the server is closing this connection
                self._quietly_close(self._smtp)
                self._smtp = None
            raise _classify(exc.smtp_code, exc.smtp_error) from None
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, timeout, reset
            self._quietly_close(self._smtp)
            self._smtp = None
            raise TransientDeliveryError(_error_name(exc)) from None
        if refused:
            # Only some recipients refused: sendmail returns them instead of raising.
            raise self._refused(refused)

    @staticmethod
    def _refused(recipients: dict) -> DeliveryError:
        # Any permanent refusal makes it permanent; otherwise try again.
        code, text = max(recipients.values(), key=lambda pair: pair[0])
        return _classify(code, text)

    def _alive(self) -> bool:
        """Is the open connection still usable? Asked before reusing it, without a round trip.

        Between messages the server has nothing to say: if the socket is readable, it
        has hung up (end of file) or said goodbye ("421 closing"). Either way, start
        afresh. A NOOP would cost a round trip to the relay for every message.
        """
        sock = getattr(self._smtp, "sock", None)
        try:
            if sock is None or sock.fileno() < 0:
                return False
            if isinstance(sock, ssl.SSLSocket) and sock.pending():
                return False
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._quietly_close(smtp)

    @staticmethod
    def _quietly_close(smtp) -> None:
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass


class MaildirTransport(Transport):
    """Deliver into a standard Maildir (``new/``) that any mail client can open.

    The default when no SMTP host is set: mail is never silently dropped, it waits
    in DATA_DIR/maildir for someone to read or forward.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._box: mailbox.Maildir | None = None

    def open(self) -> None:
        try:
            if self._box is None:
                self._box = mailbox.Maildir(self.path, create=True)
        except OSError as exc:
            raise ConnectError(type(exc).__name__) from None

    def send(self, data: bytes, envelope: Envelope) -> None:
        self.open()
        try:
            # A mail file on disk has the system's line ends, not the wire's CRLF.
            key = self._box.add(data.replace(b"\r\n", b"\n"))  # writes and fsyncs tmp/, then links into new/
            # ...but the new directory entry is only on disk once the folder is
            # synced, and the outbox deletes its copy as soon as we return.
            fd = os.open(self.path / "new", os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:  # disk full, permissions: the outbox keeps it, try later
            raise TransientDeliveryError(type(exc).__name__) from None
        return key

    def close(self) -> None:
        self._box = None


def transport_from_config(config) -> Transport:
    """SMTP when ``SMTP_HOST`` is set, otherwise a Maildir under ``DATA_DIR``."""
    if not config.get("SMTP_HOST"):
        return MaildirTransport(Path(config["DATA_DIR"]) / "maildir")
    return SMTPTransport(
        config["SMTP_HOST"],
        int(config["SMTP_PORT"]),
        security=config["SMTP_SECURITY"],
        username=config["SMTP_USERNAME"],
        password=config["SMTP_PASSWORD"],
        timeout=config["SMTP_TIMEOUT"],
    )


__all__ = [
    "DeliveryError", "TransientDeliveryError", "ConnectError", "PermanentDeliveryError", "Enquiry", "Envelope",
    "build_message", "build_body", "message_bytes", "new_message_id",
    "Transport", "SMTPTransport", "MaildirTransport", "transport_from_config",
]
