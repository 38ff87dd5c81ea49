"""Bad input, generated (Hypothesis): the form never breaks, and mail carries exactly what was typed.

Properties, for every POST field and for raw request bodies (unicode, control
characters, CR/LF, NUL, very long values, wrong content types, repeated and missing
fields):

- the service never answers 500 (an unhandled error would also fail the test: the
  app runs with TESTING, so exceptions propagate), and every answer has its headers;
- an enquiry that is stored reaches a real SMTP server (aiosmtpd over TCP), with no
  header but ours: nothing typed can add or change one;
- the message arrives exactly as typed after the "| " that marks each of its lines, once
  line endings are normalised (CR LF, CR, and the Unicode line and paragraph separators
  all become a new line), the blank space around it is trimmed, and bidirectional
  controls are written out ("[U+202E]");
- Reply-To is the hub's inbox, and the one reply link is to exactly the address typed.

Example counts are kept moderate so CI stays quick; raise them locally with
``HYPOTHESIS_PROFILE=thorough``.
"""
from __future__ import annotations

import email
import email.policy
import encodings
import encodings.aliases
import os
import pkgutil
import re
import urllib.parse

import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from formsvc import create_app
from formsvc.forms import CALL_TIMES_MAX, CRIME_REFERENCE_MAX, EMAIL_MAX, NAME_MAX, PHONE_MAX
from formsvc.outbox import get_outbox
from formsvc.transport import SMTPTransport
from formsvc.worker import DeliverySettings, deliver_due
from testsupport.answers import valid_answers
from testsupport.hubmail import check_where_replies_go, their_message
from testsupport.keys import smime_decrypt
from testsupport.processes import hub_certificate
from testsupport.smtp import SMTPServer

settings.register_profile("ci", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# `make test-fast` asks for "fast": the same properties, fewer examples, so the tier answers in a minute.
settings.register_profile("fast", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")

ANSWER_FIELDS = ["name", "contact_method", "email", "email_say_who_we_are", "email_private", "email_notes", "phone",
                 "leave_message", "say_who_we_are", "call_times",
                 "crime_reference", "relationship", "message"]
ALL_FIELDS = ANSWER_FIELDS + ["csrf_token", "form_token", "website"]
OUR_HEADERS = {"subject", "from", "to", "reply-to", "date", "message-id", "auto-submitted",
               "x-auto-response-suppress", "content-type", "content-transfer-encoding", "mime-version"}
MAIL_FROM, HUB = "enquiries@rj.example", "hub@hub.example"

# Text as nasty as it gets: every code point (surrogates cannot be sent), with extra
# weight on what breaks mail: CR, LF, NUL, other controls, Unicode line separators,
# bidi overrides, header-like and SMTP-like lines.
NASTY = ["\r\n", "\n", "\r", "\x00", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u202e",
         "\ufeff", "\t", " ", ".", "\r\n.\r\n", "\r\nBcc: victim@example.org", "\nSubject: hacked",
         "=?utf-8?q?=0D=0ABcc:_x@y.z?=", "From ", "--", "=", "%0d%0a", "\u00e9", "Siân", "محمد", "😀",
         "<script>alert(1)</script>", "a" * 45, " <attacker@evil.example> (x", ", ", '"', "(", ")"]
nasty_text = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(NASTY)), max_size=12).map("".join)
field_value = st.one_of(nasty_text, st.text(), st.sampled_from(["email", "phone", "yes", "no", "harmed", "on_behalf",
                                                                "a@b.co", "07700 900 982", ""]))


@pytest.fixture(scope="module")
def mail_server():
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory, mail_server):
    base = tmp_path_factory.mktemp("fuzz")
    return create_app({
        "TESTING": True,
        "SITE_DIR": str(base / "no-site"),
        "DATA_DIR": str(base / "data"),
        "MIN_FILL_SECONDS": 0,
        # Rate limits are tested elsewhere; here they would only stop the fuzzing early.
        "RATELIMIT_ENABLED": False,
        "SMTP_HOST": mail_server.host, "SMTP_PORT": mail_server.port, "SMTP_SECURITY": "none",
        "MAIL_FROM": MAIL_FROM, "HUB_INBOX": HUB,
        # Sealed, as in production: what arrives is opened with openssl, as the hub's mail client would.
        "HUB_ENCRYPTION": "smime", "HUB_SMIME_CERTIFICATES": str(hub_certificate()[0]),
    })


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    """Its own outbox: what the never-a-500 tests store is never mixed with the mail test's."""
    base = tmp_path_factory.mktemp("fuzz-posts")
    return create_app({"TESTING": True, "SITE_DIR": str(base / "no-site"), "DATA_DIR": str(base / "data"),
                       "MIN_FILL_SECONDS": 0, "RATELIMIT_ENABLED": False})


def fresh_form(client) -> dict[str, str]:
    page = client.get("/enquiry/").get_data(as_text=True)
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page))


def assert_served_safely(response) -> None:
    assert response.status_code in {200, 303, 400, 413}, response.status_code
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    if response.status_code != 303:
        assert "<html" in response.get_data(as_text=True)


# ---------------------------------------------------------------- every field

@settings(settings.get_profile(PROFILE))
@given(
    fields=st.dictionaries(st.sampled_from(ALL_FIELDS + ["unknown", "message[]", ""]),
                           st.one_of(field_value, st.lists(field_value, min_size=2, max_size=3),
                                     st.integers(1_000, 70_000).map(lambda n: "x" * n)),
                           max_size=14),
    keep_tokens=st.sampled_from([True, True, True, False]),
    multipart=st.booleans(),
    missing=st.lists(st.sampled_from(ALL_FIELDS), max_size=4),
)
def test_no_post_ever_gets_a_500(fuzz_app, fields, keep_tokens, multipart, missing):
    client = fuzz_app.test_client()
    # A good post (or one without its tokens), then any field changed, repeated or added.
    data = {**(fresh_form(client) if keep_tokens else {}), **valid_answers()}
    data.update(fields)
    for name in missing:
        data.pop(name, None)
    response = client.post("/enquiry/", data=data,
                           content_type="multipart/form-data" if multipart else None)
    event(f"answered {response.status_code}")
    assert_served_safely(response)


@settings(settings.get_profile(PROFILE))
@given(
    body=st.one_of(st.binary(max_size=3000), nasty_text.map(lambda t: t.encode("utf-8", "surrogatepass"))),
    content_type=st.sampled_from([None, "application/x-www-form-urlencoded", "multipart/form-data",
                                  "multipart/form-data; boundary=xyz", "multipart/form-data; boundary=",
                                  "application/json", "text/plain", "text/html; charset=latin-1",
                                  "application/x-www-form-urlencoded; charset=utf-16", "image/png", "*/*",
                                  "application/x-www-form-urlencoded; charset=undefined",
                                  "application/x-www-form-urlencoded; charset=idna",
                                  "application/x-www-form-urlencoded; charset=punycode",
                                  "application/octet-stream", "\x00", "x" * 300]),
    with_tokens=st.booleans(),
)
def test_raw_bodies_never_get_a_500(fuzz_app, body, content_type, with_tokens):
    client = fuzz_app.test_client()
    if with_tokens:  # get past the CSRF check, so the junk reaches the form itself
        body = urllib.parse.urlencode(fresh_form(client)).encode() + b"&" + body
    headers = {"Content-Type": content_type} if content_type is not None else {}
    response = client.post("/enquiry/", data=body, headers=headers)
    event(f"answered {response.status_code}")
    assert_served_safely(response)


@settings(settings.get_profile(PROFILE))
@given(
    first=st.sampled_from(["enquiry", "healthz", "enquiry/static", "x"]),
    rest=st.lists(st.sampled_from(["", "static", "sent", "exit", "enquiry.css", "enquiry.js", "healthz", "..", ".",
                                   "%2F", "%5C", "\\", "evil.example", "x"]), max_size=5).map("/".join),
    query=st.sampled_from(["", "?x=1", "?next=//evil.example", "?%2F%2Fevil.example"]),
    host=st.one_of(st.sampled_from(["evil.example", "evil.example:8443", "[::1]", "localhost"]),
                   st.text(st.sampled_from("abcxyz019.-:[]"), min_size=1, max_size=30)),
    method=st.sampled_from(["GET", "HEAD", "POST", "OPTIONS"]),
)
@example(first="enquiry", rest="", query="", host="evil.example", method="GET")
@example(first="enquiry/static", rest="/x", query="", host="evil.example", method="GET")
def test_no_response_sends_a_browser_to_the_host_a_request_named(fuzz_app, first, rest, query, host, method):
    path = "/" + first + ("/" + rest if rest else "") + query
    response = fuzz_app.test_client().open(path, method=method, headers={"Host": host})
    response.close()  # a static file is streamed: closed here, not left to the garbage collector
    event(f"answered {response.status_code}")
    assert response.status_code < 500, (path, response.status_code)
    location = response.headers.get("Location")
    if location is not None and location != fuzz_app.config["EXIT_URL"]:
        # A path on the site the browser asked: never a URL built from the Host header.
        assert location.startswith("/") and not location.startswith(("//", "/\\")), (path, location)
        assert host not in location or host in path, (path, host, location)
    if 300 <= response.status_code < 400:
        assert response.headers["Cache-Control"] == "no-store", path


# Every name Python has for a codec (a client can send any of them), and names it has not.
CODEC_NAMES = sorted(set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
                     | {module.name for module in pkgutil.iter_modules(encodings.__path__)})


@settings(settings.get_profile(PROFILE))
@given(
    charset=st.one_of(st.sampled_from(CODEC_NAMES), st.text(st.characters(min_codepoint=33, max_codepoint=126,
                                                                          exclude_characters='";,\\'), max_size=40)),
    typed=nasty_text,
    encoding=st.sampled_from(["utf-8", "ascii", "latin-1"]),
)
@example(charset="undefined", typed="Hello", encoding="utf-8")
@example(charset="punycode", typed="Hello", encoding="utf-8")
@example(charset="idna", typed="Hello", encoding="utf-8")
def test_any_character_set_a_client_names_is_read_or_refused_clearly(fuzz_app, charset, typed, encoding):
    client = fuzz_app.test_client()
    fields = {**fresh_form(client), **valid_answers(name=typed[:100], message=typed or "Hello")}
    body = urllib.parse.urlencode(fields, encoding=encoding, errors="replace").encode("ascii")
    response = client.post("/enquiry/", data=body,
                           headers={"Content-Type": f"application/x-www-form-urlencoded; charset={charset}"})
    event(f"answered {response.status_code}")
    assert_served_safely(response)
    if response.status_code == 400:
        assert "Sorry, we could not read your answers" in response.get_data(as_text=True)


# ---------------------------------------------------------------- through to the hub's inbox

def normalised(typed: str) -> str:
    """What the hub must see for what was typed: line endings made one (CR LF, CR, and
    the Unicode line and paragraph separators), the blank space around it trimmed, and
    control characters (which no keyboard types) left out."""
    text = re.sub("\r\n|[\r\u2028\u2029\x0b\x0c\x85]", "\n", typed)
    text = "".join(ch for ch in text if ch in "\n\t" or not (ord(ch) < 32 or 0x7f <= ord(ch) <= 0x9f))
    text = text.strip()
    return re.sub("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", lambda m: f"[U+{ord(m.group()):04X}]", text)


def deliver(app, server) -> list:
    before = len(server.inbox.envelopes)
    transport = SMTPTransport(server.host, server.port, security="none", timeout=10)
    counts = deliver_due(get_outbox(app), transport, DeliverySettings(mail_from=MAIL_FROM, hub_inbox=HUB))
    assert counts["delivered"] == counts["claimed"], counts  # nothing stuck: every stored one is sent
    return server.inbox.envelopes[before:]


def header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers are ASCII: anything else is a fault
    names = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            continue  # a folded continuation of the header above
        name, sep, _ = line.partition(":")
        assert sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", name), line
        names.append(name.lower())
    return names


typed_message = st.lists(st.one_of(st.text(min_size=1, max_size=40), st.sampled_from(NASTY)),
                         min_size=1, max_size=30).map("".join)


@settings(settings.get_profile(PROFILE))
@given(
    message=typed_message,
    name=nasty_text,
    call_times=nasty_text,
    crime_reference=nasty_text,
    method=st.sampled_from(["email", "phone"]),
    email_address=st.one_of(st.just("sian@example.org"), st.emails().map(str), nasty_text),
    crlf=st.booleans(),
)
# What fuzzing found, kept as fixed examples: a name that is an encoded word became a
# Bcc line in Reply-To; a line starting "From " arrived as ">From ".
@example(message="From what I remember,\nFrom 0 to 10: 8", name="=?utf-8?q?=0D=0ABcc:_x@y.z?=", call_times="",
         crime_reference="", method="email", email_address="sian@example.org", crlf=True)
@example(message=".\n..\n.", name="\u00a1\r0=?utf-8?q?=0D=0ABcc:_x@y.z?=", call_times="\r\nBcc: a@b.c",
         crime_reference="\x00", method="email", email_address="sian@example.org", crlf=False)
# Outside testing: a name long enough to fold lost its quotes, and the Reply-To became the
# address inside it (CPython gh-80222), when names went into Reply-To.
@example(message="Hello", name="a" * 45 + " <attacker@evil.example> (x" + "b" * 20, call_times="",
         crime_reference="", method="email", email_address="victim@example.org", crlf=False)
def test_what_is_typed_arrives_exactly_and_adds_no_header(app, mail_server, message, name, call_times,
                                                         crime_reference, method, email_address, crlf):
    if crlf:  # browsers send CR LF for every new line in a text area
        message = re.sub(r"\r?\n", "\r\n", message)
    assume(normalised(message))  # an empty message is asked for again, not sent
    answers = valid_answers(message=message, name=name[:NAME_MAX], call_times=call_times[:CALL_TIMES_MAX],
                            crime_reference=crime_reference[:CRIME_REFERENCE_MAX], contact_method=method,
                            email=email_address[:EMAIL_MAX])
    client = app.test_client()
    response = client.post("/enquiry/", data={**fresh_form(client), **answers})
    assert_served_safely(response)
    event(f"answered {response.status_code}")
    delivered = deliver(app, mail_server)
    if response.status_code != 303:
        assert delivered == []  # shown again with an error: nothing stored, nothing sent
        return
    [envelope] = delivered
    sealed = envelope.original_content
    reference = email.message_from_bytes(sealed, policy=email.policy.default)["Subject"].rpartition(" ")[2]
    # Outside the seal: only our own headers, nothing the person typed; Reply goes to the hub.
    outer = header_names(sealed)
    assert set(outer) <= OUR_HEADERS | {"content-disposition"}, outer
    check_where_replies_go(sealed, mail_from=MAIL_FROM, hub_inbox=HUB, reference=reference, typed=None, body=False)
    assert email.message_from_bytes(sealed, policy=email.policy.default)["Subject"].startswith(
        "Restorative justice enquiry RJ-")
    # Inside: the hub's message, checked as it was before sealing.
    raw = smime_decrypt(sealed, *hub_certificate()).replace(b'; hp="cipher"', b"")

    names = header_names(raw)
    assert len(names) == len(set(names)), names  # nothing repeated
    assert set(names) == OUR_HEADERS, names
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["From"] == MAIL_FROM and mail["To"] == HUB and envelope.rcpt_tos == [HUB]
    assert re.fullmatch(r"Restorative justice enquiry RJ-[0-9A-HJKMNP-TV-Z]{8}", mail["Subject"])
    # Reply-To is the hub, and the one link (for email) is to exactly the address typed.
    check_where_replies_go(raw, mail_from=MAIL_FROM, hub_inbox=HUB, reference=reference,
                           typed=answers["email"].strip() if method == "email" else None)

    body = mail.get_content().replace("\r\n", "\n")
    assert their_message(body) == normalised(message)


def test_the_longest_valid_answers_in_four_byte_characters_are_not_too_large(app):
    # Browsers send the form URL-encoded: a four-byte character becomes twelve bytes.
    # A message at the stated limit, written in emoji, must still fit the body limit.
    wide = "\U0001F600"
    answers = valid_answers(message=wide * app.config["MESSAGE_MAX_CHARS"], name=wide * NAME_MAX,
                            call_times=wide * CALL_TIMES_MAX, crime_reference=wide * CRIME_REFERENCE_MAX,
                            contact_method="email", email="a" * (EMAIL_MAX - 12) + "@example.org",
                            phone="0" * PHONE_MAX)
    client = app.test_client()
    body = urllib.parse.urlencode({**fresh_form(client), **answers, "website": ""}).encode()
    response = client.post("/enquiry/", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code != 413, f"{len(body):,} bytes refused"
    get_outbox(app).claim(limit=1000)  # leave nothing due for the other tests' deliveries
