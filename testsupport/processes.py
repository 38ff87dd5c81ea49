"""Real processes for the benchmarks and the fault tests, each killable hard.

- ``Gunicorn``: the production server command (``gunicorn -c deploy/gunicorn.conf.py
  'formsvc:create_app()'``) in its own process group, so SIGKILL takes the master and its
  workers at once;
- ``Nginx``: nginx with the production site files (deploy/nginx/) in front of gunicorns;
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
import shutil
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
#: gunicorn's production settings (sync workers, loopback, request limits), README "Deploying".
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
#: nginx's production files: one for `http { }`, one for the service's `server { }`.
NGINX_DIR = ROOT / "deploy" / "nginx"


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
    """``gunicorn -c deploy/gunicorn.conf.py --workers N --bind 127.0.0.1:PORT 'formsvc:create_app()'``
    as in docs/deploying.md (``workers=None``: the production file's number). ``config=None`` runs gunicorn
    with its own defaults and no file, as before deploy/gunicorn.conf.py."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int | None = 2, port: int | None = None,
                 extra: tuple[str, ...] = (), preexec_fn=None, config: Path | None = GUNICORN_CONFIG):
        self.port = port or free_port()
        self.workers = workers if workers is not None else _configured_workers(config)
        args = [PYTHON, "-m", "gunicorn", *(["-c", str(config)] if config else []),
                "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
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


def _configured_workers(config: Path | None) -> int:
    """The number of workers a gunicorn settings file asks for (gunicorn's default, 1, without one)."""
    if config is None:
        return 1
    settings: dict = {}
    exec(compile(config.read_text(), str(config), "exec"), settings)  # as gunicorn reads it
    return int(settings.get("workers", 1))


def nginx_program() -> str:
    """Debian's nginx (in /usr/sbin, which a user's PATH may leave out)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise RuntimeError("nginx is not installed: run `make system-packages` (Debian's nginx).")
    return found


class Nginx(Process):
    """nginx in front of gunicorn, as README "Deploying" sets it up: deploy/nginx/'s two files as they
    are, in a site like deploy/nginx/example-site.conf (plain HTTP on 127.0.0.1 here, without TLS),
    passing requests to ``upstreams`` (gunicorn ports) in turn. Everything of its own (its settings,
    pid, logs, buffered bodies) is in ``folder``; ``port`` is where it listens."""

    def __init__(self, upstreams: list[int], folder: Path, *, port: int | None = None):
        self.port = port or free_port()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "nginx.conf"
        self.config.write_text(self.settings(upstreams))
        super().__init__([nginx_program(), "-p", str(folder), "-c", str(self.config), "-e", str(folder / "error.log")],
                         dict(os.environ), folder / "nginx.log")

    def settings(self, upstreams: list[int]) -> str:
        temp = {name: self.folder / "temp" / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir(parents=True, exist_ok=True)
        # As root nginx would hand its workers to "nobody", who cannot write in this test's folder.
        user = "user root;\n" if os.geteuid() == 0 else ""
        servers = "".join(f"        server 127.0.0.1:{port};\n" for port in upstreams)
        temps = "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items())
        return (f"daemon off;\n{user}worker_processes 1;\npid {self.folder / 'nginx.pid'};\n"
                f"error_log {self.folder / 'error.log'} info;\n"
                "events {\n    worker_connections 1024;\n}\n"
                "http {\n"
                f"{temps}"
                f"    access_log {self.folder / 'access.log'};\n"
                f"    include {NGINX_DIR / 'formsvc-http.conf'};\n"
                f"    upstream formsvc_gunicorn {{\n{servers}    }}\n"
                "    server {\n"
                f"        listen 127.0.0.1:{self.port};\n"
                f"        include {NGINX_DIR / 'formsvc-server.conf'};\n"
                "    }\n"
                "}\n")

    def start(self, timeout: float = 15):
        super().start()
        wait_for(self._listening, timeout, "nginx to listen")
        return self

    def _listening(self) -> bool:
        if not self.running():
            raise RuntimeError("nginx exited:\n" + self.output()[-3000:] + self.error_log()[-3000:])
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


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
