"""Support shared by the tests (tests/) and the benchmarks (bench/).

- ``net``: free ports, waiting for a condition, a WSGI app on a real HTTP server;
- ``processes``: gunicorn, the delivery worker and redis-server as real processes;
- ``smtp``: real SMTP servers (aiosmtpd in a thread or a process, and one that never answers);
- ``answers``: answers as a person types them into the form;
- ``forms``: a browser for the form (Flask's test client, or plain HTTP to a real server);
- ``site``: building the site, its pages, an exit destination, axe-core in Chromium.

Fixtures stay in tests/conftest.py; what they are built from lives here.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
