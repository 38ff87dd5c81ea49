"""The hub's keys and the service's signing key, read and checked at start (formsvc/seal.py's
load_sealer calls these): a key that is unreadable, expired, not yet valid, revoked, of the wrong
use or kind, a private key where a public one belongs (or the hub's own as the service's), stops
the start with a message naming the file and never showing key material. Public facts only leave
here: the certificates and keys, with what the log and GET /healthz may say of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

#: A certificate or key this close to its end is a warning at start and in GET /healthz.
EXPIRY_WARNING = timedelta(days=30)

class SealingConfigError(RuntimeError):
    """The sealing settings or key file cannot be used: the service must not start.

    ``str(error)`` names the setting or file and the problem, for the operator.
    """


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
    from .seal import _smime_signed  # the very signing the sealer does (seal.py imports this module)

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
