"""Accepting an enquiry with sealing on: our disk never holds a readable answer, the hub's key opens it."""
from __future__ import annotations

import base64
import logging
import quopri
import urllib.parse
from pathlib import Path

import pytest

from formsvc import create_app
from formsvc.message import AcceptedEnquiry, build_body
from formsvc.outbox import get_outbox
from formsvc.worker import run
from testsupport.answers import valid_answers
from testsupport.forms import FormBrowser
from testsupport.hubmail import hub_text
from testsupport.keys import (
    export_public,
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

# Words a victim might write, in several scripts, each long enough not to turn up by chance.
ANSWERS = valid_answers(
    name="Siân Llywelyn-Jones 王秀英",
    phone="07700 900 456",
    call_times="Dydd Llun ar ôl chwech",
    crime_reference="CR/8817/26",
    message="Mae arna i ofn ei weld e.\r\nЯ хочу спросить, почему он это сделал.\r\nشكرا لكم",
)
SECRETS = [ANSWERS[k] for k in ("name", "phone", "call_times", "crime_reference")] + \
    ANSWERS["message"].split("\r\n")


def encodings(text: str) -> set[bytes]:
    """``text`` as it could sit in a file: UTF-8, UTF-16, Latin-1, quoted-printable, base64, %-escaped."""
    forms = {text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be"),
             quopri.encodestring(text.encode("utf-8")).rstrip(b"=\n"),
             urllib.parse.quote(text).encode(), urllib.parse.quote_plus(text).encode()}
    try:
        forms.add(text.encode("latin-1"))
    except UnicodeEncodeError:
        pass
    raw = text.encode("utf-8")
    for shift in range(3):  # base64 of the text wherever it starts in a longer stream
        chunk = base64.b64encode(b"\0" * shift + raw)[4 if shift else 0:-4]
        forms.add(chunk)
    return {form for form in forms if len(form) >= 6}


def readable_answers(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.name}: {secret!r}" for secret in SECRETS for form in encodings(secret) if form in data]
    return found


@pytest.fixture(scope="module")
def hub_keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hub-keys")
    cert, private = smime_certificate(folder / "smime")
    home = folder / "gnupg"
    openpgp_key(home)
    keys = folder / "hub.asc"
    keys.write_bytes(export_public(home))
    yield {"smime": (cert, private), "openpgp": (keys, home)}
    stop_agent(home)


@pytest.mark.parametrize("method", ["smime", "openpgp"])
def test_no_file_in_the_data_folder_holds_an_answer_before_or_after_delivery(tmp_path, hub_keys, method, caplog):
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    setting = {"smime": "HUB_SMIME_CERTIFICATES", "openpgp": "HUB_OPENPGP_KEYS"}[method]
    app = create_app({"TESTING": True, "SITE_DIR": str(tmp_path / "no-site"), "DATA_DIR": str(data),
                      "MIN_FILL_SECONDS": 0, "HUB_ENCRYPTION": method, setting: str(hub_keys[method][0]),
                      "MAIL_FROM": "enquiries@rj.example", "HUB_INBOX": "hub@hub.example"})
    browser = FormBrowser(app.test_client())
    assert browser.send(**ANSWERS).status_code == 303
    browser.follow()
    reference = browser.reference()

    # Stored, not yet sent: the database, its WAL and anything else hold only sealed bytes.
    assert get_outbox(app).stats()["backlog"] == 1
    assert readable_answers(data) == []
    # Logging goes nowhere near the answers either.
    assert not any(secret in record.getMessage() for record in caplog.records for secret in SECRETS)

    assert run(app, once=True, interval=0)["delivered"] == 1
    [delivered] = list((data / "maildir" / "new").iterdir())
    assert readable_answers(data) == []  # the Maildir copy too: it is the sealed message

    sealed = delivered.read_bytes().replace(b"\n", b"\r\n")
    if method == "smime":
        inner = smime_decrypt(sealed, *hub_keys["smime"])
    else:
        inner = pgp_mime_decrypt(sealed, hub_keys["openpgp"][1])
    text = hub_text(inner)
    assert text.startswith(f"Restorative justice enquiry {reference}\n")
    # Exactly what the hub got before sealing: the same body for the same enquiry.
    received = text.split("\n")[1]
    expected = build_body(AcceptedEnquiry(reference=reference, message_id="-", created_at=0,
                                  answers={**ANSWERS, "message": ANSWERS["message"].replace("\r\n", "\n")}))
    expected = expected.replace(expected.split("\n")[1], received, 1)
    assert text == expected


def test_with_sealing_off_the_answers_are_readable_on_disk_so_the_check_can_fail(tmp_path):
    data = tmp_path / "data"
    app = create_app({"TESTING": True, "SITE_DIR": str(tmp_path / "no-site"), "DATA_DIR": str(data),
                      "MIN_FILL_SECONDS": 0, "HUB_ENCRYPTION": "none"})
    assert FormBrowser(app.test_client()).send(**ANSWERS).status_code == 303
    assert readable_answers(data)


def test_production_without_hub_encryption_refuses_to_start(tmp_path):
    from formsvc.seal import SealingConfigError

    with pytest.raises(SealingConfigError, match="FORMSVC_HUB_ENCRYPTION"):
        create_app({"ENV": "production", "SECRET_KEY": "x" * 64, "DATA_DIR": str(tmp_path)})


def test_a_bad_key_file_stops_the_start_naming_it(tmp_path):
    from formsvc.seal import SealingConfigError

    bad = tmp_path / "hub.pem"
    bad.write_text("not a certificate")
    with pytest.raises(SealingConfigError, match="hub.pem"):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "HUB_ENCRYPTION": "smime",
                    "HUB_SMIME_CERTIFICATES": str(bad)})


@pytest.fixture(scope="module")
def service_keys(tmp_path_factory, hub_keys):
    """The service's own signing keys for its address; the hub's GnuPG home knows the public one."""
    folder = tmp_path_factory.mktemp("service-keys")
    cert, private = smime_certificate(folder / "smime", "enquiries", key_usage="digitalSignature",
                                      email="enquiries@rj.example")
    secret = folder / "service.asc"
    fingerprint = openpgp_signing_key(folder / "gnupg", secret, known_to=(hub_keys["openpgp"][1],))
    return {"smime": {"SIGNING_SMIME_CERTIFICATE": str(cert), "SIGNING_SMIME_KEY": str(private)},
            "openpgp": {"SIGNING_OPENPGP_KEY": str(secret)},
            "files": {"smime": private, "openpgp": secret}, "cert": cert, "fingerprint": fingerprint}


@pytest.mark.parametrize("method", ["smime", "openpgp"])
def test_with_a_signing_key_the_hub_gets_an_enquiry_signed_by_the_service(tmp_path, hub_keys, service_keys, method,
                                                                         caplog):
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    setting = {"smime": "HUB_SMIME_CERTIFICATES", "openpgp": "HUB_OPENPGP_KEYS"}[method]
    app = create_app({"TESTING": True, "SITE_DIR": str(tmp_path / "no-site"), "DATA_DIR": str(data),
                      "MIN_FILL_SECONDS": 0, "HUB_ENCRYPTION": method, setting: str(hub_keys[method][0]),
                      "MAIL_FROM": "enquiries@rj.example", "HUB_INBOX": "hub@hub.example", **service_keys[method]})
    sealing = app.test_client().get("/healthz").get_json()["sealing"]
    assert (sealing["signed"], sealing["warnings"]) == (True, [])
    browser = FormBrowser(app.test_client())
    assert browser.send(**ANSWERS).status_code == 303
    browser.follow()
    reference = browser.reference()
    assert run(app, once=True, interval=0)["delivered"] == 1
    [delivered] = list((data / "maildir" / "new").iterdir())
    assert readable_answers(data) == []

    sealed = delivered.read_bytes().replace(b"\n", b"\r\n")
    if method == "smime":
        inner = smime_verify(smime_decrypt(sealed, *hub_keys["smime"]), service_keys["cert"])
    else:
        code, inner, status = gpg_status(hub_keys["openpgp"][1], "--decrypt", stdin=pgp_mime_data(sealed))
        assert code == 0 and "GOODSIG" in status, status
        assert status["VALIDSIG"][0].split()[-1] == service_keys["fingerprint"]
    assert hub_text(inner).startswith(f"Restorative justice enquiry {reference}\n")
    # The private key is in no log line and no file the service wrote.
    material = [line for line in service_keys["files"][method].read_bytes().splitlines()
                if len(line) >= 16 and not line.startswith(b"-----")]
    assert material
    assert not any(line.decode() in record.getMessage() for line in material for record in caplog.records)
    assert not any(line in path.read_bytes() for line in material for path in data.rglob("*") if path.is_file())


def test_a_bad_signing_key_stops_the_start_naming_it(tmp_path, hub_keys):
    from formsvc.seal import SealingConfigError

    bad = tmp_path / "service-key.pem"
    bad.write_text("not a key")
    with pytest.raises(SealingConfigError, match=f"^{bad}: holds no PEM private key"):
        create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "HUB_ENCRYPTION": "smime",
                    "HUB_SMIME_CERTIFICATES": str(hub_keys["smime"][0]),
                    "SIGNING_SMIME_CERTIFICATE": str(hub_keys["smime"][0]), "SIGNING_SMIME_KEY": str(bad)})
