"""What sealing costs per message: S/MIME and OpenPGP against none, in the same run.

    .venv/bin/python -m bench.seal              # --messages 500 --rounds 3 --recipients 1

Makes the hub's keys with the real tools in a temp folder (an RSA-2048 S/MIME certificate; an
RSA-3072 OpenPGP key and an Ed25519/Curve25519 one, as ``openssl req`` and ``gpg`` make them;
``--recipients 2`` seals to two of each, as during a change of key), builds the messages beforehand with
``message.build_message`` (every answer, Welsh and other scripts, short and 5,000-character
messages), then times ``Sealer.seal`` on the very same messages for:

1. none: the bytes as sent today (the baseline);
2. smime: cryptography's PKCS#7 envelope, AES-256-CBC;
3. openpgp-rsa, openpgp-ecc: pysequoia (Sequoia, in process), PGP/MIME, to the RSA-3072 key
   and to the Curve25519 key (Sequoia's RSA is several times slower than its Curve25519);
4. gpg-process: one ``gpg --encrypt`` process per message to the RSA key, which is what
   python-gnupg does (the alternative not chosen; fewer messages, it is slow);
5. the same sealed *and signed* with the service's own key (issue 20): smime-signed (an RSA-2048
   signing certificate, as CAs issue them), smime-signed-ec (ECDSA P-256), openpgp-rsa-signed
   (an RSA-3072 signing key) and openpgp-ecc-signed (Ed25519). Each is also printed against the
   same method unsigned: what signing adds.

Rounds alternate the order; medians are printed: messages per second (wall) and its ratio to
none, CPU milliseconds per message (this process and the gpg processes it ran: on a shared
machine CPU time moves far less than wall time) and what sealing adds, and an *estimate* of
what the added time would do to the end-to-end submissions benchmark (``bench/submit.py``;
docs/reliability.md: 319 submissions/s through gunicorn on 2 cores, goal with sealing on at least 0.8 of
that): with every core busy, each submission costs cores/rate seconds of CPU, so sealing's ratio is about
1 / (1 + added CPU * rate / cores). The real figure comes from bench/submit.py once sealing is in
the request path.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from formsvc.message import AcceptedEnquiry, build_message, message_bytes
from formsvc.seal import load_sealer
from testsupport.keys import (
    export_public,
    fingerprint,
    gpg,
    gpg_status,
    openpgp_key,
    openpgp_signing_key,
    pgp_mime_data,
    pgp_mime_decrypt,
    smime_certificate,
    smime_decrypt,
    smime_verify,
    stop_agent,
)

MAIL_FROM = "Restorative justice hub <enquiries@rj.example>"
HUB = "hub@hub.example"


def messages(n: int) -> list:
    built = []
    for i in range(n):
        long = i % 5 == 0  # one in five at the longest the form takes
        answers = {
            "name": f"Siân ap Rhys Llŷr محمد Łukasz 王秀英 {i}",
            "contact_method": "email" if i % 2 else "phone",
            "email": f"sian{i}@enghraifft.example",
            "phone": "07700 900456",
            "leave_message": "yes", "say_who_we_are": "no",
            "call_times": "Dydd Llun ar ôl 6yh",
            "crime_reference": f"CR/{i:05d}/26",
            "relationship": "harmed",
            "message": ("Rwy'n ysgrifennu am beth ddigwyddodd. Ни слова ему. " * 100)[:5000] if long
            else "I would like to talk about meeting him.\r\nNot sure yet.\r\n\r\nThank you.",
        }
        enquiry = AcceptedEnquiry(reference=f"RJ-{i:08d}", message_id=f"<{i}.bench@rj.example>",
                          created_at=time.time(), answers=answers)
        built.append(build_message(enquiry, mail_from=MAIL_FROM, hub_inbox=HUB))
    return built


def make_keys(folder: Path, recipients: int) -> dict:
    """The hub's public files: S/MIME certificates, OpenPGP RSA-3072 and Curve25519 keys."""
    certs, rsa, ecc, homes, fingerprints = [], [], [], [], []
    for i in range(recipients):
        cert, private = smime_certificate(folder / "smime", f"hub{i}")
        if i == 0:
            smime_pair = (cert, private)
        certs.append(cert.read_bytes())
        home = folder / f"gpg-rsa{i}"
        fingerprints.append(openpgp_key(home, f"Hub {i} <hub{i}@hub.example>"))
        rsa.append(export_public(home))
        homes.append(home)
        home = folder / f"gpg-ecc{i}"
        primary = openpgp_key(home, f"Hub {i} <hub{i}@hub.example>", algo="ed25519", usage="sign")
        gpg(home, "--quick-add-key", primary, "cv25519", "encr", "never")
        ecc.append(export_public(home))
        homes.append(home)
    files = {"smime": folder / "hub.pem", "rsa": folder / "hub-rsa.asc", "ecc": folder / "hub-ecc.asc"}
    files["smime"].write_bytes(b"".join(certs))
    files["rsa"].write_bytes(b"".join(rsa))
    files["ecc"].write_bytes(b"".join(ecc))
    # The RSA public keys only, in a home of their own, for the gpg-per-message run.
    public_home = folder / "public-gpg"
    public_home.mkdir(mode=0o700)
    subprocess.run(["gpg", "--homedir", str(public_home), "--batch", "--import", str(files["rsa"])],
                   check=True, capture_output=True)
    # The service's own signing keys (for MAIL_FROM); the hub's homes know the OpenPGP ones.
    signing = {}
    for kind, key in (("smime-signed", "rsa:2048"), ("smime-signed-ec", "ec:prime256v1")):
        signing[kind] = smime_certificate(folder / "service", kind, key=key, key_usage="digitalSignature",
                                          email="enquiries@rj.example")
    for kind, algo in (("openpgp-rsa-signed", "rsa3072"), ("openpgp-ecc-signed", "ed25519")):
        signing[kind] = folder / f"service-{kind}.asc"
        signing[kind + "-fingerprint"] = openpgp_signing_key(folder / f"service-{kind}", signing[kind], algo=algo,
                                                             known_to=tuple(homes[:2]))
    for home in homes:
        stop_agent(home)
    assert fingerprint(public_home)
    # The first recipient's private halves: the checks open one message of each method with them.
    private = {"smime": smime_pair, "rsa": homes[0], "ecc": homes[1]}
    return {**files, "public_home": public_home, "fingerprints": fingerprints, "private": private,
            "signing": signing}


def gpg_process_sealer(home: Path, fingerprints: list[str]):
    """Encrypt with one gpg process per message, as python-gnupg's ``encrypt`` does."""
    recipients = [arg for fpr in fingerprints for arg in ("--recipient", fpr)]

    def seal(msg) -> bytes:
        data = msg.as_bytes()
        return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--no-tty", "--trust-model", "always",
                               "--armor", "--encrypt", *recipients], input=data, capture_output=True,
                              check=True).stdout
    return seal


def cpu_seconds() -> float:
    """CPU time of this process and of the processes it waited for (gpg): on a shared machine this
    moves far less than wall time, and it is what a busy gunicorn worker pays."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(seal, batch) -> tuple[float, float, list[bytes]]:
    """Messages per second (wall), CPU milliseconds per message, and what was sealed (for the checks)."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    sealed = [seal(msg) for msg in batch]
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    return len(batch) / wall, cpu * 1000 / len(batch), sealed


def check(name: str, sealed: list[bytes], batch: list, keys: dict) -> str | None:
    """What is wrong with one method's output, if anything: every message sealed, and the first
    opened with the real tools (openssl, gpg) to the very message that went in; a signed one's
    signature checked by them too (openssl cms -verify; gpg's VALIDSIG naming the service key)."""
    private, signing = keys["private"], keys["signing"]
    if len(sealed) != len(batch) or not all(sealed):
        return f"{name}: {sum(map(bool, sealed))} of {len(batch)} messages sealed"
    if name == "none":
        return None if sealed == [message_bytes(m) for m in batch] else "none: not the message as sent today"
    if name.startswith("smime"):
        inner = smime_decrypt(sealed[0], *private["smime"])
        if name in signing:
            try:
                inner = smime_verify(inner, signing[name][0])
            except RuntimeError as exc:
                return f"{name}: the signature does not verify ({str(exc).splitlines()[0]})"
    elif name == "gpg-process":
        inner = gpg(private["rsa"], "--decrypt", stdin=sealed[0])
    elif name in signing:
        home = private[name.split("-")[1]]
        code, inner, status = gpg_status(home, "--decrypt", stdin=pgp_mime_data(sealed[0]))
        if code or [v.split()[-1] for v in status.get("VALIDSIG", [])] != [signing[name + "-fingerprint"]]:
            return f"{name}: no good signature from the service key (gpg exit {code})"
    else:
        inner = pgp_mime_decrypt(sealed[0], private[name.removeprefix("openpgp-")])
    return None if batch[0]["Message-ID"].encode() in inner else f"{name}: opened, but not the message sealed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--gpg-messages", type=int, default=60, help="messages for the gpg-process run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--recipients", type=int, default=1, choices=[1, 2])
    parser.add_argument("--submit-rate", type=float, default=319, help="bench/submit.py's submissions/s (docs/reliability.md)")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-seal-") as tmp:
        keys = make_keys(Path(tmp), args.recipients)
        public_home = keys["public_home"]

        def sealer(method: str, setting: str = "", path: Path | None = None, **signing):
            return load_sealer({"ENV": "production", "HUB_ENCRYPTION": method, setting: str(path),
                                "MAIL_FROM": MAIL_FROM, **{k: str(v) for k, v in signing.items()}}).seal

        signing = keys["signing"]
        sealers = {
            "none": sealer("none"),
            "smime": sealer("smime", "HUB_SMIME_CERTIFICATES", keys["smime"]),
            "openpgp-rsa": sealer("openpgp", "HUB_OPENPGP_KEYS", keys["rsa"]),
            "openpgp-ecc": sealer("openpgp", "HUB_OPENPGP_KEYS", keys["ecc"]),
            "gpg-process": gpg_process_sealer(public_home, keys["fingerprints"]),
            **{name: sealer("smime", "HUB_SMIME_CERTIFICATES", keys["smime"], SIGNING_SMIME_CERTIFICATE=signing[name][0],
                            SIGNING_SMIME_KEY=signing[name][1]) for name in ("smime-signed", "smime-signed-ec")},
            **{name: sealer("openpgp", "HUB_OPENPGP_KEYS", keys[name.split("-")[1]], SIGNING_OPENPGP_KEY=signing[name])
               for name in ("openpgp-rsa-signed", "openpgp-ecc-signed")},
        }
        batch = messages(args.messages)
        for seal in sealers.values():  # warm up (imports, first-use caches)
            seal(batch[0])
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in sealers}
        problems = []
        for round_ in range(args.rounds):
            order = list(sealers) if round_ % 2 == 0 else list(reversed(sealers))
            for name in order:
                some = batch[:args.gpg_messages] if name == "gpg-process" else batch
                rate, cpu, sealed = timed(sealers[name], some)
                results[name].append((rate, cpu))
                if round_ == 0:
                    problems.append(check(name, sealed, some, keys))
        problems = [p for p in problems if p]
        for home in (public_home, keys["private"]["rsa"], keys["private"]["ecc"]):
            stop_agent(home)

    load = os.getloadavg()
    print(f"Sealing {args.messages} messages ({args.gpg_messages} for gpg-process), {args.recipients} recipient(s), "
          f"{args.rounds} rounds, medians; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    base_rate = statistics.median(r for r, _ in results["none"])
    base_cpu = statistics.median(c for _, c in results["none"])
    print(f"{'method':<18} {'messages/s':>11} {'vs none':>8} {'CPU ms/msg':>11} {'added CPU ms':>13} "
          f"{'est. submit ratio':>18}")
    rates, cpus = {}, {}
    for name, values in results.items():
        rates[name] = per_second = statistics.median(r for r, _ in values)
        cpus[name] = cpu = statistics.median(c for _, c in values)
        added = cpu - base_cpu
        estimate = 1 / (1 + added / 1000 * args.submit_rate / args.cores)
        print(f"{name:<18} {per_second:>11,.0f} {per_second / base_rate:>8.2f} {cpu:>11.3f} {added:>13.3f} "
              f"{estimate:>18.2f}")
    # What signing adds to sealing alone: each signed method against the same method unsigned.
    unsigned = {"smime-signed": "smime", "smime-signed-ec": "smime", "openpgp-rsa-signed": "openpgp-rsa",
                "openpgp-ecc-signed": "openpgp-ecc"}
    print("signed / unsigned (messages/s; CPU ms signing adds): " + ", ".join(
        f"{name} {rates[name] / rates[plain]:.2f} ({cpus[name] - cpus[plain]:+.3f})" for name, plain in unsigned.items()))
    print(f"est. submit ratio: 1 / (1 + added CPU * {args.submit_rate:g}/s / {args.cores} cores), goal >= 0.8; "
          "measure end to end with bench/submit.py once sealing is in the request path.")
    print("checks: " + ("every message sealed by every method; one of each opened with openssl or gpg to the "
                        "message sealed, each signed one's signature verified by them" if not problems
                        else "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
