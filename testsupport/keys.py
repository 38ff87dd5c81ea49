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
                      extended_key_usage: str | None = "emailProtection",
                      email: str | None = None) -> tuple[Path, Path]:
    """A self-signed certificate for the hub's mailbox (``name@hub.example`` unless ``email``):
    (certificate.pem, private-key.pem). With ``key_usage="digitalSignature"``, a signing certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, private = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    args = ["openssl", "req", "-x509", "-nodes", "-days", str(days),
            "-subj", f"/CN={name}/emailAddress={email or name + '@hub.example'}", "-keyout", str(private),
            "-out", str(cert)]
    if key.startswith("ec:"):
        args += ["-newkey", "ec", "-pkeyopt", f"ec_paramgen_curve:{key[3:]}"]
    else:
        args += ["-newkey", key]
    if key_usage:
        args += ["-addext", f"keyUsage={key_usage}"]
    if extended_key_usage:
        args += ["-addext", f"extendedKeyUsage={extended_key_usage}"]
    run(*args)
    os.chmod(private, 0o600)  # as a private key is kept (the service warns about one others can read)
    return cert, private


def smime_decrypt(sealed: bytes, cert: Path, private: Path) -> bytes:
    """The inner MIME entity of a whole S/MIME message, as ``openssl cms`` decrypts it."""
    return run("openssl", "cms", "-decrypt", "-binary", "-inkey", str(private), "-recip", str(cert), stdin=sealed)


def smime_verify(signed: bytes, trusted: Path | None) -> bytes:
    """The content of a ``multipart/signed`` entity once ``openssl cms -verify`` has checked its
    signature: against ``trusted`` as the CA, or with ``trusted=None`` the signature alone
    (``-noverify``: no chain). Raises RuntimeError, with openssl's words, if it does not verify."""
    trust = ["-CAfile", str(trusted)] if trusted else ["-noverify"]
    # Not -binary: with it openssl keeps the CR of the CRLF before the closing boundary in the
    # content, so a correct signature fails. Without it the content (already CRLF) is unchanged.
    return run("openssl", "cms", "-verify", *trust, stdin=signed)


def pkcs12(cert: Path, private: Path, out: Path, password: str, *, legacy: bool) -> Path:
    """The certificate and its key as a ``.p12`` file, as docs/hub-keys.md says to make one:
    ``legacy`` (RC2/3DES) for GnuPG's gpgsm, which cannot read OpenSSL 3's default (AES, PBKDF2)."""
    run("openssl", "pkcs12", "-export", *(["-legacy"] if legacy else []), "-in", str(cert), "-inkey", str(private),
        "-out", str(out), "-passout", f"pass:{password}")
    return out


def pkcs12_to_legacy(p12: Path, out: Path, password: str) -> Path:
    """An existing ``.p12`` remade as a legacy one, as docs/hub-keys.md says: out to PEM with the key
    still under a password (no ``-nodes``), then ``-export -legacy``. (Not a pipe: ``pkcs12 -export``
    reads its input twice, for the key and for the certificates.)"""
    pem = out.with_suffix(".pem")
    run("openssl", "pkcs12", "-in", str(p12), "-out", str(pem), "-passin", f"pass:{password}",
        "-passout", f"pass:{password}")
    run("openssl", "pkcs12", "-export", "-legacy", "-in", str(pem), "-out", str(out), "-passin", f"pass:{password}",
        "-passout", f"pass:{password}")
    pem.unlink()
    return out


def gpgsm_import(home: Path, p12: Path, password: str) -> bytes:
    """Import a ``.p12`` file into gpgsm (GnuPG's S/MIME, what Kleopatra uses) in its own home;
    its status lines. Raises RuntimeError if gpgsm cannot read it."""
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    # The agent re-protects the imported key; at its default strength that took 5 to 7 s here
    # (a test key needs none of it).
    (home / "gpg-agent.conf").write_text("s2k-count 65536\n")
    result = subprocess.run(["gpgsm", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
                             "--passphrase-fd", "0", "--status-fd", "1", "--import", str(p12)],
                            input=password.encode() + b"\n", capture_output=True)
    # gpgsm exits 0 with nothing imported on some errors: the status line decides.
    if result.returncode != 0 or b"IMPORT_OK" not in result.stdout:
        raise RuntimeError(f"gpgsm --import {p12.name} failed ({result.returncode}): "
                           f"{result.stderr.decode(errors='replace')}")
    return result.stdout


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


def openpgp_signing_key(home: Path, file: Path, *, uid: str = "Enquiry service <enquiries@rj.example>",
                        algo: str = "ed25519", known_to: tuple[Path, ...] = ()) -> str:
    """The service's own signing key, made in ``home``: its private key written to ``file`` (no
    password, readable by its owner alone), its public key imported into each GnuPG home in
    ``known_to`` (as the hub would); its fingerprint. The agent is stopped."""
    made = openpgp_key(home, uid, algo=algo, usage="sign")
    file.write_bytes(export_secret(home))
    file.chmod(0o600)
    for other in known_to:
        gpg(other, "--import", stdin=export_public(home))
    stop_agent(home)
    return made


def openpgp_revoke(home: Path, fingerprint: str) -> None:
    """Revoke the key in ``home`` with the revocation certificate gpg stored when it made it."""
    certificate = (home / "openpgp-revocs.d" / f"{fingerprint}.rev").read_text()
    # gpg writes it with the armour line "commented out", so it is not imported by mistake.
    gpg(home, "--import", stdin=certificate.replace(":-----BEGIN", "-----BEGIN").encode())


def stop_agent(home: Path) -> None:
    """Stop the gpg-agent that gpg started for ``home`` (it would outlive the tests)."""
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True)


def fingerprint(home: Path) -> str:
    listing = gpg(home, "--with-colons", "--list-keys").decode()
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def export_public(home: Path) -> bytes:
    return gpg(home, "--armor", "--export")


def export_secret(home: Path) -> bytes:
    """The home's private key(s), armoured, with no password (as the service's signing key file)."""
    return gpg(home, "--armor", "--export-secret-keys")


def pgp_mime_data(sealed: bytes) -> bytes:
    """The armoured OpenPGP message in a whole PGP/MIME message."""
    message = email.message_from_bytes(sealed, policy=email.policy.default)
    assert message.get_content_type() == "multipart/encrypted", message.get_content_type()
    control, data = message.get_payload()
    assert control.get_content_type() == "application/pgp-encrypted"
    return data.get_payload(decode=True)


def pgp_mime_decrypt(sealed: bytes, home: Path) -> bytes:
    """The inner MIME entity of a whole PGP/MIME message, as ``gpg --decrypt`` decrypts it."""
    return gpg(home, "--decrypt", stdin=pgp_mime_data(sealed))


def gpg_status(home: Path, *args: str, stdin: bytes | None = None) -> tuple[int, bytes, dict[str, list[str]]]:
    """Run gpg with ``--status-fd``: (exit status, output, {keyword: [its arguments, one per line]}),
    e.g. ``status["VALIDSIG"]``; it does not raise, so a bad signature can be looked at."""
    result = subprocess.run(["gpg", "--homedir", str(home), "--batch", "--no-tty", "--status-fd", "2", *args],
                            input=stdin, capture_output=True)
    status: dict[str, list[str]] = {}
    for line in result.stderr.decode(errors="replace").splitlines():
        if line.startswith("[GNUPG:] "):
            keyword, _, rest = line.removeprefix("[GNUPG:] ").partition(" ")
            status.setdefault(keyword, []).append(rest)
    return result.returncode, result.stdout, status
