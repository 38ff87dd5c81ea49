"""The hub's keys, made with the real tools (openssl, gpg) into folders the caller owns.

For the sealing tests, and for the benchmarks and suites that run with sealing on. Every
GnuPG call uses its own ``--homedir`` (never anyone's ~/.gnupg) and an empty passphrase
given as a real empty argument.
"""
from __future__ import annotations

import email
import email.policy
import os
import subprocess
from pathlib import Path


def run(*args: str, stdin: bytes | None = None) -> bytes:
    """Run a tool; fail with its own words if it fails."""
    result = subprocess.run(args, input=stdin, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.decode(errors='replace')}")
    return result.stdout


# -- S/MIME --------------------------------------------------------------------------


def smime_certificate(folder: Path, name: str = "hub", *, days: int = 365, key: str = "rsa:2048",
                      key_usage: str | None = "keyEncipherment",
                      extended_key_usage: str | None = "emailProtection") -> tuple[Path, Path]:
    """A self-signed certificate for the hub's mailbox: (certificate.pem, private-key.pem)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, private = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    args = ["openssl", "req", "-x509", "-nodes", "-days", str(days),
            "-subj", f"/CN={name}/emailAddress={name}@hub.example", "-keyout", str(private), "-out", str(cert)]
    if key.startswith("ec:"):
        args += ["-newkey", "ec", "-pkeyopt", f"ec_paramgen_curve:{key[3:]}"]
    else:
        args += ["-newkey", key]
    if key_usage:
        args += ["-addext", f"keyUsage={key_usage}"]
    if extended_key_usage:
        args += ["-addext", f"extendedKeyUsage={extended_key_usage}"]
    run(*args)
    return cert, private


def smime_decrypt(sealed: bytes, cert: Path, private: Path) -> bytes:
    """The inner MIME entity of a whole S/MIME message, as ``openssl cms`` decrypts it."""
    return run("openssl", "cms", "-decrypt", "-binary", "-inkey", str(private), "-recip", str(cert), stdin=sealed)


# -- OpenPGP -------------------------------------------------------------------------


def gpg(home: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return run("gpg", "--homedir", str(home), "--batch", "--no-tty", "--pinentry-mode", "loopback",
               "--passphrase", "", *args, stdin=stdin)


def openpgp_key(home: Path, uid: str = "Hub <hub@hub.example>", *, algo: str = "rsa3072",
                usage: str = "encrypt,sign", expire: str = "never", faked_time: str | None = None) -> str:
    """A key made in its own GnuPG home ``home`` (which then holds the private key); its fingerprint."""
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    extra = ["--faked-system-time", faked_time] if faked_time else []
    gpg(home, *extra, "--quick-gen-key", uid, algo, usage, expire)
    return fingerprint(home)


def stop_agent(home: Path) -> None:
    """Stop the gpg-agent that gpg started for ``home`` (it would outlive the tests)."""
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True)


def fingerprint(home: Path) -> str:
    listing = gpg(home, "--with-colons", "--list-keys").decode()
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def export_public(home: Path) -> bytes:
    return gpg(home, "--armor", "--export")


def pgp_mime_decrypt(sealed: bytes, home: Path) -> bytes:
    """The inner MIME entity of a whole PGP/MIME message, as ``gpg --decrypt`` decrypts it."""
    message = email.message_from_bytes(sealed, policy=email.policy.default)
    assert message.get_content_type() == "multipart/encrypted", message.get_content_type()
    control, data = message.get_payload()
    assert control.get_content_type() == "application/pgp-encrypted"
    return gpg(home, "--decrypt", stdin=data.get_payload(decode=True))
