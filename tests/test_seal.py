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
    export_secret,
    gpg,
    gpg_status,
    gpgsm_import,
    openpgp_key,
    openpgp_revoke,
    openpgp_signing_key,
    pgp_mime_data,
    pgp_mime_decrypt,
    pkcs12,
    pkcs12_to_legacy,
    run,
    smime_certificate,
    smime_decrypt,
    smime_verify,
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


@pytest.fixture(scope="session")
def service_keys(tmp_path_factory, pgp_keys):
    """The service's own signing keys (for MAIL_FROM's address): S/MIME RSA and EC certificates,
    an Ed25519 OpenPGP key. The hub's GnuPG homes know its public key, as the hub's would."""
    folder = tmp_path_factory.mktemp("service")
    rsa = smime_certificate(folder, "enquiries", key_usage="digitalSignature", email="enquiries@rj.example")
    ec = smime_certificate(folder, "enquiries-ec", key="ec:prime256v1", key_usage="digitalSignature",
                           email="enquiries@rj.example")
    home, secret = folder / "gnupg", folder / "service-secret.asc"
    fingerprint = openpgp_signing_key(home, secret, known_to=tuple(pgp_keys["homes"].values()))
    return {"smime": rsa, "smime-ec": ec, "openpgp": secret, "fingerprint": fingerprint, "home": home,
            "folder": folder}


def smime(path, signing: tuple | None = None) -> dict:
    config = {"ENV": "production", "HUB_ENCRYPTION": "smime", "HUB_SMIME_CERTIFICATES": str(path)}
    if signing:
        config.update(MAIL_FROM=MAIL_FROM, SIGNING_SMIME_CERTIFICATE=str(signing[0]), SIGNING_SMIME_KEY=str(signing[1]))
    return config


def openpgp(path, signing=None) -> dict:
    config = {"ENV": "production", "HUB_ENCRYPTION": "openpgp", "HUB_OPENPGP_KEYS": str(path)}
    if signing:
        config.update(MAIL_FROM=MAIL_FROM, SIGNING_OPENPGP_KEY=str(signing))
    return config


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


@pytest.mark.parametrize("method, signed", [("smime", False), ("openpgp", False), ("smime", True), ("openpgp", True)],
                         ids=["smime", "openpgp", "smime-signed", "openpgp-signed"])
def test_outside_the_seal_only_the_reference_and_when(method, signed, smime_keys, pgp_keys, service_keys):
    msg = message_for(WELSH)
    signing = service_keys[method] if signed else None
    config = smime(smime_keys["hub"][0], signing) if method == "smime" else openpgp(pgp_keys["files"]["hub"], signing)
    sealed = load_sealer(config).seal(msg)
    # The signature is inside too: nothing outside says the message is signed, or by whom.
    assert b"signed" not in sealed.partition(b"\r\n\r\n")[0] and b"Enquiry service" not in sealed

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
    assert [(r.levelname, r.getMessage().split(" (serial")[0].split(":")[0]) for r in caplog.records] == [
        ("INFO", "sealing enquiries (smime) to certificate hub <hub@hub.example>"),
        ("INFO", "sealing enquiries (smime) to certificate hub-new <hub-new@hub.example>"),
        ("WARNING", "enquiries are not signed"),
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


@pytest.mark.parametrize("method, signed", [("smime", False), ("openpgp", False), ("smime", True), ("openpgp", True)],
                         ids=["smime", "openpgp", "smime-signed", "openpgp-signed"])
def test_a_sealer_loaded_before_fork_works_in_the_child_and_threads(method, signed, smime_keys, pgp_keys,
                                                                     service_keys):
    """Loaded once in gunicorn's master, used by forked workers' threads; no shared random state
    (the signing key too: a signer used from four threads of a forked child)."""
    signing = service_keys[method] if signed else None
    config = smime(smime_keys["hub"][0], signing) if method == "smime" else openpgp(pgp_keys["files"]["hub"], signing)
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
            inner = smime_decrypt(sealed, *smime_keys["hub"])
            assert (smime_verify(inner, service_keys["smime"][0]) if signed else inner) == today(msg)
        elif signed:
            assert opened_with_good_signature(sealed, pgp_keys["homes"]["hub"], service_keys) == today(msg)
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
    from formsvc.seal import SIGNING_SETTINGS

    assert default("HUB_ENCRYPTION") == ""  # so production refuses until someone chooses
    assert default("HUB_SMIME_CERTIFICATES") == "" and default("HUB_OPENPGP_KEYS") == ""
    # Signing is optional: not set, production starts (and warns).
    assert [default(name) for names in SIGNING_SETTINGS.values() for name in names] == ["", "", ""]


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


def test_an_expired_certificate_stops_the_start_and_one_ending_soon_warns(smime_keys, service_keys, tmp_path):
    cert = smime_keys["hub"][0]
    sealer = load_sealer(smime(cert, service_keys["smime"]))
    ends = sealer.recipients[0].expires
    assert sealer.warnings() == []
    with pytest.raises(SealingConfigError) as error:
        load_sealer(smime(cert), now=ends + timedelta(seconds=1))
    assert str(error.value) == f"{cert}: certificate hub <hub@hub.example> expired on {ends:%Y-%m-%d}."

    soon, _ = smime_certificate(tmp_path, "soon", days=10)
    sealer = load_sealer(smime(soon, service_keys["smime"]))
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
    openpgp_revoke(homes["revoked"], openpgp_key(homes["revoked"], "Revoked <r@hub.example>"))
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
def test_an_openpgp_key_ending_soon_warns(bad_pgp, service_keys, case):
    sealer = load_sealer(openpgp(bad_pgp[case], service_keys["openpgp"]))
    [warning] = sealer.warnings()
    assert str(bad_pgp[case]) in warning and "expires on" in warning
    assert sealer.recipients[0].expires - NOW < timedelta(days=11)


def test_a_key_that_never_ends_has_no_warning(pgp_keys, service_keys):
    sealer = load_sealer(openpgp(pgp_keys["both"], service_keys["openpgp"]))
    assert sealer.warnings() == [] and [r.expires for r in sealer.recipients] == [None, None]
    assert sealer.status() == {"encryption": "openpgp", "recipients": 2, "expires_soonest": None,
                               "signed": True, "signing_expires": None, "warnings": []}



# -- signed inside the seal (issue 20): the hub can tell an enquiry from a forged message ------------


def opened_with_good_signature(sealed: bytes, hub_home, service_keys) -> bytes:
    """What ``gpg --decrypt`` opens, once it has said the service's key made a good signature:
    GOODSIG, and VALIDSIG naming the service key's primary fingerprint."""
    code, inner, status = gpg_status(hub_home, "--decrypt", stdin=pgp_mime_data(sealed))
    assert code == 0 and "DECRYPTION_OKAY" in status, status
    assert "GOODSIG" in status and "BADSIG" not in status and "ERRSIG" not in status, status
    [valid] = status["VALIDSIG"]
    assert valid.split()[-1] == service_keys["fingerprint"], valid
    return inner


@pytest.mark.parametrize("signer", ["smime", "smime-ec"], ids=["RSA", "EC"])
def test_smime_signed_then_sealed_openssl_decrypts_then_verifies(smime_keys, service_keys, signer):
    msg = message_for(WELSH)
    sealer = load_sealer(smime(smime_keys["hub"][0], service_keys[signer]))
    assert sealer.signing.kind == "signing certificate" and sealer.status()["signed"] is True
    sealed = sealer.seal(msg)
    assert parse(sealed).get_param("smime-type") == "enveloped-data"  # signed inside, never outside

    signed = smime_decrypt(sealed, *smime_keys["hub"])
    entity = parse(signed)
    assert entity.get_content_type() == "multipart/signed"
    assert entity.get_param("protocol") == "application/pkcs7-signature" and entity.get_param("micalg") == "sha-256"
    content, signature = entity.get_payload()
    assert content["Subject"] == msg["Subject"] and signature.get_content_type() == "application/pkcs7-signature"
    # The signature checks, and chains to the service's certificate (which the signature carries:
    # openssl is given no other copy)...
    assert smime_verify(signed, service_keys[signer][0]) == today(msg)
    # ...and to nothing else: trusting only the hub's certificate, it does not verify.
    with pytest.raises(RuntimeError, match="certificate verify error"):
        smime_verify(signed, smime_keys["hub"][0])


@pytest.mark.parametrize("change", ["reference", "reply address", "message", "signature"])
def test_an_altered_smime_enquiry_fails_verification(smime_keys, service_keys, change):
    msg = message_for(WELSH)
    signed = smime_decrypt(load_sealer(smime(smime_keys["hub"][0], service_keys["smime"])).seal(msg),
                           *smime_keys["hub"])
    assert smime_verify(signed, None) == today(msg)  # as it was sent: the signature alone checks
    head, _, rest = signed.partition(b"\r\n\r\n")  # after the multipart/signed header
    content, _, signature = rest.rpartition(b'Content-Type: application/pkcs7-signature')
    if change == "signature":
        # The last byte of the DER is the signature value's (the signer's certificate, the chain and
        # the attributes come before it): flipped, the structure still reads, the value is wrong.
        fields, _, der = signature.partition(b"\r\n\r\n")
        der, _, end = der.partition(b"\r\n--")
        der = base64.b64decode(der)
        der = der[:-1] + bytes([der[-1] ^ 1])
        altered = head + b"\r\n\r\n" + content + b'Content-Type: application/pkcs7-signature' + fields + \
            b"\r\n\r\n" + base64.encodebytes(der).replace(b"\n", b"\r\n") + b"--" + end
    else:
        old, new = {"reference": (b"RJ-7K2M9QDX", b"RJ-7K2M9QDY"),
                    # Where the hub would reply: in Reply-To and in the body.
                    "reply address": (WELSH["email"].encode(), b"someone.else@attacker.example"),
                    "message": (b"Digwyddodd yng Nghaerdydd.", b"Digwyddodd yn Abertawe.")}[change]
        assert old in content
        altered = head + b"\r\n\r\n" + content.replace(old, new) + b'Content-Type: application/pkcs7-signature' + \
            signature
    with pytest.raises(RuntimeError, match="CMS Verification failure"):
        smime_verify(altered, None)


def test_openpgp_signed_and_sealed_gpg_reports_a_good_signature_from_the_service_key(pgp_keys, service_keys):
    msg = message_for(WELSH)
    sealer = load_sealer(openpgp(pgp_keys["both"], service_keys["openpgp"]))
    assert sealer.signing.ident == service_keys["fingerprint"] and sealer.status()["signed"] is True
    sealed = sealer.seal(msg)
    for home in pgp_keys["homes"].values():  # either of the hub's keys opens it, and sees the signature
        assert opened_with_good_signature(sealed, home, service_keys) == today(msg)


def test_an_altered_openpgp_enquiry_gets_a_bad_signature(pgp_keys, service_keys):
    msg = message_for(WELSH)
    sealed = load_sealer(openpgp(pgp_keys["files"]["hub"], service_keys["openpgp"])).seal(msg)
    home = pgp_keys["homes"]["hub"]
    # Decrypted but not yet verified: the signed OpenPGP message inside the seal.
    code, signed, _ = gpg_status(home, "--unwrap", "--decrypt", stdin=pgp_mime_data(sealed))
    assert code == 0
    code, _, status = gpg_status(home, "--verify", stdin=signed)
    assert code == 0 and "GOODSIG" in status
    altered = signed.replace(b"RJ-7K2M9QDX", b"RJ-7K2M9QDY")
    assert altered != signed
    code, _, status = gpg_status(home, "--verify", stdin=altered)
    assert code != 0 and "BADSIG" in status and "GOODSIG" not in status and "VALIDSIG" not in status


def test_without_a_signing_key_nothing_is_signed_and_it_says_so(smime_keys, pgp_keys):
    msg = message_for(WELSH)
    sealer = load_sealer(smime(smime_keys["hub"][0]))
    assert smime_decrypt(sealer.seal(msg), *smime_keys["hub"]) == today(msg)  # no multipart/signed
    [warning] = sealer.warnings()
    assert warning.startswith("enquiries are not signed") and "FORMSVC_SIGNING_SMIME_CERTIFICATE" in warning
    assert (sealer.status()["signed"], sealer.status()["warnings"]) == (False, [warning])

    sealer = load_sealer(openpgp(pgp_keys["files"]["hub"]))
    code, inner, status = gpg_status(pgp_keys["homes"]["hub"], "--decrypt", stdin=pgp_mime_data(sealer.seal(msg)))
    assert code == 0 and inner == today(msg) and "NEWSIG" not in status and "GOODSIG" not in status
    [warning] = sealer.warnings()
    assert warning.startswith("enquiries are not signed") and "FORMSVC_SIGNING_OPENPGP_KEY" in warning


def test_the_start_log_names_the_signing_key(pgp_keys, service_keys, caplog):
    sealer = load_sealer(openpgp(pgp_keys["files"]["hub"], service_keys["openpgp"]))
    with caplog.at_level(logging.INFO, logger="test-seal"):
        sealer.log_start(logging.getLogger("test-seal"))
    assert [(r.levelname, r.getMessage()) for r in caplog.records][1:] == [
        ("INFO", f"signing enquiries (openpgp) with OpenPGP signing key Enquiry service <enquiries@rj.example> "
                 f"({service_keys['fingerprint']}) in {service_keys['openpgp']}")]
    assert "PRIVATE" not in repr(sealer) and "_signer" not in repr(sealer)  # the key is never shown


# -- the signing key checked at start ----------------------------------------------------------------


@pytest.mark.parametrize("config, says", [
    ({"HUB_ENCRYPTION": "none", "SIGNING_SMIME_CERTIFICATE": "x.pem"},
     "FORMSVC_SIGNING_SMIME_CERTIFICATE is set, but enquiries are not sealed (FORMSVC_HUB_ENCRYPTION=none)"),
    ({"ENV": "development", "SIGNING_OPENPGP_KEY": "x.asc"}, "FORMSVC_HUB_ENCRYPTION=empty"),
    ({"HUB_ENCRYPTION": "smime", "SIGNING_OPENPGP_KEY": "x.asc"},
     "FORMSVC_SIGNING_OPENPGP_KEY is for the other kind of sealing, but FORMSVC_HUB_ENCRYPTION=smime"),
    ({"HUB_ENCRYPTION": "openpgp", "SIGNING_SMIME_KEY": "x.pem"}, "sign with FORMSVC_SIGNING_OPENPGP_KEY instead"),
    ({"HUB_ENCRYPTION": "smime", "SIGNING_SMIME_CERTIFICATE": "x.pem"}, "FORMSVC_SIGNING_SMIME_KEY is not set"),
])
def test_signing_settings_that_cannot_apply_stop_the_start(config, says, smime_keys, pgp_keys):
    hub = {"HUB_SMIME_CERTIFICATES": str(smime_keys["hub"][0]), "HUB_OPENPGP_KEYS": str(pgp_keys["files"]["hub"])}
    with pytest.raises(SealingConfigError) as error:
        load_sealer({"ENV": "production", **hub, **config})
    assert says in str(error.value)


def key_material(path) -> list[bytes]:
    """The base64 lines of a key file: none may turn up in a message about it."""
    return [line for line in path.read_bytes().splitlines() if len(line) >= 16 and not line.startswith(b"-----")]


@pytest.fixture(scope="session")
def bad_smime_signing(smime_keys, service_keys):
    folder = service_keys["folder"] / "bad-smime"
    good_cert, good_key = service_keys["smime"]
    made = {name: smime_certificate(folder, name.replace(" ", "-").replace("'", ""), email="enquiries@rj.example", **kw)
            for name, kw in {
                "encryption only": {"key_usage": "keyEncipherment"},
                "web server": {"key_usage": "digitalSignature", "extended_key_usage": "serverAuth"},
                "Ed25519": {"key": "ed25519", "key_usage": "digitalSignature"},
                "RSA-1024": {"key": "rsa:1024", "key_usage": "digitalSignature"},
            }.items()}
    password = folder / "password-key.pem"
    run("openssl", "pkey", "-in", str(good_key), "-aes256", "-passout", "pass:secret", "-out", str(password))
    garbage = folder / "garbage.pem"
    garbage.write_text("not a certificate\n")
    # (certificate, key, the file the message must name, what it says)
    return {
        **{name: (*pair, pair[0]) for name, pair in made.items()},
        "key missing": (good_cert, folder / "no-such-key.pem", folder / "no-such-key.pem"),
        "certificate missing": (folder / "no-such-cert.pem", good_key, folder / "no-such-cert.pem"),
        "password": (good_cert, password, password),
        "another key": (good_cert, smime_keys["second"][1], smime_keys["second"][1]),
        "the hub's own key": (smime_keys["hub"][0], smime_keys["hub"][1], smime_keys["hub"][1]),
        "garbage certificate": (garbage, good_key, garbage),
        "a certificate as the key": (good_cert, good_cert, good_cert),
    }


@pytest.mark.parametrize("case, says", [
    ("encryption only", "is not for signing: its key usage lacks digitalSignature"),
    ("web server", "is not for email: its extended key usage lacks emailProtection"),
    ("Ed25519", "has a key of type Ed25519; S/MIME signing needs RSA or EC"),
    ("RSA-1024", "has an RSA key of 1024 bits; use 2048 or more"),
    ("key missing", "cannot be read (No such file or directory)"),
    ("certificate missing", "cannot be read (No such file or directory)"),
    ("password", "the private key is protected by a password"),
    ("another key", "the private key does not belong to the certificate in"),
    ("the hub's own key", "is the hub's own private key. The service must never hold it"),
    ("garbage certificate", "is not a PEM file of X.509 certificates"),
    ("a certificate as the key", "holds no PEM private key"),
])
def test_a_bad_smime_signing_key_stops_the_start_naming_the_file(bad_smime_signing, smime_keys, case, says):
    cert, key, named = bad_smime_signing[case]
    with pytest.raises(SealingConfigError) as error:
        load_sealer(smime(smime_keys["hub"][0], (cert, key)))
    message = str(error.value)
    assert message.startswith(f"{named}: ") and says in message
    for line in key_material(key) if key.is_file() else []:
        assert line not in message.encode()


@pytest.fixture(scope="session")
def bad_openpgp_signing(pgp_keys, service_keys):
    folder = service_keys["folder"] / "bad-openpgp"
    homes = {name: folder / name for name in ("encrypt", "expired", "subkey-gone", "revoked", "subkey-soon",
                                              "password")}
    primary = openpgp_key(homes["encrypt"], "Encrypt only <enquiries@rj.example>", algo="ed25519", usage="cert")
    gpg(homes["encrypt"], "--quick-add-key", primary, "cv25519", "encr", "never")
    openpgp_key(homes["expired"], "Expired <enquiries@rj.example>", algo="ed25519", usage="sign", expire="1y",
                faked_time="20200101T000000")
    primary = openpgp_key(homes["subkey-gone"], "Subkey gone <enquiries@rj.example>", algo="ed25519", usage="cert",
                          faked_time="20200101T000000")
    gpg(homes["subkey-gone"], "--faked-system-time", "20200101T000000", "--quick-add-key", primary, "ed25519",
        "sign", "1y")
    openpgp_revoke(homes["revoked"], openpgp_key(homes["revoked"], "Revoked <enquiries@rj.example>", algo="ed25519",
                                                 usage="sign"))
    primary = openpgp_key(homes["subkey-soon"], "Subkey soon <enquiries@rj.example>", algo="ed25519", usage="cert")
    gpg(homes["subkey-soon"], "--quick-add-key", primary, "ed25519", "sign", "10d")
    homes["password"].mkdir(parents=True)
    homes["password"].chmod(0o700)
    (homes["password"] / "gpg-agent.conf").write_text("s2k-count 65536\n")  # a password, quickly (as gpgsm_import)
    run("gpg", "--homedir", str(homes["password"]), "--batch", "--pinentry-mode", "loopback", "--passphrase",
        "secret", "--quick-gen-key", "Password <enquiries@rj.example>", "ed25519", "sign", "never")
    files = {name: folder / f"{name}.asc" for name in homes}
    for name, home in homes.items():
        if name == "password":
            files[name].write_bytes(run("gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
                                        "--passphrase", "secret", "--armor", "--export-secret-keys"))
        else:
            files[name].write_bytes(export_secret(home))
    extra = {"public only": export_public(service_keys["home"]),
             # One after the other as two armoured blocks, and as one binary stream.
             "two keys": export_secret(service_keys["home"]) + export_secret(homes["expired"]),
             "two keys, binary": gpg(service_keys["home"], "--export-secret-keys") + gpg(homes["expired"],
                                                                                        "--export-secret-keys"),
             "the hub's own key": export_secret(pgp_keys["homes"]["hub"]),
             "garbage": b"not a key\n",
             "certificate": b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
    for name, data in extra.items():
        files[name] = folder / f"{name.replace(' ', '-')}.asc"
        files[name].write_bytes(data)
    files["missing"] = folder / "no-such-file.asc"
    for path in files.values():
        if path.exists():
            path.chmod(0o600)
    yield files
    for home in homes.values():
        stop_agent(home)


@pytest.mark.parametrize("case, says", [
    ("encrypt", "has no key usable for signing"),
    ("subkey-gone", "has no key usable for signing"),
    ("expired", "expired on 2020-12-31"),
    ("revoked", "has been revoked"),
    ("password", "is protected by a password, which the service cannot type"),
    ("public only", "holds only a public key"),
    ("two keys", "is not one OpenPGP key (Malformed Cert: Additional packets found"),
    ("two keys, binary", "holds 2 keys; give the service exactly one"),
    ("the hub's own key", "is the hub's own private key. The service must never hold it"),
    ("garbage", "OpenPGP"),
    ("certificate", "OpenPGP"),
    ("missing", "cannot be read (No such file or directory)"),
])
def test_a_bad_openpgp_signing_key_stops_the_start_naming_the_file(bad_openpgp_signing, pgp_keys, case, says):
    path = bad_openpgp_signing[case]
    with pytest.raises(SealingConfigError) as error:
        load_sealer(openpgp(pgp_keys["files"]["hub"], path))
    message = str(error.value)
    assert message.startswith(f"{path}: ") and says in message
    assert "Stack backtrace" not in message
    for line in key_material(path) if path.is_file() else []:
        assert line not in message.encode()


def test_a_signing_certificate_ending_soon_warns_and_an_expired_one_stops_the_start(smime_keys, tmp_path):
    soon = smime_certificate(tmp_path, "soon", days=10, key_usage="digitalSignature", email="enquiries@rj.example")
    sealer = load_sealer(smime(smime_keys["hub"][0], soon))
    [warning] = sealer.warnings()
    assert warning.startswith("signing certificate soon <enquiries@rj.example> (serial ") and str(soon[0]) in warning
    assert "in 9 days: make a new one and give the hub its public part" in warning
    ends = sealer.signing.expires
    assert sealer.status()["signing_expires"] == ends.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Still running when it ends: said, and what it means for the hub.
    assert "shows them as not validly signed" in sealer.warnings(now=ends + timedelta(hours=1))[0]
    with pytest.raises(SealingConfigError, match=f"^{soon[0]}: signing certificate .* expired on "):
        load_sealer(smime(smime_keys["hub"][0], soon), now=ends + timedelta(seconds=1))
    with pytest.raises(SealingConfigError, match="is not valid until"):
        load_sealer(smime(smime_keys["hub"][0], soon), now=NOW - timedelta(days=1))


def test_an_openpgp_signing_subkey_ending_soon_warns(bad_openpgp_signing, pgp_keys):
    sealer = load_sealer(openpgp(pgp_keys["files"]["hub"], bad_openpgp_signing["subkey-soon"]))
    [warning] = sealer.warnings()
    assert warning.startswith("OpenPGP signing key Subkey soon") and "expires on" in warning
    assert sealer.signing.expires - NOW < timedelta(days=11)


def test_a_signer_not_matching_mail_from_or_a_key_others_can_read_warns(smime_keys, service_keys, tmp_path):
    config = smime(smime_keys["hub"][0], service_keys["smime"])
    [warning] = load_sealer({**config, "MAIL_FROM": "Hub <no-reply@force.example>"}).warnings()
    assert "is for enquiries@rj.example, not FORMSVC_MAIL_FROM (no-reply@force.example)" in warning
    readable = tmp_path / "key.pem"
    readable.write_bytes(service_keys["smime"][1].read_bytes())
    readable.chmod(0o644)
    [warning] = load_sealer({**config, "SIGNING_SMIME_KEY": str(readable)}).warnings()
    assert warning == (f"{readable}: the service's private signing key can be read by every user of this machine; "
                       f"chmod o-r {readable}")


# -- .p12 files for GnuPG (gpgsm, Kleopatra): docs/hub-keys.md ----------------------------------------


def test_gpgsm_imports_the_legacy_p12_the_guide_makes_not_openssl_3s_default(smime_keys, tmp_path):
    cert, key = smime_keys["hub"]
    default = pkcs12(cert, key, tmp_path / "hub.p12", "pw", legacy=False)
    made = {"made legacy": pkcs12(cert, key, tmp_path / "hub-gnupg.p12", "pw", legacy=True),
            "remade legacy": pkcs12_to_legacy(default, tmp_path / "hub-remade.p12", "pw")}
    homes = [tmp_path / name for name in ("gpgsm-default", "gpgsm-made", "gpgsm-remade")]
    try:
        # OpenSSL 3's default (AES-256, PBKDF2): gpgsm cannot read it, which is why the guide says -legacy.
        with pytest.raises(RuntimeError, match="PKCS#12"):
            gpgsm_import(homes[0], default, "pw")
        for home, (name, p12) in zip(homes[1:], made.items()):
            status = gpgsm_import(home, p12, "pw").decode()
            assert "IMPORT_OK" in status, name
            listed = run("gpgsm", "--homedir", str(home), "--list-secret-keys").decode()
            assert "hub@hub.example" in listed, name  # the private key went in, with its certificate
    finally:
        for home in homes:
            stop_agent(home)
