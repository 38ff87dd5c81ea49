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

Only public keys are needed or accepted: a file holding a private key stops the start.
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
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

from .config import is_development
from .message import message_bytes

METHODS = ("smime", "openpgp", "none")

#: A certificate or key this close to its end is a warning at start and in GET /healthz.
EXPIRY_WARNING = timedelta(days=30)

#: The only headers left readable on a sealed message: none of them holds anything personal.
OUTER_HEADERS = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                 "X-Auto-Response-Suppress")

_PGP_PREAMBLE = "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)"


class SealingConfigError(RuntimeError):
    """The sealing settings or key file cannot be used: the service must not start.

    ``str(error)`` names the setting or file and the problem, for the operator.
    """


class SealingFailed(Exception):
    """A message could not be sealed. Nothing may be stored; the person is asked to try again
    with their text kept. ``str(error)`` never holds any of the message."""


@dataclass(frozen=True)
class Recipient:
    """One certificate or key the hub's messages are sealed to (nothing secret, nothing personal)."""

    file: str
    kind: str  # "certificate" or "OpenPGP key"
    name: str  # the certificate's subject or the key's first user ID (the hub's mailbox)
    ident: str  # serial number or fingerprint
    expires: datetime | None  # for a key: when its last usable encryption key ends

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.ident}) in {self.file}"

    def warning(self, now: datetime) -> str | None:
        if self.expires is None or self.expires - now > EXPIRY_WARNING:
            return None
        when = self.expires.strftime("%Y-%m-%d %H:%M UTC")
        if self.expires <= now:
            return f"{self} expired on {when}: sealed enquiries still go to it; replace it now (docs/hub-keys.md)"
        days = (self.expires - now).days
        return f"{self} expires on {when}, in {days} days: add the new one to the file (docs/hub-keys.md)"


@dataclass(frozen=True)
class Sealer:
    """Seals the hub's messages one way. Make it with ``load_sealer(config)``."""

    method: str
    recipients: tuple[Recipient, ...] = ()
    #: Warnings that hold for as long as it runs (``none`` chosen), besides expiry.
    notes: tuple[str, ...] = ()
    _keys: tuple = field(default=(), repr=False, compare=False)

    def seal(self, msg: EmailMessage) -> bytes:
        """The bytes to store and send (CRLF line ends, as SMTP carries them)."""
        return message_bytes(msg)

    def warnings(self, now: datetime | None = None) -> list[str]:
        """What to log at start and show in GET /healthz: ``none`` chosen, a key expired or ending soon."""
        now = now or datetime.now(timezone.utc)
        return [*self.notes, *filter(None, (r.warning(now) for r in self.recipients))]

    def status(self, now: datetime | None = None) -> dict:
        """For GET /healthz: how enquiries are sealed, and the warnings (nothing secret or personal)."""
        now = now or datetime.now(timezone.utc)
        ends = [r.expires for r in self.recipients if r.expires is not None]
        return {
            "encryption": self.method,
            "recipients": len(self.recipients),
            "expires_soonest": min(ends).strftime("%Y-%m-%dT%H:%M:%SZ") if ends else None,
            "warnings": self.warnings(now),
        }

    def log_start(self, log: logging.Logger) -> None:
        """At start: what enquiries are sealed to (so staff can check the fingerprint), then each warning."""
        for recipient in self.recipients:
            log.info("sealing enquiries (%s) to %s", self.method, recipient)
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


class _SMIMESealer(Sealer):
    def seal(self, msg: EmailMessage) -> bytes:
        from cryptography.hazmat.primitives.ciphers import algorithms
        from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

        try:
            fields, inner = self._parts(msg)
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
            armoured = pysequoia.encrypt(inner, recipients=list(self._keys), armor=True)
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
    private key. Log ``sealer.warnings()`` at start.
    """
    now = now or datetime.now(timezone.utc)
    method = str(config.get("HUB_ENCRYPTION") or "").strip().lower()
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
        return _SMIMESealer("smime", recipients, _keys=keys)
    keys, recipients = _load_openpgp_keys(path, data, now)
    return _OpenPGPSealer("openpgp", recipients, _keys=keys)


def _read(path: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SealingConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__}).") from None
    if b"PRIVATE KEY" in data:
        # Both PEM ("-----BEGIN PRIVATE KEY-----") and OpenPGP ("PGP PRIVATE KEY BLOCK").
        raise SealingConfigError(f"{path}: holds a private key. Give the service only the public part "
                                 "(the certificate or public key); the private key stays with the hub.")
    return data


def _x509_name(certificate) -> str:
    """"hub <hub@hub.example>": the certificate's common name and mailbox, as staff know it."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    common = [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    mailboxes = [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)]
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        mailboxes += names.get_values_for_type(x509.RFC822Name)
    except x509.ExtensionNotFound:
        pass
    name = " ".join([*common[:1], *(f"<{m}>" for m in mailboxes[:1])])
    return name or certificate.subject.rfc4514_string() or f"serial {certificate.serial_number:x}"


def _load_certificates(path: str, data: bytes, now: datetime):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
    from cryptography.x509.oid import ExtendedKeyUsageOID

    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise SealingConfigError(f"{path}: is not a PEM file of X.509 certificates "
                                 "(expected -----BEGIN CERTIFICATE----- blocks).") from None
    recipients = []
    for certificate in certificates:
        name = _x509_name(certificate)
        where = f"{path}: certificate {name}"
        if not isinstance(certificate.public_key(), rsa.RSAPublicKey):
            kind = type(certificate.public_key()).__name__.removesuffix("PublicKey")
            raise SealingConfigError(f"{where} has a key of type {kind}; S/MIME sealing needs an RSA certificate "
                                     "(the only kind cryptography's envelope can seal to).")
        if certificate.not_valid_after_utc <= now:
            raise SealingConfigError(f"{where} expired on {certificate.not_valid_after_utc:%Y-%m-%d}.")
        if certificate.not_valid_before_utc > now:
            raise SealingConfigError(f"{where} is not valid until {certificate.not_valid_before_utc:%Y-%m-%d}.")
        try:
            usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            usage = None
        if usage is not None and not usage.key_encipherment:
            raise SealingConfigError(f"{where} is not for encryption: its key usage lacks keyEncipherment.")
        try:
            purposes = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            purposes = None
        if purposes is not None and not {ExtendedKeyUsageOID.EMAIL_PROTECTION,
                                         ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE} & set(purposes):
            raise SealingConfigError(f"{where} is not for email: its extended key usage lacks emailProtection.")
        try:  # whatever else the envelope refuses, refuse it now rather than at the first enquiry
            pkcs7.PKCS7EnvelopeBuilder().set_data(b"probe").add_recipient(certificate).encrypt(Encoding.DER, [])
        except Exception as exc:  # noqa: BLE001
            raise SealingConfigError(f"{where} cannot be sealed to ({type(exc).__name__}: {exc}).") from None
        recipients.append(Recipient(path, "certificate", name, f"serial {certificate.serial_number:x}",
                                    certificate.not_valid_after_utc))
    if not recipients:
        raise SealingConfigError(f"{path}: holds no certificate.")
    return tuple(certificates), tuple(recipients)


def _load_openpgp_keys(path: str, data: bytes, now: datetime):
    import pysequoia
    from pysequoia.packet import PacketPile, Tag

    secret_tags = {int(Tag.SecretKey), int(Tag.SecretSubkey)}

    try:
        certs = pysequoia.Cert.split_bytes(data)
        # An armoured private key was refused in _read; this finds a binary one.
        secret = any(int(packet.tag) in secret_tags for packet in PacketPile.from_bytes(data)) if certs else False
    except Exception as exc:  # noqa: BLE001 - Sequoia's parse errors have no common class
        raise SealingConfigError(f"{path}: is not an OpenPGP public key file ({exc}).") from None
    if secret:
        raise SealingConfigError(f"{path}: holds a private key. Give the service only the public key.")
    recipients = []
    for cert in certs:
        uids = [str(uid) for uid in cert.user_ids]
        name = uids[0] if uids else "(no user ID)"
        where = f"{path}: OpenPGP key {name} ({cert.fingerprint.upper()})"
        if cert.is_revoked:
            raise SealingConfigError(f"{where} has been revoked.")
        if cert.expiration is not None and cert.expiration <= now:
            raise SealingConfigError(f"{where} expired on {cert.expiration:%Y-%m-%d}.")
        live = _encryption_key_ends(cert, now)
        try:
            # Sequoia's standard policy refuses what it cannot encrypt to (no encryption flag,
            # weak or unknown algorithms); refused now rather than at the first enquiry.
            pysequoia.encrypt(b"probe", recipients=[cert])
        except Exception:  # noqa: BLE001
            live = []
        if not live:
            raise SealingConfigError(f"{where} has no key usable for encryption (no encryption subkey, or it "
                                     "has expired or been revoked).")
        # The key lasts as long as its primary and its longest-lived encryption subkey.
        ends = None if None in live else max(live)
        if cert.expiration is not None:
            ends = cert.expiration if ends is None else min(ends, cert.expiration)
        recipients.append(Recipient(path, "OpenPGP key", name, cert.fingerprint.upper(), ends))
    if not recipients:
        raise SealingConfigError(f"{path}: holds no OpenPGP key (expected -----BEGIN PGP PUBLIC KEY BLOCK-----).")
    return tuple(certs), tuple(recipients)


def _encryption_key_ends(cert, now: datetime) -> list[datetime | None]:
    """When each of the key's live encryption-capable (sub)keys ends (None: never).

    Read from each key packet's newest self-signature with encryption flags. pysequoia's
    ``encrypt`` does not leave out an expired or revoked encryption subkey (it sealed to one
    that ended in 2020: tests/test_seal.py), so this decides whether one is still live.
    """
    from pysequoia.packet import PacketPile, SignatureType, Tag

    binding = {int(kind) for kind in (SignatureType.SubkeyBinding, SignatureType.PositiveCertification,
                                      SignatureType.CasualCertification, SignatureType.GenericCertification,
                                      SignatureType.PersonaCertification, SignatureType.DirectKey)}
    revocation = {int(SignatureType.SubkeyRevocation)}
    newest: dict[int, tuple[datetime, datetime | None]] = {}  # key index -> (signed, ends)
    revoked: set[int] = set()
    created, index = None, -1
    for packet in PacketPile.from_bytes(bytes(cert)):
        if packet.tag in (Tag.PublicKey, Tag.PublicSubkey):
            created, index = packet.key_created, index + 1
        elif packet.tag == Tag.Signature and created is not None:
            kind = int(packet.signature_type)
            if kind in revocation:
                revoked.add(index)
                continue
            flags = packet.key_flags
            if kind not in binding or flags is None or not (flags.transport_encryption or flags.storage_encryption):
                continue
            period = packet.key_validity_period
            ends = created + period if period else None
            signed = packet.signature_created or created
            if index not in newest or signed >= newest[index][0]:
                newest[index] = (signed, ends)
    return [ends for key, (_, ends) in newest.items()
            if key not in revoked and (ends is None or ends > now)]


__all__ = ["METHODS", "EXPIRY_WARNING", "OUTER_HEADERS", "SealingConfigError", "SealingFailed", "Recipient",
           "Sealer", "load_sealer"]
