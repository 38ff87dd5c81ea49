"""Sending the stored messages: SMTP to the hub's relay, or a local Maildir by default.

The worker hands each message's bytes (``message.message_bytes``, sealed) to a transport,
which sends them exactly as they are and knows nothing of what is inside. Errors describe
themselves in a few words ("SMTP 451", "TimeoutError"): server replies and exception texts
can echo what was sent, so they are not kept.
"""
from __future__ import annotations

import mailbox
import os
import re
import select
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path

from .config import default
from .message import fixed_header, is_international


class DeliveryError(Exception):
    """Sending failed. ``str(error)`` is a short description safe to store and log."""


class TransientDeliveryError(DeliveryError):
    """Try again later: no connection, timeout, disconnect, a 4xx reply."""


class ConnectError(TransientDeliveryError):
    """The server (or Maildir) could not be reached at all: later messages would fail too."""


class PermanentDeliveryError(DeliveryError):
    """The server refused this message for good (a 5xx reply)."""


class Transport:
    """``open()``, ``send(data, envelope)``, ``close()``; ``with transport:`` opens and closes.

    ``data`` is a stored message (``message.message_bytes``), sent exactly as it is.
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


@dataclass(frozen=True)
class Envelope:
    """Who the stored messages are from and to, for SMTP's MAIL FROM and RCPT TO."""

    sender: str
    recipients: tuple[str, ...]

    @classmethod
    def of(cls, mail_from: str, hub_inbox: str) -> "Envelope":
        return cls(fixed_header("From", mail_from).addresses[0].addr_spec,
                   tuple(a.addr_spec for a in fixed_header("To", hub_inbox).addresses))

    @property
    def options(self) -> tuple[str, ...]:
        """MAIL options: a non-ASCII address needs SMTPUTF8 (its headers are UTF-8 too)."""
        return ("SMTPUTF8", "BODY=8BITMIME") if is_international([self.sender, *self.recipients]) else ()


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
