"""Real processes for the benchmarks and the fault tests, each killable hard.

- ``Gunicorn``: the production server command (``gunicorn 'formsvc:create_app()'``)
  in its own process group, so SIGKILL takes the master and its workers at once;
- ``DeliveryWorker``: ``flask --app formsvc deliver``;
- ``Redis``: ``redis-server --port N --save ''`` (Debian's package).

Used by ``bench/*.py`` and by ``tests/test_faults.py`` (so the benchmarks' tooling
is itself tested in CI).
"""
from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

from . import ROOT
from .net import free_port, wait_for

PYTHON = sys.executable


def netlify_signature(secret: str, lifetime: int = 300) -> str:
    """An X-Nf-Sign value as Netlify's signed proxy makes it (HS256, iss netlify, exp)."""
    import jwt

    claims = {"deploy_context": "production", "netlify_id": "bench", "site_url": "https://rj.example.org",
              "iss": "netlify", "exp": int(time.time()) + lifetime}
    return jwt.encode(claims, secret, algorithm="HS256")


@lru_cache(maxsize=1)
def hub_certificate() -> tuple[Path, Path]:
    """The hub's S/MIME certificate and private key for production-like runs (made once, by openssl)."""
    from .keys import smime_certificate

    return smime_certificate(Path(tempfile.mkdtemp(prefix="formsvc-hub-keys-")))


def service_env(data_dir: Path, **settings) -> dict[str, str]:
    """The environment of a production-like service: ENV=production, a real random secret,
    enquiries sealed to the hub's certificate (``hub_certificate()``; its key decrypts them).

    ``settings`` are FORMSVC_ settings without the prefix (``SMTP_PORT=2525``,
    ``HUB_ENCRYPTION="none"`` to measure without sealing).
    The form uses the built site's shell when site/ has been built, as in production.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMSVC_")}
    env.update({
        "FORMSVC_ENV": "production",
        "FORMSVC_SECRET_KEY": secrets.token_hex(32),
        "FORMSVC_DATA_DIR": str(data_dir),
        "FORMSVC_SITE_DIR": str(ROOT / "site"),
        "FORMSVC_MAIL_FROM": "enquiries@rj.example",
        "FORMSVC_HUB_INBOX": "hub@hub.example",
        "FORMSVC_SMTP_HOST": "127.0.0.1",
        "FORMSVC_SMTP_SECURITY": "none",
        "FORMSVC_HUB_ENCRYPTION": "smime",
        "FORMSVC_HUB_SMIME_CERTIFICATES": str(hub_certificate()[0]),
        "PYTHONUNBUFFERED": "1",
    })
    for key, value in settings.items():
        env["FORMSVC_" + key] = value if isinstance(value, str) else json.dumps(value)
    return env


class Process:
    """A child in its own session (process group): ``kill()`` is SIGKILL to all of it."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, preexec_fn=None):
        self.args, self.env, self.log, self.preexec_fn = args, env, log, preexec_fn
        self.popen: subprocess.Popen | None = None

    def start(self):
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as output:  # the child keeps its own copy
            self.popen = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=output,
                                          stderr=subprocess.STDOUT, start_new_session=True,
                                          preexec_fn=self.preexec_fn)
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group: no clean-up of any kind."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(10)

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM (graceful), then SIGKILL if it takes too long."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill()  # anything left in the group (e.g. orphaned gunicorn workers)
        return self.popen.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _no_control_socket() -> list[str]:
    """Gunicorn 27 opens a control socket at one fixed path in $HOME: several servers at
    once (tests, benchmarks) would take it from each other. We do not use it."""
    import gunicorn

    major = int(gunicorn.__version__.split(".")[0])
    return ["--no-control-socket"] if major >= 27 else []


class Gunicorn(Process):
    """``gunicorn --workers N --bind 127.0.0.1:PORT 'formsvc:create_app()'`` as in docs/deploying.md."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 2, port: int | None = None,
                 extra: tuple[str, ...] = (), preexec_fn=None):
        self.port = port or free_port()
        self.workers = workers
        args = [PYTHON, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
                # The worker's pid on each request: lets the tests see which process answered.
                "--access-logfile", "-", "--access-logformat", 'pid=%(p)s "%(r)s" %(s)s',
                "--graceful-timeout", "5", *_no_control_socket(), *extra, "formsvc:create_app()"]
        super().__init__(args, env, log, preexec_fn)

    def start(self, timeout: float = 30):
        super().start()
        wait_for(lambda: self._ready(), timeout, "gunicorn to answer")
        return self

    def _ready(self) -> bool:
        if not self.running():
            raise RuntimeError("gunicorn exited:\n" + self.output()[-3000:])
        if len(self.worker_pids()) < self.workers:
            return False
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status in (200, 503)
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]


class DeliveryWorker(Process):
    """``flask --app formsvc deliver`` (the mail worker), polling every ``interval`` seconds."""

    def __init__(self, env: dict[str, str], log: Path, *, interval: float = 0.2):
        super().__init__([PYTHON, "-m", "flask", "--app", "formsvc", "deliver", "--interval", str(interval)],
                         env, log)


class Redis(Process):
    def __init__(self, log: Path, port: int | None = None):
        self.port = port or free_port()
        super().__init__(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no"], dict(os.environ), log)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10):
        super().start()
        wait_for(self._pong, timeout, "redis-server to answer PING")
        return self

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False
