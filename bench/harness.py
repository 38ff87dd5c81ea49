"""Real processes for the benchmarks and the fault tests.

Everything here starts the real thing on 127.0.0.1 and can kill it hard:

- ``Gunicorn``: the production server command (``gunicorn 'formsvc:create_app()'``)
  in its own process group, so SIGKILL takes the master and its workers at once;
- ``DeliveryWorker``: ``flask --app formsvc deliver``;
- ``Redis``: ``redis-server --port N --save ''`` (Debian's package);
- ``SMTPSink``: aiosmtpd in a process of its own, counting what it accepts;
- ``SilentSMTP``: accepts connections and never says a word;
- ``FormClient``: one person's browser, as far as the form is concerned: it reads
  the form page, keeps its cookie and hidden tokens, and posts them back.

Used by ``bench/*.py`` and by ``tests/test_faults.py`` (so the benchmarks' tooling
is itself tested in CI).
"""
from __future__ import annotations

import html
import http.client
import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    end = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def netlify_signature(secret: str, lifetime: int = 300) -> str:
    """An X-Nf-Sign value as Netlify's signed proxy makes it (HS256, iss netlify, exp)."""
    import jwt

    claims = {"deploy_context": "production", "netlify_id": "bench", "site_url": "https://rj.example.org",
              "iss": "netlify", "exp": int(time.time()) + lifetime}
    return jwt.encode(claims, secret, algorithm="HS256")


def service_env(data_dir: Path, **settings) -> dict[str, str]:
    """The environment of a production-like service: ENV=production, a real random secret.

    ``settings`` are FORMSVC_ settings without the prefix (``SMTP_PORT=2525``).
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
    """``gunicorn --workers N --bind 127.0.0.1:PORT 'formsvc:create_app()'`` as in the README."""

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


# ---------------------------------------------------------------- SMTP servers

SINK_CODE = r"""
import sys, threading
from aiosmtpd.controller import Controller

class Counter:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Counter.count += 1
        return "250 OK"

controller = Controller(Counter(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
for line in sys.stdin:  # "count" -> the number accepted so far
    print(Counter.count, flush=True)
controller.stop()
"""


class SMTPSink:
    """aiosmtpd in its own process (so it never competes with the client for the GIL)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.popen = subprocess.Popen([PYTHON, "-c", SINK_CODE, str(self.port)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.popen.stdout.readline().strip() == "ready"

    def count(self) -> int:
        self.popen.stdin.write("count\n")
        self.popen.stdin.flush()
        return int(self.popen.stdout.readline())

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.stdin.close()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.popen.stdout.close()


class SilentSMTP:
    """Accepts TCP connections and never answers: no greeting, no replies, no close."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(64)
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.connections.append(conn)  # held open, never read, never written

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        for conn in self.connections:
            conn.close()
        self.sock.close()


# ---------------------------------------------------------------- one person's browser

_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')
_REFERENCE = re.compile(r'class="fs-panel__reference">([^<]+)<')


class FormClient:
    """A browser for the enquiry form over plain HTTP/1.1 (http.client).

    ``headers`` go with every request (e.g. what Netlify's proxy adds); ``signing_secret``
    adds a fresh X-Nf-Sign. Cookies are kept by name (their Secure flag is ignored:
    behind Netlify the browser's side is HTTPS).
    """

    def __init__(self, port: int, *, headers: dict[str, str] | None = None, signing_secret: str | None = None,
                 timeout: float = 30):
        self.port, self.timeout = port, timeout
        self.headers = dict(headers or {})
        self.signing_secret = signing_secret
        self._signature: tuple[float, str] | None = None
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self._reused = False

    def _sign(self) -> dict[str, str]:
        if not self.signing_secret:
            return {}
        now = time.time()
        if self._signature is None or now - self._signature[0] > 60:
            self._signature = (now, netlify_signature(self.signing_secret))
        return {"X-Nf-Sign": self._signature[1]}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        all_headers = {**self.headers, **self._sign(), **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=all_headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had already closed: once more on a fresh one
                # (only when reusing; a fresh connection failing is a real failure).
                reused = attempt == 1 and self._reused
                self.close()
                if not reused:
                    raise
                continue
            except BaseException:
                self.close()
                raise
            self._reused = not response.will_close
            if response.will_close:
                self.close()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, val = cookie.partition("=")
                    if val and "max-age=0" not in value.lower() and "1970" not in value:
                        self.cookies[key.strip()] = val
                    else:
                        self.cookies.pop(key.strip(), None)
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self._reused = False

    # -- the form ------------------------------------------------------------------------

    def get_form(self) -> dict[str, str]:
        """Open the form page; return its hidden fields (csrf_token, form_token)."""
        status, _, body = self.request("GET", "/enquiry/")
        if status != 200:
            raise AssertionError(f"GET /enquiry/ answered {status}")
        return {name: html.unescape(value) for name, value in _HIDDEN.findall(body.decode())}

    def post_form(self, hidden: dict[str, str], answers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        fields = {**hidden, **answers, "website": ""}
        body = urllib.parse.urlencode(fields).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.headers.get("X-Forwarded-Proto") == "https":
            # A browser on HTTPS sends a same-origin Referer (Referrer-Policy: same-origin),
            # which Flask-WTF's CSRF check requires there.
            headers["Referer"] = f"https://127.0.0.1:{self.port}/enquiry/"
        return self.request("POST", "/enquiry/", body=body, headers=headers)

    def confirmation(self) -> str | None:
        """The reference on the confirmation page, if it shows one."""
        status, _, body = self.request("GET", "/enquiry/sent")
        if status != 200:
            return None
        found = _REFERENCE.search(body.decode())
        return found.group(1).strip() if found else None


def answers(n: int = 0) -> dict[str, str]:
    """Valid answers, different each time (the message names ``n``)."""
    return {
        "name": "Siân",
        "contact_method": "phone",
        "email": "",
        "phone": "07700 900 982",
        "leave_message": "no",
        "say_who_we_are": "no",
        "call_times": "Weekday mornings before 10am",
        "crime_reference": "CR/0042/25",
        "relationship": "harmed",
        "message": f"Enquiry number {n}.\r\nI would like to know more about meeting him.\r\nNot sure yet.",
    }


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[index]
