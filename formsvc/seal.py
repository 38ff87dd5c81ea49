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
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import parseaddr
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
class _KeyFacts:
    """A certificate or key as the log and GET /healthz name it: public facts only."""

    file: str
    kind: str  # "certificate" or "OpenPGP key", "signing certificate" or "OpenPGP signing key"
    name: str  # the certificate's subject or the key's first user ID (its mailbox)
    ident: str  # serial number or fingerprint
    expires: datetime | None  # for a key: when its last usable encryption (signing) key ends

    #: What the warnings say after "expired on ...:" and "expires on ..., in N days:".
    _expired = ""
    _ending = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.ident}) in {self.file}"

    def warning(self, now: datetime) -> str | None:
        if self.expires is None or self.expires - now > EXPIRY_WARNING:
            return None
        when = self.expires.strftime("%Y-%m-%d %H:%M UTC")
        if self.expires <= now:
            return f"{self} expired on {when}: {self._expired}"
        days = (self.expires - now).days
        return f"{self} expires on {when}, in {days} days: {self._ending}"


@dataclass(frozen=True)
class Recipient(_KeyFacts):
    """One certificate or key the hub's messages are sealed to (nothing secret, nothing personal)."""

    _expired = "sealed enquiries still go to it; replace it now (docs/hub-keys.md)"
    _ending = "add the new one to the file (docs/hub-keys.md)"


@dataclass(frozen=True)
class SigningKey(_KeyFacts):
    """The service's own certificate or key that signs every enquiry: its public facts only
    (the private part is kept apart, in ``Sealer._signer``, and never printed)."""

    # The hub's client checks a signature against the time it was made: one made after the key
    # ended shows as invalid, so every enquiry then looks forged until the key is replaced.
    _expired = ("enquiries are still signed with it, but the hub's mail client shows them as not validly "
                "signed; replace it now (docs/hub-keys.md)")
    _ending = "make a new one and give the hub its public part (docs/hub-keys.md)"


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


# -- the service's own signing key ---------------------------------------------------------------

#: The signing settings each method reads.
SIGNING_SETTINGS = {"smime": ("SIGNING_SMIME_CERTIFICATE", "SIGNING_SMIME_KEY"), "openpgp": ("SIGNING_OPENPGP_KEY",)}


def _load_signing_key(method: str, signing: dict[str, str], hub_keys: tuple, mail_from, now: datetime):
    """(SigningKey, the private part, notes) for the method's signing settings; (None, None, the
    warning that enquiries are not signed) when they are empty."""
    own = SIGNING_SETTINGS[method]
    if stray := [name for name, value in signing.items() if value and name not in own]:
        raise SealingConfigError(f"FORMSVC_{stray[0]} is for the other kind of sealing, but FORMSVC_HUB_ENCRYPTION="
                                 f"{method}: sign with {' and '.join('FORMSVC_' + name for name in own)} instead.")
    paths = [signing[name] for name in own]
    if not any(paths):
        return None, None, (f"enquiries are not signed: the hub cannot tell them from a forged message sent to its "
                            f"address. Set {' and '.join('FORMSVC_' + name for name in own)} (docs/hub-keys.md)",)
    if not all(paths):
        missing = next(name for name in own if not signing[name])
        raise SealingConfigError(f"FORMSVC_{missing} is not set: signing with S/MIME needs the certificate "
                                 "and its private key (docs/hub-keys.md).")
    address = parseaddr(str(mail_from or ""))[1].lower()
    if method == "smime":
        key, signer, addresses = _load_smime_signer(*paths, hub_keys, now)
    else:
        key, signer, addresses = _load_openpgp_signer(*paths, hub_keys, now)
    notes = []
    if address and address not in addresses:
        # Both clients compare the signer's address with From: a mismatch shows as a warning there.
        notes.append(f"{key} is for {', '.join(sorted(addresses)) or 'no email address'}, not FORMSVC_MAIL_FROM "
                     f"({address}): the hub's mail client will say the signer is not the sender")
    secret = paths[-1]
    if Path(secret).stat().st_mode & 0o004:
        notes.append(f"{secret}: the service's private signing key can be read by every user of this machine; "
                     f"chmod o-r {secret}")
    return key, signer, tuple(notes)


def _read_own_key(path: str) -> bytes:
    """A file of the service's own (private) key: unlike the hub's, a private key is expected."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SealingConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__}).") from None


def _load_smime_signer(cert_path: str, key_path: str, hub_certificates: tuple, now: datetime):
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

    def public(thing) -> bytes:
        return thing.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)

    try:
        certificates = x509.load_pem_x509_certificates(_read_own_key(cert_path))
    except ValueError:
        raise SealingConfigError(f"{cert_path}: is not a PEM file of X.509 certificates (expected the service's "
                                 "signing certificate, -----BEGIN CERTIFICATE-----).") from None
    try:
        # No password: nobody is there to type one at each start, and one kept beside the key adds nothing.
        key = load_pem_private_key(_read_own_key(key_path), password=None)
    except TypeError:
        raise SealingConfigError(f"{key_path}: the private key is protected by a password, which the service "
                                 "cannot type. Give it the key without one, readable by the service alone "
                                 "(docs/hub-keys.md).") from None
    except (ValueError, UnsupportedAlgorithm):
        raise SealingConfigError(f"{key_path}: holds no PEM private key (expected -----BEGIN PRIVATE KEY-----).") \
            from None
    if public(key) in {public(hub) for hub in hub_certificates}:
        raise SealingConfigError(f"{key_path}: is the hub's own private key. The service must never hold it "
                                 "(it opens every enquiry): give the service a signing certificate of its own.")
    mine = [c for c in certificates if public(c) == public(key)]
    if not mine:
        raise SealingConfigError(f"{key_path}: the private key does not belong to the certificate in {cert_path}.")
    certificate = mine[0]
    # The rest of the file (intermediate certificates) goes in each signature for the hub's client.
    chain = tuple(c for c in certificates if c is not certificate)
    where = f"{cert_path}: signing certificate {_x509_name(certificate)}"
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        kind = type(key).__name__.removesuffix("PrivateKey").lstrip("_")
        raise SealingConfigError(f"{where} has a key of type {kind}; S/MIME signing needs RSA or EC (what "
                                 "Outlook and Thunderbird verify).")
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
        raise SealingConfigError(f"{where} has an RSA key of {key.key_size} bits; use 2048 or more.")
    _check_x509(where, certificate, now, "signing")
    try:  # whatever else signing refuses, refuse it now rather than at the first enquiry
        _smime_signed(b"probe", certificate, key, chain)
    except Exception as exc:  # noqa: BLE001
        raise SealingConfigError(f"{where} cannot sign ({type(exc).__name__}).") from None
    addresses = {mailbox.lower() for mailbox in _x509_mailboxes(certificate)}
    facts = SigningKey(cert_path, "signing certificate", _x509_name(certificate),
                       f"serial {certificate.serial_number:x}", certificate.not_valid_after_utc)
    return facts, (certificate, key, chain), addresses


def _sequoia_error(exc: Exception) -> str:
    """Sequoia's message without the Rust backtrace RUST_BACKTRACE adds (it names no key material)."""
    text = str(exc).split("Stack backtrace:")[0]
    return "; ".join(line.strip() for line in text.splitlines() if line.strip() and line.strip() != "Caused by:")


def _load_openpgp_signer(path: str, hub_certs: tuple, now: datetime):
    import pysequoia
    from pysequoia.packet import PacketPile, Tag

    data = _read_own_key(path)
    try:
        packets = PacketPile.from_bytes(data)
        primaries = [p.tag for p in packets if p.tag in (Tag.SecretKey, Tag.PublicKey)]
        secret = any(p.tag in (Tag.SecretKey, Tag.SecretSubkey) for p in packets)
    except Exception as exc:  # noqa: BLE001 - Sequoia's parse errors have no common class
        raise SealingConfigError(f"{path}: is not an OpenPGP key file ({_sequoia_error(exc)}).") from None
    if not primaries:
        raise SealingConfigError(f"{path}: holds no OpenPGP key (expected -----BEGIN PGP PRIVATE KEY BLOCK-----).")
    if len(primaries) > 1:
        raise SealingConfigError(f"{path}: holds {len(primaries)} keys; give the service exactly one, its own "
                                 "signing key.")
    if not secret:
        raise SealingConfigError(f"{path}: holds only a public key; the service signs with its own private key "
                                 "(gpg --export-secret-keys; docs/hub-keys.md).")
    try:
        tsk = pysequoia.Tsk.from_bytes(data)
    except Exception as exc:  # noqa: BLE001 - e.g. two armoured keys one after the other
        raise SealingConfigError(f"{path}: is not one OpenPGP key ({_sequoia_error(exc)}); give the service exactly "
                                 "one, its own signing key.") from None
    cert = tsk.extract_certificate()
    uids = [str(uid) for uid in cert.user_ids]
    where = f"{path}: OpenPGP signing key {uids[0] if uids else '(no user ID)'} ({cert.fingerprint.upper()})"
    if cert.fingerprint in {hub.fingerprint for hub in hub_certs}:
        raise SealingConfigError(f"{path}: is the hub's own private key. The service must never hold it (it "
                                 "opens every enquiry): give the service a signing key of its own.")
    try:
        revoked, expiration = cert.is_revoked, cert.expiration
    except Exception as exc:  # noqa: BLE001 - e.g. an algorithm Sequoia's standard policy refuses
        raise SealingConfigError(f"{where} cannot be used ({_sequoia_error(exc)}).") from None
    if revoked:
        raise SealingConfigError(f"{where} has been revoked.")
    if expiration is not None and expiration <= now:
        raise SealingConfigError(f"{where} expired on {expiration:%Y-%m-%d}.")
    try:
        signer = tsk.signer()
        pysequoia.sign(signer, b"probe")
    except Exception as exc:  # noqa: BLE001
        if "encrypted" in str(exc):
            raise SealingConfigError(f"{where} is protected by a password, which the service cannot type. Give "
                                     "it the key without one, readable by the service alone (docs/hub-keys.md).") \
                from None
        raise SealingConfigError(f"{where} has no key usable for signing (no signing key or subkey, or it has "
                                 "expired or been revoked, or its private part is not in the file).") from None
    live = _live_key_ends(cert, now, "signing")
    ends = None if not live or None in live else max(live)
    if expiration is not None:
        ends = expiration if ends is None else min(ends, expiration)
    addresses = {parseaddr(uid)[1].lower() for uid in uids} - {""}
    facts = SigningKey(path, "OpenPGP signing key", uids[0] if uids else "(no user ID)", cert.fingerprint.upper(), ends)
    return facts, signer, addresses


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


def _x509_extension(certificate, kind):
    """The value of the certificate's extension of that class, or None without one."""
    from cryptography import x509

    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _x509_mailboxes(certificate) -> list[str]:
    """The certificate's email addresses: in its subject, then its subject alternative names."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    names = _x509_extension(certificate, x509.SubjectAlternativeName)
    return [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)] + \
        (names.get_values_for_type(x509.RFC822Name) if names else [])


def _x509_name(certificate) -> str:
    """"hub <hub@hub.example>": the certificate's common name and mailbox, as staff know it."""
    from cryptography.x509.oid import NameOID

    common = [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    name = " ".join([*common[:1], *(f"<{m}>" for m in _x509_mailboxes(certificate)[:1])])
    return name or certificate.subject.rfc4514_string() or f"serial {certificate.serial_number:x}"


def _check_x509(where: str, certificate, now: datetime, purpose: str) -> None:
    """Refuse a certificate that has ended or not begun, or whose key usage or extended key usage
    (when it has them: none means no limit) rule out email ``purpose`` ("encryption" or "signing")."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    if certificate.not_valid_after_utc <= now:
        raise SealingConfigError(f"{where} expired on {certificate.not_valid_after_utc:%Y-%m-%d}.")
    if certificate.not_valid_before_utc > now:
        raise SealingConfigError(f"{where} is not valid until {certificate.not_valid_before_utc:%Y-%m-%d}.")
    usage = _x509_extension(certificate, x509.KeyUsage)
    if usage is not None:
        # For signing, RFC 8550 4.4.2 allows either bit (nonRepudiation is now contentCommitment).
        allowed, bit = ((usage.digital_signature or usage.content_commitment, "digitalSignature")
                        if purpose == "signing" else (usage.key_encipherment, "keyEncipherment"))
        if not allowed:
            raise SealingConfigError(f"{where} is not for {purpose}: its key usage lacks {bit}.")
    purposes = _x509_extension(certificate, x509.ExtendedKeyUsage)
    if purposes is not None and not {ExtendedKeyUsageOID.EMAIL_PROTECTION,
                                     ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE} & set(purposes):
        raise SealingConfigError(f"{where} is not for email: its extended key usage lacks emailProtection.")


def _load_certificates(path: str, data: bytes, now: datetime):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

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
        _check_x509(where, certificate, now, "encryption")
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
        live = _live_key_ends(cert, now, "encryption")
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


def _live_key_ends(cert, now: datetime, purpose: str) -> list[datetime | None]:
    """When each of the key's live (sub)keys for ``purpose`` ("encryption" or "signing") ends
    (None: never).

    Read from each key packet's newest self-signature with those flags. pysequoia's
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
            if kind not in binding or flags is None or not (
                    flags.signing if purpose == "signing" else flags.transport_encryption or flags.storage_encryption):
                continue
            period = packet.key_validity_period
            ends = created + period if period else None
            signed = packet.signature_created or created
            if index not in newest or signed >= newest[index][0]:
                newest[index] = (signed, ends)
    return [ends for key, (_, ends) in newest.items()
            if key not in revoked and (ends is None or ends > now)]


__all__ = ["METHODS", "EXPIRY_WARNING", "OUTER_HEADERS", "SIGNING_SETTINGS", "SealingConfigError", "SealingFailed",
           "Recipient", "SigningKey", "Sealer", "load_sealer"]
