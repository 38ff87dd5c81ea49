"""Real SMTP servers over TCP on 127.0.0.1.

- ``SMTPServer``: aiosmtpd in a thread, keeping what it accepts (``inbox``), able to
  refuse (``reply``) or be slow (``delay``);
- ``SMTPSink``: aiosmtpd in a process of its own, counting what it accepts;
- ``SilentSMTP``: accepts connections and never says a word.
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import subprocess
import threading
from collections import defaultdict

from aiosmtpd.controller import Controller

from .net import free_port
from .processes import PYTHON


class SMTPInbox:
    """aiosmtpd handler that keeps what it accepts.

    Set ``reply`` to make it answer "451 ..." or "550 ..." instead of accepting, and
    ``delay`` (seconds) to make it slow. An accepted message is recorded before the
    delay, as a real relay may already have it when the client gives up waiting.
    """

    def __init__(self):
        self.envelopes = []
        self.reply = "250 Message accepted for delivery"
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        if self.reply.startswith("250"):
            self.envelopes.append(envelope)
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.reply

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=email.policy.default) for e in self.envelopes]


def arrivals(server: SMTPServer) -> dict[str, list[str]]:
    """Reference (the Subject's last word) -> the Message-IDs of every copy the hub received."""
    seen: dict[str, list[str]] = defaultdict(list)
    for message in server.inbox.messages:
        seen[message["Subject"].rsplit(" ", 1)[1]].append(message["Message-ID"])
    return seen


class SMTPServer:
    """``options`` go to aiosmtpd's Controller (``ssl_context=``, ``tls_context=``, ...)."""

    def __init__(self, port: int | None = None, **options):
        self.host = "127.0.0.1"
        self.port = port or free_port()  # Controller(port=0) does not work
        self.inbox = SMTPInbox()
        self.controller = Controller(self.inbox, hostname=self.host, port=self.port, **options)

    def start(self) -> "SMTPServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


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
