"""Sealing the hub's message (formsvc/seal.py), checked with the real tools: what we seal is
decrypted by ``openssl cms`` and ``gpg``, never by the libraries that encrypted it."""
from __future__ import annotations

import base64
import dataclasses
import email
import email.policy
import json
import logging
import os
import quopri
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from formsvc.message import AcceptedEnquiry, build_message, message_bytes
from formsvc.seal import OUTER_HEADERS, SealingConfigError, SealingFailed, load_sealer
from testsupport.hubmail import check_where_replies_go, their_message
from testsupport.keys import (
    export_public,
    gpg,
    openpgp_key,
    pgp_mime_decrypt,
    run,
    smime_certificate,
    smime_decrypt,
    stop_agent,
)

MAIL_FROM = "Restorative justice hub <enquiries@rj.example>"
HUB = "hub@hub.example"
NOW = datetime.now(timezone.utc)

# Every answer filled, names and text in Welsh and other scripts.
WELSH = {
    "name": "Siân ap Rhys Llŷr Ŵyn محمد Łukasz 王秀英 Ольга Δήμητρα",
    "contact_method": "email",
    "email": "sian.aprhys@enghraifft.example",
    "phone": "07700 900456",
    "leave_message": "yes",
    "say_who_we_are": "no",
    "call_times": "Dydd Llun ar ôl 6yh",
    "crime_reference": "CR/98765/26",
    "relationship": "on_behalf",
    "message": "Rwy'n ysgrifennu ar ran fy mam.\r\nDigwyddodd yng Nghaerdydd.\r\n\r\n"
               "Ни слова ему. لا تتصل قبل السادسة. 请不要打电话。 😊",
}


def message_for(answers: dict, reference: str = "RJ-7K2M9QDX"):
    enquiry = AcceptedEnquiry(reference=reference, message_id="<20261201.abc@rj.example>",
                      created_at=time.time(), answers=answers)
    return build_message(enquiry, mail_from=MAIL_FROM, hub_inbox=HUB)


def today(msg) -> bytes:
    """The bytes the hub gets today, as the inner entity carries them (marked as protected headers)."""
    return message_bytes(msg).replace(b'charset="utf-8"\r\n', b'charset="utf-8"; hp="cipher"\r\n', 1)


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def text(raw: bytes) -> str:
    """The body as the hub reads it (on the wire every line ends CRLF)."""
    return parse(raw).get_content().replace("\r\n", "\n")


# -- the hub's keys, made once per run ---------------------------------------------------


@pytest.fixture(scope="session")
def smime_keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smime")
    hub = smime_certificate(folder, "hub")
    second = smime_certificate(folder, "hub-new")
    both = folder / "both.pem"
    both.write_bytes(hub[0].read_bytes() + second[0].read_bytes())
    return {"hub": hub, "second": second, "both": both, "folder": folder}


@pytest.fixture(scope="session")
def pgp_keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openpgp")
    homes = {name: folder / name for name in ("hub", "second")}
    openpgp_key(homes["hub"], "Hub <hub@hub.example>")
    # The second: an ed25519 primary with a cv25519 encryption subkey, the other usual kind.
    primary = openpgp_key(homes["second"], "Hub new key <hub@hub.example>", algo="ed25519", usage="sign")
    gpg(homes["second"], "--quick-add-key", primary, "cv25519", "encr", "never")
    files = {name: folder / f"{name}.asc" for name in homes}
    for name, home in homes.items():
        files[name].write_bytes(export_public(home))
    both = folder / "both.asc"
    both.write_bytes(files["hub"].read_bytes() + files["second"].read_bytes())
    yield {"homes": homes, "files": files, "both": both, "folder": folder}
    for home in homes.values():
        stop_agent(home)


def smime(path) -> dict:
    return {"ENV": "production", "HUB_ENCRYPTION": "smime", "HUB_SMIME_CERTIFICATES": str(path)}


def openpgp(path) -> dict:
    return {"ENV": "production", "HUB_ENCRYPTION": "openpgp", "HUB_OPENPGP_KEYS": str(path)}


# -- what the hub reads ----------------------------------------------------------------------


@pytest.mark.parametrize("answers", [WELSH, dict(WELSH, contact_method="phone")], ids=["email", "phone"])
def test_smime_decrypted_by_openssl_is_todays_message(smime_keys, answers):
    msg = message_for(answers)
    sealed = load_sealer(smime(smime_keys["hub"][0])).seal(msg)

    inner = smime_decrypt(sealed, *smime_keys["hub"])
    assert inner == today(msg)
    body = text(inner)
    assert body == msg.get_content()
    # Each answer the hub gets today for that way of contact (phone details only when phone was chosen).
    shown = ["email"] if answers["contact_method"] == "email" else ["phone", "call_times"]
    for key in ["name", "crime_reference", *shown]:
        assert answers[key] in body, key
    assert their_message(body) == answers["message"].replace("\r\n", "\n")


@pytest.mark.parametrize("answers", [WELSH, dict(WELSH, contact_method="phone")], ids=["email", "phone"])
def test_openpgp_decrypted_by_gpg_is_todays_message(pgp_keys, answers):
    msg = message_for(answers)
    sealed = load_sealer(openpgp(pgp_keys["files"]["hub"])).seal(msg)

    inner = pgp_mime_decrypt(sealed, pgp_keys["homes"]["hub"])
    assert inner == today(msg)
    assert text(inner) == msg.get_content()


def test_the_message_is_the_kind_mail_clients_read(smime_keys, pgp_keys):
    msg = message_for(WELSH)
    s = parse(load_sealer(smime(smime_keys["hub"][0])).seal(msg))
    assert s.get_content_type() == "application/pkcs7-mime"
    assert s.get_param("smime-type") == "enveloped-data" and s.get_param("name") == "smime.p7m"
    assert s["Content-Transfer-Encoding"] == "base64"
    # AES-256-CBC content encryption (Outlook cannot read GCM), RSA key transport.
    info = run("openssl", "cms", "-cmsout", "-print", "-inform", "DER", stdin=s.get_content()).decode()
    assert "aes-256-cbc" in info and "rsaEncryption" in info

    p = parse(load_sealer(openpgp(pgp_keys["files"]["hub"])).seal(msg))
    assert p.get_content_type() == "multipart/encrypted"
    assert p.get_param("protocol") == "application/pgp-encrypted"
    control, data = p.get_payload()
    assert control.get_content_type() == "application/pgp-encrypted"
    assert control.get_content().strip() == b"Version: 1" or control.get_payload().strip() == "Version: 1"
    assert data.get_content_type() == "application/octet-stream"
    assert data.get_payload().lstrip().startswith("-----BEGIN PGP MESSAGE-----")


def test_two_certificates_both_recipients_decrypt(smime_keys):
    msg = message_for(WELSH)
    sealer = load_sealer(smime(smime_keys["both"]))
    assert len(sealer.recipients) == 2
    sealed = sealer.seal(msg)
    for name in ("hub", "second"):
        assert smime_decrypt(sealed, *smime_keys[name]) == today(msg), name


def test_two_keys_both_recipients_decrypt(pgp_keys):
    msg = message_for(WELSH)
    sealer = load_sealer(openpgp(pgp_keys["both"]))
    assert len(sealer.recipients) == 2
    sealed = sealer.seal(msg)
    for name, home in pgp_keys["homes"].items():  # each home holds only its own private key
        assert pgp_mime_decrypt(sealed, home) == today(msg), name


def test_one_key_only_its_holder_decrypts(pgp_keys, smime_keys):
    msg = message_for(WELSH)
    sealed = load_sealer(openpgp(pgp_keys["files"]["hub"])).seal(msg)
    with pytest.raises(RuntimeError, match="decrypt"):
        pgp_mime_decrypt(sealed, pgp_keys["homes"]["second"])
    sealed = load_sealer(smime(smime_keys["hub"][0])).seal(msg)
    with pytest.raises(RuntimeError):
        smime_decrypt(sealed, *smime_keys["second"])


# -- nothing personal outside ----------------------------------------------------------------


def encodings(value: str) -> list[bytes]:
    """The ways a value could show up in a message's bytes."""
    raw = value.encode()
    forms = {raw, quopri.encodestring(raw).rstrip(b"=\n"), base64.b64encode(raw)}
    # Single words too, but only long ones: a short one turns up in base64 ciphertext by chance.
    forms |= {word.encode() for word in value.split() if len(word.encode()) >= 6}
    return [form for form in forms if len(form) >= 6]


@pytest.mark.parametrize("method", ["smime", "openpgp"])
def test_outside_the_seal_only_the_reference_and_when(method, smime_keys, pgp_keys):
    msg = message_for(WELSH)
    config = smime(smime_keys["hub"][0]) if method == "smime" else openpgp(pgp_keys["files"]["hub"])
    sealed = load_sealer(config).seal(msg)

    outer = parse(sealed)
    allowed = {name.lower() for name in OUTER_HEADERS} | {"mime-version", "content-type",
                                                          "content-transfer-encoding", "content-disposition"}
    assert {name.lower() for name in outer.keys()} <= allowed
    # Reply goes to the hub's own inbox, outside as inside: mail clients answer from the outer headers.
    assert outer["Reply-To"] == msg["Reply-To"] == HUB
    assert outer["Subject"] == "Restorative justice enquiry RJ-7K2M9QDX"
    assert outer["From"] == msg["From"] and outer["To"] == msg["To"]
    assert outer["Message-ID"] == msg["Message-ID"] and outer["Date"] == msg["Date"]
    values = [WELSH[key] for key in ("name", "email", "phone", "call_times", "crime_reference")]
    values += [line for line in WELSH["message"].split("\r\n") if line]
    for value in values:
        for form in encodings(value):
            assert form not in sealed, (value, form)


@pytest.mark.parametrize("method", ["smime", "openpgp"])
def test_reply_goes_to_the_hub_outside_and_inside_whatever_the_name(method, smime_keys, pgp_keys):
    # A name that Python 3.11 folded into address syntax (CPython gh-80222), when names went into Reply-To.
    name = "a" * 45 + " <attacker@evil.example> (x" + "b" * 20
    msg = message_for(dict(WELSH, name=name, email="victim@example.org"))
    if method == "smime":
        sealed = load_sealer(smime(smime_keys["hub"][0])).seal(msg)
        inner = smime_decrypt(sealed, *smime_keys["hub"])
    else:
        sealed = load_sealer(openpgp(pgp_keys["files"]["hub"])).seal(msg)
        inner = pgp_mime_decrypt(sealed, pgp_keys["homes"]["hub"])
    check_where_replies_go(sealed, mail_from=MAIL_FROM, hub_inbox=HUB, reference="RJ-7K2M9QDX", typed=None,
                           body=False)
    check_where_replies_go(inner, mail_from=MAIL_FROM, hub_inbox=HUB, reference="RJ-7K2M9QDX",
                           typed="victim@example.org")


def test_none_is_the_message_as_today():
    msg = message_for(WELSH)
    sealer = load_sealer({"ENV": "production", "HUB_ENCRYPTION": "none"})
    assert sealer.method == "none"
    assert sealer.seal(msg) == message_bytes(msg)
    assert any("unsealed" in warning for warning in sealer.warnings())


def test_a_failure_to_seal_says_so_without_the_message(smime_keys):
    broken = dataclasses.replace(load_sealer(smime(smime_keys["hub"][0])), _keys=())  # no recipient left
    with pytest.raises(SealingFailed) as error:
        broken.seal(message_for(WELSH))
    assert str(error.value) == "S/MIME: ValueError"


def test_the_start_log_names_each_key_then_the_warnings(smime_keys, caplog):
    sealer = load_sealer(smime(smime_keys["both"]))
    with caplog.at_level(logging.INFO, logger="test-seal"):
        sealer.log_start(logging.getLogger("test-seal"))
    assert [(r.levelname, r.getMessage().split(" (serial")[0]) for r in caplog.records] == [
        ("INFO", "sealing enquiries (smime) to certificate hub <hub@hub.example>"),
        ("INFO", "sealing enquiries (smime) to certificate hub-new <hub-new@hub.example>"),
    ]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="test-seal"):
        load_sealer({"ENV": "production", "HUB_ENCRYPTION": "none"}).log_start(logging.getLogger("test-seal"))
    [record] = caplog.records
    assert record.levelname == "WARNING" and "HUB_ENCRYPTION=none" in record.getMessage()
    json.dumps(sealer.status())  # GET /healthz can show it as it is


def test_sealing_leaves_the_callers_message_alone(smime_keys):
    msg = message_for(WELSH)
    before = msg.as_bytes()
    load_sealer(smime(smime_keys["hub"][0])).seal(msg)
    assert msg.as_bytes() == before


# -- gunicorn: forked workers and threads -------------------------------------------------------


@pytest.mark.parametrize("method", ["smime", "openpgp"])
def test_a_sealer_loaded_before_fork_works_in_the_child_and_threads(method, smime_keys, pgp_keys):
    """Loaded once in gunicorn's master, used by forked workers' threads; no shared random state."""
    config = smime(smime_keys["hub"][0]) if method == "smime" else openpgp(pgp_keys["files"]["hub"])
    sealer = load_sealer(config)
    msg = message_for(WELSH)

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: seal from four threads, send one back
        try:
            results = []
            threads = [threading.Thread(target=lambda: results.append(sealer.seal(msg))) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(results) == 4
            os.write(write, results[0])
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    from_child, from_parent = b"".join(chunks), sealer.seal(msg)
    assert from_child and from_child != from_parent  # fresh randomness on each side of the fork
    for sealed in (from_child, from_parent):
        if method == "smime":
            assert smime_decrypt(sealed, *smime_keys["hub"]) == today(msg)
        else:
            assert pgp_mime_decrypt(sealed, pgp_keys["homes"]["hub"]) == today(msg)


# -- start-up: settings ----------------------------------------------------------------------


def test_production_without_hub_encryption_refuses_to_start():
    with pytest.raises(SealingConfigError) as error:
        load_sealer({"ENV": "production", "HUB_ENCRYPTION": ""})
    message = str(error.value)
    assert "FORMSVC_HUB_ENCRYPTION is not set" in message
    assert "smime" in message and "openpgp" in message and "none" in message


@pytest.mark.parametrize("config", [{"ENV": "development"}, {"ENV": "testing"}, {"ENV": "production", "TESTING": True}])
def test_development_and_tests_default_to_none(config):
    assert load_sealer(config).method == "none"


def test_the_settings_are_in_the_table():
    from formsvc.config import default

    assert default("HUB_ENCRYPTION") == ""  # so production refuses until someone chooses
    assert default("HUB_SMIME_CERTIFICATES") == "" and default("HUB_OPENPGP_KEYS") == ""


@pytest.mark.parametrize("config, says", [
    ({"HUB_ENCRYPTION": "pgp"}, "use smime, openpgp or none"),
    ({"HUB_ENCRYPTION": "smime"}, "needs FORMSVC_HUB_SMIME_CERTIFICATES"),
    ({"HUB_ENCRYPTION": "openpgp"}, "needs FORMSVC_HUB_OPENPGP_KEYS"),
])
def test_incomplete_settings_refuse_to_start(config, says):
    with pytest.raises(SealingConfigError, match=says):
        load_sealer({"ENV": "production", **config})


def test_the_setting_comes_from_the_environment(monkeypatch, smime_keys):
    from flask import Flask

    from formsvc import config

    monkeypatch.setenv("FORMSVC_HUB_ENCRYPTION", "smime")
    monkeypatch.setenv("FORMSVC_HUB_SMIME_CERTIFICATES", str(smime_keys["hub"][0]))
    app = Flask(__name__)
    config.load(app, {"SECRET_KEY": "x" * 32, "DATA_DIR": str(smime_keys["folder"] / "data")})
    assert load_sealer(app.config).method == "smime"


# -- start-up: bad key files ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def bad_smime(smime_keys):
    folder = smime_keys["folder"] / "bad"
    files = {
        "signing only": smime_certificate(folder, "sign", key_usage="digitalSignature")[0],
        "web server": smime_certificate(folder, "web", extended_key_usage="serverAuth")[0],
        "EC": smime_certificate(folder, "ec", key="ec:prime256v1")[0],
        "private key": smime_keys["hub"][1],
        "garbage": folder / "garbage.pem",
        "OpenPGP key": folder / "openpgp.asc",
        "missing": folder / "no-such-file.pem",
        "a folder": folder,
    }
    files["garbage"].write_text("not a certificate\n")
    files["OpenPGP key"].write_bytes(
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxsBN\n-----END PGP PUBLIC KEY BLOCK-----\n")
    combined = folder / "cert-and-key.pem"
    combined.write_bytes(smime_keys["hub"][0].read_bytes() + smime_keys["hub"][1].read_bytes())
    files["certificate with its key"] = combined
    return files


@pytest.mark.parametrize("case, says", [
    ("signing only", "is not for encryption: its key usage lacks keyEncipherment"),
    ("web server", "is not for email: its extended key usage lacks emailProtection"),
    ("EC", "has a key of type EC; S/MIME sealing needs an RSA certificate"),
    ("private key", "holds a private key"),
    ("certificate with its key", "holds a private key"),
    ("garbage", "is not a PEM file of X.509 certificates"),
    ("OpenPGP key", "is not a PEM file of X.509 certificates"),
    ("missing", "cannot be read (No such file or directory)"),
    ("a folder", "cannot be read (Is a directory)"),
])
def test_a_bad_certificate_file_stops_the_start(bad_smime, case, says):
    path = bad_smime[case]
    with pytest.raises(SealingConfigError) as error:
        load_sealer(smime(path))
    assert str(error.value).startswith(f"{path}: ")  # names the file
    assert says in str(error.value)


def test_an_expired_certificate_stops_the_start_and_one_ending_soon_warns(smime_keys, tmp_path):
    cert = smime_keys["hub"][0]
    sealer = load_sealer(smime(cert))
    ends = sealer.recipients[0].expires
    assert sealer.warnings() == []
    with pytest.raises(SealingConfigError) as error:
        load_sealer(smime(cert), now=ends + timedelta(seconds=1))
    assert str(error.value) == f"{cert}: certificate hub <hub@hub.example> expired on {ends:%Y-%m-%d}."

    soon, _ = smime_certificate(tmp_path, "soon", days=10)
    sealer = load_sealer(smime(soon))
    [warning] = sealer.warnings()
    assert str(soon) in warning and "expires on" in warning and "in 9 days" in warning
    assert sealer.status()["warnings"] == [warning]
    # Still running when it ends: GET /healthz says so (and sealing goes on: the hub still has the key).
    later = sealer.recipients[0].expires + timedelta(hours=1)
    assert "expired on" in sealer.status(now=later)["warnings"][0]


@pytest.fixture(scope="session")
def bad_pgp(pgp_keys):
    folder = pgp_keys["folder"] / "bad"
    homes = {name: folder / name for name in ("signing", "expired", "revoked", "subkey-soon", "soon", "subkey-gone")}
    openpgp_key(homes["signing"], "Sign only <s@hub.example>", algo="ed25519", usage="sign")
    openpgp_key(homes["expired"], "Expired <e@hub.example>", expire="1y", faked_time="20200101T000000")
    revoked = openpgp_key(homes["revoked"], "Revoked <r@hub.example>")
    certificate = (homes["revoked"] / "openpgp-revocs.d" / f"{revoked}.rev").read_text()
    gpg(homes["revoked"], "--import", stdin=certificate.replace(":-----BEGIN", "-----BEGIN").encode())
    primary = openpgp_key(homes["subkey-soon"], "Subkey soon <k@hub.example>", algo="ed25519", usage="sign")
    gpg(homes["subkey-soon"], "--quick-add-key", primary, "cv25519", "encr", "10d")
    openpgp_key(homes["soon"], "Soon <soon@hub.example>", expire="10d")
    primary = openpgp_key(homes["subkey-gone"], "Subkey gone <g@hub.example>", algo="ed25519", usage="sign",
                          faked_time="20200101T000000")
    gpg(homes["subkey-gone"], "--faked-system-time", "20200101T000000", "--quick-add-key", primary,
        "cv25519", "encr", "1y")
    files = {name: folder / f"{name}.asc" for name in homes}
    for name, home in homes.items():
        files[name].write_bytes(export_public(home))
    files["private key"] = folder / "private.asc"
    files["private key"].write_bytes(gpg(pgp_keys["homes"]["hub"], "--armor", "--export-secret-keys"))
    files["certificate"] = pgp_keys["folder"] / "x509.pem"
    files["certificate"].write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    files["empty"] = folder / "empty.asc"
    files["empty"].write_bytes(b"")
    files["missing"] = folder / "no-such-file.asc"
    yield files
    for home in homes.values():
        stop_agent(home)


@pytest.mark.parametrize("case, says", [
    ("signing", "has no key usable for encryption"),
    ("subkey-gone", "has no key usable for encryption"),
    ("expired", "expired on 2020-12-31"),  # made in 2020 for a year (a leap year)
    ("revoked", "has been revoked"),
    ("private key", "holds a private key"),
    ("certificate", "OpenPGP"),
    ("empty", "holds no OpenPGP key"),
    ("missing", "cannot be read (No such file or directory)"),
])
def test_a_bad_openpgp_key_file_stops_the_start(bad_pgp, case, says):
    path = bad_pgp[case]
    with pytest.raises(SealingConfigError) as error:
        load_sealer(openpgp(path))
    assert str(error.value).startswith(f"{path}: ")
    assert says in str(error.value)


@pytest.mark.parametrize("case", ["soon", "subkey-soon"])
def test_an_openpgp_key_ending_soon_warns(bad_pgp, case):
    sealer = load_sealer(openpgp(bad_pgp[case]))
    [warning] = sealer.warnings()
    assert str(bad_pgp[case]) in warning and "expires on" in warning
    assert sealer.recipients[0].expires - NOW < timedelta(days=11)


def test_a_key_that_never_ends_has_no_warning(pgp_keys):
    sealer = load_sealer(openpgp(pgp_keys["both"]))
    assert sealer.warnings() == [] and [r.expires for r in sealer.recipients] == [None, None]
    assert sealer.status() == {"encryption": "openpgp", "recipients": 2, "expires_soonest": None, "warnings": []}

