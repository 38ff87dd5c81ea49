"""``make run-cluster`` (localrun/cluster.py): the production-like stack starts, each web instance
nginx in front of gunicorn, and a form sent through its proxy lands in its SMTP sink's Maildir,
delivered from the shared PostgreSQL."""
from __future__ import annotations

import email
import email.policy
import http.client
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from testsupport.answers import valid_answers
from testsupport.forms import FormClient
from testsupport.hubmail import hub_text
from testsupport.keys import smime_decrypt
from testsupport.net import wait_for


def test_the_cluster_starts_and_a_form_sent_through_the_proxy_arrives_in_the_sink(run_python):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSVC_")}
    cluster = run_python.start("-m", "localrun.cluster", "--port", "0", env=env, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        printed = ""
        deadline = time.monotonic() + 180
        while "Ctrl-C" not in printed:
            line = cluster.stdout.readline()
            assert line and time.monotonic() < deadline, "the cluster did not start:\n" + printed
            printed += line
        port = int(re.search(r"Form \(through the proxy\): http://127\.0\.0\.1:(\d+)/enquiry/", printed).group(1))
        maildir = Path(re.search(r"Mail lands in: +(\S+)", printed).group(1))
        key, cert = re.search(r"-inkey (\S+) -recip (\S+)", printed).groups()
        instances = re.search(r"Web instances: +http://127\.0\.0\.1:(\d+)/, http://127\.0\.0\.1:(\d+)/ \(nginx",
                              printed)
        assert instances
        for instance in instances.groups():  # nginx answers, gunicorn behind it (deploy/)
            conn = http.client.HTTPConnection("127.0.0.1", int(instance), timeout=10)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            assert (response.status, response.getheader("Server")) == (200, "nginx"), instance
            assert response.getheader("X-Content-Type-Options") == "nosniff"  # the app's own, once
            response.read()
            conn.close()
        assert "Outbox:" in printed and "postgresql://" in printed

        browser = FormClient(port)
        hidden = browser.get_form()
        time.sleep(3.2)  # production's MIN_FILL_SECONDS: a person takes longer than that
        answers = valid_answers(message="Sent through the cluster's proxy.")
        status, _, body = browser.post_form(hidden, answers)
        assert status == 303, body[:500]
        reference = browser.confirmation()
        browser.close()
        assert reference

        def arrived():
            for path in maildir.glob("*"):
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if message["Subject"].endswith(reference):  # the Subject stays outside the seal
                    return path
            return None

        arrival = wait_for(arrived, 60, "the enquiry to land in the sink's Maildir")
        # Sealed: nothing readable in the sink until the hub's key opens it (openssl, as a mail client).
        sealed = arrival.read_bytes()
        assert b"Sent through the cluster" not in sealed
        inner = smime_decrypt(sealed.replace(b"\n", b"\r\n"), Path(cert), Path(key))
        assert "Sent through the cluster" in hub_text(inner)
    finally:
        cluster.send_signal(signal.SIGTERM)
        try:
            cluster.wait(60)
        finally:
            if cluster.poll() is None:
                os.killpg(cluster.pid, signal.SIGKILL)
                cluster.wait()
            # Closed even when the test failed above: a pipe left to the garbage collector
            # would fail a later test with a ResourceWarning.
            output = cluster.stdout.read()
            cluster.stdout.close()
    assert cluster.returncode == 0, output
