"""Seal the hub's message at acceptance: encrypted to the hub's own key(s), so neither our disk
nor the mailbox holds a readable enquiry (issue 13; staff guide: docs/hub-keys.md).

Three ways, chosen by ``HUB_ENCRYPTION``:

* ``smime``: the ``cryptography`` package's PKCS#7 envelope, AES-256-CBC content encryption and
  RSA key transport (what Outlook and Thunderbird read; Outlook cannot read AES-GCM), sent as
  ``application/pkcs7-mime; smime-type=enveloped-data`` to every certificate in
  ``HUB_SMIME_CERTIFICATES``.
* ``openpgp``: PGP/MIME (RFC 3156, ``multipart/encrypted``) to every key in ``HUB_OPENPGP_KEYS``,
  with pysequoia (Sequoia, in process). Not python-gnupg: it runs one ``gpg`` process per
  message, which added 5.6 ms of CPU (and far more wall time) a message against 0.4-0.9 ms in
  process (``python -m bench.seal``, 2 shared cores): alone it would take the 319 submissions/s
  of bench/submit.py to about half, below the 0.8 goal. In process there is also no keyring,
  GnuPG home or agent at all, so nothing is shared by mistake between gunicorn's forks and
  threads, and the service never touches anyone's ``~/.gnupg``. Sequoia's RSA costs more than
  its Curve25519 (0.8 against 0.4 ms), so the staff guide suggests ECC keys.
* ``none``: the message as it is sent today. An explicit choice, warned about at every start.

What is sealed is the whole message as ``message.build_message`` makes it, headers included
(RFC 9788 header protection, ``hp="cipher"``). Outside stay only From, To, Subject (the
reference), Date, Message-ID, Reply-To (the hub's own inbox, the same inside) and the two
headers asking for no automatic replies: an allowlist, so whatever the message gains later
stays inside. Reply-To is outside too because mail clients (Thunderbird, neomutt) answer from
the outer headers: Reply, which quotes the decrypted enquiry, goes to the hub's inbox, whose
key staff have, never to our sender address.

**Signed inside the seal** (issue 20), when the service has a signing key of its own
(``SIGNING_SMIME_CERTIFICATE`` + ``SIGNING_SMIME_KEY``, or ``SIGNING_OPENPGP_KEY``): without it
anyone who learns the hub's address can send a message that looks like an enquiry. The message
is signed, then sealed, so the signature (and who made it) is hidden from the mail relays too.

* S/MIME: the inner entity is signed as ``multipart/signed`` (a detached CMS signature, SHA-256),
  and that whole ``multipart/signed`` is enveloped. Not opaque ``signed-data``: RFC 8551 section
  3.5 prefers multipart/signed for sending, it is what Thunderbird itself writes when it signs and
  encrypts (nsMsgComposeSecure: "tack a multipart/signed header onto the front of the data to be
  encrypted"), Outlook and Thunderbird show both as signed, and a reader that can decrypt but not
  verify still shows the enquiry, where opaque signed-data hides it inside ASN.1.
* OpenPGP: signed and encrypted in one OpenPGP message (RFC 3156 section 6.2, "combined
  method"), as ``pysequoia.encrypt(..., signer=...)`` makes it and Thunderbird writes it.

Without a signing key the service still starts, with a warning in the log and GET /healthz.
The signing key is checked at start like the hub's (unreadable, expired, revoked, not for
signing, protected by a password, or the hub's own key: the start stops, naming the file and
never showing key material).

Only public keys of the hub are needed or accepted: a file holding a private key stops the start.
Depends on the settings mapping only, never on Flask, so the app, the CLI and the benchmarks
call it alike. Loaded objects are immutable and keep no handles, so one loaded in gunicorn's
master is safe in every forked worker and thread (``tests/test_seal.py`` checks both).
"""
from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage

from .config import is_development
from .message import message_bytes
from .sealkeys import (  # noqa: F401  (SealingConfigError, SIGNING_SETTINGS: part of this module's interface)
    EXPIRY_WARNING,
    SIGNING_SETTINGS,
    Recipient,
    SealingConfigError,
    SigningKey,
    _load_certificates,
    _load_openpgp_keys,
    _load_signing_key,
    _read,
)

METHODS = ("smime", "openpgp", "none")

#: The only headers left readable on a sealed message: none of them holds anything personal.
OUTER_HEADERS = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                 "X-Auto-Response-Suppress")

_PGP_PREAMBLE = "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)"


class SealingFailed(Exception):
    """A message could not be sealed. Nothing may be stored; the person is asked to try again
    with their text kept. ``str(error)`` never holds any of the message."""


@dataclass(frozen=True)
class Sealer:
    """Seals the hub's messages one way. Make it with ``load_sealer(config)``."""

    method: str
    recipients: tuple[Recipient, ...] = ()
    #: Warnings that hold for as long as it runs (``none`` chosen, not signed), besides expiry.
    notes: tuple[str, ...] = ()
    #: The service's own key that signs each enquiry inside the seal; None: not signed.
    signing: SigningKey | None = None
    _keys: tuple = field(default=(), repr=False, compare=False)
    #: The private key (S/MIME: certificate, key, chain; OpenPGP: a pysequoia signer): never shown.
    _signer: object = field(default=None, repr=False, compare=False)

    def seal(self, msg: EmailMessage) -> bytes:
        """The bytes to store and send (CRLF line ends, as SMTP carries them)."""
        return message_bytes(msg)

    def warnings(self, now: datetime | None = None) -> list[str]:
        """What to log at start and show in GET /healthz: ``none`` chosen, enquiries not signed, a key
        expired or ending soon."""
        now = now or datetime.now(timezone.utc)
        keys = (*self.recipients, *filter(None, [self.signing]))
        return [*self.notes, *filter(None, (key.warning(now) for key in keys))]

    def status(self, now: datetime | None = None) -> dict:
        """For GET /healthz: how enquiries are sealed, and the warnings (nothing secret or personal)."""
        now = now or datetime.now(timezone.utc)
        ends = [r.expires for r in self.recipients if r.expires is not None]
        signing_ends = self.signing.expires if self.signing else None
        return {
            "encryption": self.method,
            "recipients": len(self.recipients),
            "expires_soonest": min(ends).strftime("%Y-%m-%dT%H:%M:%SZ") if ends else None,
            "signed": self.signing is not None,
            "signing_expires": signing_ends.strftime("%Y-%m-%dT%H:%M:%SZ") if signing_ends else None,
            "warnings": self.warnings(now),
        }

    def log_start(self, log: logging.Logger) -> None:
        """At start: what enquiries are sealed to and signed with (so staff can check the
        fingerprints), then each warning."""
        for recipient in self.recipients:
            log.info("sealing enquiries (%s) to %s", self.method, recipient)
        if self.signing:
            log.info("signing enquiries (%s) with %s", self.method, self.signing)
        for warning in self.warnings():
            log.warning("%s", warning)

    # -- the sealed message ----------------------------------------------------------------
    # Built as bytes from the message's own wire form rather than with the email package: its
    # header folding cost more than the encryption itself (bench/seal.py: a second and third
    # serialisation took ~6 ms a message on this machine), and copying the folded header lines
    # keeps the outer headers byte for byte as today's. Tests parse the result with the email
    # package and decrypt it with openssl and gpg.

    @staticmethod
    def _parts(msg: EmailMessage) -> tuple[list[bytes], bytes]:
        """Today's wire form, once: its header fields and the inner entity to seal.

        The inner entity is the whole message as the hub gets it today, marked as carrying
        protected headers (RFC 9788, ``hp="cipher"``) so a mail client that knows shows them.
        """
        fields, body = _split(message_bytes(msg))
        inner = list(fields)
        for i, f in enumerate(inner):
            if _field_name(f) == b"content-type":
                last = f.rsplit(b"\r\n", 1)[-1]
                inner[i] = f + (b'; hp="cipher"' if len(last) <= 64 else b';\r\n hp="cipher"')
        return fields, b"\r\n".join(inner) + b"\r\n\r\n" + body

    @staticmethod
    def _sealed(fields: list[bytes], content_headers: list[bytes], body: bytes) -> bytes:
        """The outer message: only the allowed header lines, byte for byte, then the sealed body."""
        outer = [f for f in fields if _field_name(f) in _OUTER] + [b"MIME-Version: 1.0", *content_headers]
        return b"\r\n".join(outer) + b"\r\n\r\n" + body


_OUTER = {name.lower().encode() for name in OUTER_HEADERS}


def _split(raw: bytes) -> tuple[list[bytes], bytes]:
    """A message's header fields (each with its folds, no line end) and its body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields, body


def _field_name(field: bytes) -> bytes:
    return field.split(b":", 1)[0].strip().lower()


def _crlf(text: bytes) -> bytes:
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _smime_signed(inner: bytes, certificate, key, chain: tuple) -> bytes:
    """``inner`` as a ``multipart/signed`` entity (RFC 8551 3.5.3), for the envelope to seal.

    The signed part is ``inner`` byte for byte (already canonical: CRLF), so what the hub's
    client verifies is exactly the message as it is built today. The certificate and any
    intermediates go in the signature, so the hub's client can check the chain and remember
    the certificate without being sent it separately.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    builder = pkcs7.PKCS7SignatureBuilder().set_data(inner).add_signer(certificate, key, hashes.SHA256())
    for extra in chain:
        builder = builder.add_certificate(extra)
    # Binary: sign the bytes as they are (Text would add a header; the default would re-canonicalise).
    der = builder.sign(Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    boundary = b"signed-" + secrets.token_hex(16).encode()
    return b"\r\n".join([
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256;',
        b' boundary="' + boundary + b'"',
        b"",
        b"This is a cryptographically signed message in MIME format.",
        b"",
        b"--" + boundary,
        # The delimiter's own CRLF ends the signed part: inner is signed up to its last byte.
        inner + b"\r\n--" + boundary,
        b'Content-Type: application/pkcs7-signature; name="smime.p7s"',
        b"Content-Transfer-Encoding: base64",
        b'Content-Disposition: attachment; filename="smime.p7s"',
        b"Content-Description: S/MIME Cryptographic Signature",
        b"",
        _crlf(base64.encodebytes(der)).rstrip(b"\r\n"),
        b"--" + boundary + b"--",
        b"",
    ])


class _SMIMESealer(Sealer):
    def seal(self, msg: EmailMessage) -> bytes:
        from cryptography.hazmat.primitives.ciphers import algorithms
        from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

        try:
            fields, inner = self._parts(msg)
            if self._signer is not None:
                inner = _smime_signed(inner, *self._signer)
            builder = pkcs7.PKCS7EnvelopeBuilder().set_data(inner)
            for certificate in self._keys:
                builder = builder.add_recipient(certificate)
            # Binary: the entity is already canonical (CRLF), so it is sealed byte for byte.
            der = builder.set_content_encryption_algorithm(algorithms.AES256).encrypt(
                Encoding.DER, [pkcs7.PKCS7Options.Binary])
        except Exception as exc:  # noqa: BLE001 - any failure means: not sealed, not stored
            raise SealingFailed(f"S/MIME: {type(exc).__name__}") from None
        return self._sealed(fields, [
            b'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"',
            b"Content-Transfer-Encoding: base64",
            b'Content-Disposition: attachment; filename="smime.p7m"',
        ], _crlf(base64.encodebytes(der)))


class _OpenPGPSealer(Sealer):
    def seal(self, msg: EmailMessage) -> bytes:
        import pysequoia

        try:
            fields, inner = self._parts(msg)
            # With a signer: one-pass signed, then encrypted, in the one message (RFC 3156 6.2).
            armoured = pysequoia.encrypt(inner, recipients=list(self._keys), signer=self._signer, armor=True)
        except Exception as exc:  # noqa: BLE001 - any failure means: not sealed, not stored
            raise SealingFailed(f"OpenPGP: {type(exc).__name__}") from None
        # The two parts as RFC 3156 and Thunderbird write them. The boundary cannot occur in
        # the armour (base64 has no "-"; its own lines start "-----").
        boundary = b"sealed-" + secrets.token_hex(16).encode()
        body = b"\r\n".join([
            _PGP_PREAMBLE.encode(),
            b"--" + boundary,
            b"Content-Type: application/pgp-encrypted",
            b"Content-Description: PGP/MIME version identification",
            b"",
            b"Version: 1",
            b"",
            b"--" + boundary,
            b'Content-Type: application/octet-stream; name="encrypted.asc"',
            b"Content-Description: OpenPGP encrypted message",
            b'Content-Disposition: inline; filename="encrypted.asc"',
            b"",
            _crlf(armoured).rstrip(b"\r\n"),
            b"--" + boundary + b"--",
            b"",
        ])
        return self._sealed(fields, [
            b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";',
            b' boundary="' + boundary + b'"',
        ], body)


# -- loading and checking the keys at start ---------------------------------------------------


def load_sealer(config: Mapping, now: datetime | None = None) -> Sealer:
    """The sealer the settings ask for, its keys read and checked. Call once at start.

    Raises ``SealingConfigError`` (naming the setting or file and the problem) when production
    has no ``HUB_ENCRYPTION``, the method is unknown, or a certificate or key is unreadable,
    expired, not yet valid, revoked, not for encryption, of a kind we cannot seal to, or a
    private key; likewise when the service's signing key (``SIGNING_*``, optional) is set for
    another method or without sealing, is unreadable, expired, revoked, not for signing,
    protected by a password, or the hub's own. Log ``sealer.warnings()`` at start.
    """
    now = now or datetime.now(timezone.utc)
    method = str(config.get("HUB_ENCRYPTION") or "").strip().lower()
    signing = {name: str(value or "").strip() for name, value in (
        ("SIGNING_SMIME_CERTIFICATE", config.get("SIGNING_SMIME_CERTIFICATE")),
        ("SIGNING_SMIME_KEY", config.get("SIGNING_SMIME_KEY")),
        ("SIGNING_OPENPGP_KEY", config.get("SIGNING_OPENPGP_KEY")))}
    if method in ("", "none") and any(signing.values()):
        # Refused rather than ignored: whoever set it expects signed enquiries.
        given = next(name for name, value in signing.items() if value)
        raise SealingConfigError(f"FORMSVC_{given} is set, but enquiries are not sealed (FORMSVC_HUB_ENCRYPTION="
                                 f"{method or 'empty'}): the service signs only inside the seal. Set "
                                 "FORMSVC_HUB_ENCRYPTION, or unset the signing settings.")
    if not method:
        if not is_development(config):
            raise SealingConfigError(
                "FORMSVC_HUB_ENCRYPTION is not set. Set it to smime (and FORMSVC_HUB_SMIME_CERTIFICATES to the "
                "hub's certificate file) or openpgp (and FORMSVC_HUB_OPENPGP_KEYS to the hub's public key file), "
                "or to none to send enquiries unsealed on purpose. See docs/hub-keys.md."
            )
        return Sealer("none", notes=("HUB_ENCRYPTION is not set: enquiries are stored and sent unsealed "
                                     "(development default; production refuses to start so)",))
    if method not in METHODS:
        raise SealingConfigError(f"FORMSVC_HUB_ENCRYPTION={method!r}: use smime, openpgp or none.")
    if method == "none":
        return Sealer("none", notes=("HUB_ENCRYPTION=none: enquiries are stored on our disk and sent to the "
                                     "hub unsealed, readable by anyone who can read either",))
    setting = "HUB_SMIME_CERTIFICATES" if method == "smime" else "HUB_OPENPGP_KEYS"
    path = str(config.get(setting) or "").strip()
    if not path:
        raise SealingConfigError(f"FORMSVC_HUB_ENCRYPTION={method} needs FORMSVC_{setting}: the path of the "
                                 "hub's public key file (docs/hub-keys.md).")
    data = _read(path)
    if method == "smime":
        keys, recipients = _load_certificates(path, data, now)
    else:
        keys, recipients = _load_openpgp_keys(path, data, now)
    signing_key, signer, notes = _load_signing_key(method, signing, keys, config.get("MAIL_FROM"), now)
    kind = _SMIMESealer if method == "smime" else _OpenPGPSealer
    return kind(method, recipients, notes=notes, signing=signing_key, _keys=keys, _signer=signer)


__all__ = ["METHODS", "EXPIRY_WARNING", "OUTER_HEADERS", "SIGNING_SETTINGS", "SealingConfigError", "SealingFailed",
           "Recipient", "SigningKey", "Sealer", "load_sealer"]
