"""A production-like stack on this machine: what `make run-cluster` starts.

    python -m localrun.cluster [--port 8080]

- a throwaway PostgreSQL (testsupport/postgres.py), the outbox shared by everyone;
- a Redis, the rate limits shared by the web instances;
- two gunicorn instances of the service, each with its own data folder, as two
  machines with throwaway disks would have;
- a small local proxy in front of them, taking turns and skipping an instance that
  is down (in production: Netlify's proxy, or the platform's load balancer);
- two delivery workers (``flask --app formsvc deliver``);
- an SMTP sink that writes every message it accepts into a Maildir;

and prints where the form is and where the mail lands. Ctrl-C (or SIGTERM) stops
everything and deletes the throwaway database.

It is the topology docs/deploying.md describes, with throwaway parts
in place of the managed ones; the processes are started as the fault tests start
them (testsupport.processes), so what an operator sees here is what is tested.
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import mailbox
import shutil
import signal
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from testsupport.keys import smime_certificate
from testsupport.net import free_port
from testsupport.postgres import PostgresCluster
from testsupport.processes import DeliveryWorker, Gunicorn, Redis, service_env

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade"}


class RoundRobinProxy:
    """HTTP/1.1 reverse proxy on 127.0.0.1: each request to the next backend that answers.

    Adds X-Forwarded-For (the service trusts one hop: PROXY_HOPS=1). A backend that
    refuses the connection is skipped for that request, so stopping one instance
    shows the other taking over.
    """

    def __init__(self, port: int, backends: list[int]):
        self.port, self.backends = port, backends
        turns = itertools.cycle(range(len(backends)))
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["X-Forwarded-For"] = self.client_address[0]
                with lock:
                    first = next(turns)
                for i in range(len(owner.backends)):
                    port = owner.backends[(first + i) % len(owner.backends)]
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    try:
                        conn.request(self.command, self.path, body=body, headers=headers)
                        response = conn.getresponse()
                        data = response.read()
                    except ConnectionRefusedError:
                        continue  # that instance is down: the next one
                    finally:
                        conn.close()
                    self.send_response(response.status)
                    for name, value in response.getheaders():
                        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_error(502, "no instance is answering")

            do_GET = do_POST = do_HEAD = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> RoundRobinProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MaildirSink:
    """aiosmtpd accepting everything and filing it in a Maildir, as the hub's inbox."""

    def __init__(self, folder: Path, port: int | None = None):
        from aiosmtpd.controller import Controller

        self.folder, self.port = folder, port or free_port()
        box = mailbox.Maildir(folder, create=True)

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                box.add(envelope.original_content)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> MaildirSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="where the proxy listens (0: any free port)")
    args = parser.parse_args(argv)
    port = args.port or free_port()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # stopped by a supervisor (or a test): clean up as for Ctrl-C
    base = Path(tempfile.mkdtemp(prefix="formsvc-cluster-"))
    started: list = []
    clean = False
    try:
        pg = PostgresCluster().start()
        started.append(pg)
        database_url = pg.create_database("formsvc")
        redis = Redis(base / "redis.log").start()
        started.append(redis)
        sink = MaildirSink(base / "hub-inbox").start()
        started.append(sink)
        # Sealed as in production, to a throwaway hub certificate made here; its private key
        # (printed below) opens what lands in the sink.
        hub_cert, hub_key = smime_certificate(base / "hub-keys")
        shared = {"DATABASE_URL": database_url, "RATELIMIT_STORAGE_URI": redis.url, "SMTP_PORT": str(sink.port),
                  "PROXY_HOPS": "1", "DELIVER_INTERVAL_SECONDS": "1",
                  "HUB_ENCRYPTION": "smime", "HUB_SMIME_CERTIFICATES": str(hub_cert)}
        # One secret for all instances: a form opened through one is sent through another.
        env_of = {}
        secret = service_env(base)["FORMSVC_SECRET_KEY"]
        for name in ("web-1", "web-2", "worker-1", "worker-2"):
            env_of[name] = {**service_env(base / name, **shared), "FORMSVC_SECRET_KEY": secret}
        webs = [Gunicorn(env_of[name], base / f"{name}.log", workers=2).start() for name in ("web-1", "web-2")]
        started += webs
        workers = [DeliveryWorker(env_of[name], base / f"{name}.log", interval=1).start()
                   for name in ("worker-1", "worker-2")]
        started += workers
        proxy = RoundRobinProxy(port, [web.port for web in webs]).start()
        started.append(proxy)

        print(f"\n  Form (through the proxy): http://127.0.0.1:{port}/enquiry/")
        print(f"  Web instances:            {', '.join(f'http://127.0.0.1:{w.port}/' for w in webs)}")
        print(f"  Outbox:                   {database_url}")
        print(f"  Rate limits:              {redis.url}")
        print(f"  Mail lands in:            {sink.folder / 'new'} (SMTP sink on 127.0.0.1:{sink.port})")
        print(f"  Sealed to:                {hub_cert} (open one with: openssl cms -decrypt -inkey {hub_key}"
              f" -recip {hub_cert} < FILE)")
        print(f"  Logs:                     {base}/*.log\n  Ctrl-C stops everything.\n", flush=True)
        while all(p.running() for p in webs + workers):
            time.sleep(1)
        print("a process stopped; see the logs", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        clean = True
        return 0
    finally:
        for part in reversed(started):
            if isinstance(part, PostgresCluster):
                part.destroy()
            else:
                part.stop()
        if clean:  # throwaway; kept when something failed, for its logs
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
