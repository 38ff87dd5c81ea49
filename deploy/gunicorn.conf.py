"""gunicorn's settings for the enquiry service in production (README "Deploying"):

    gunicorn -c deploy/gunicorn.conf.py 'formsvc:create_app()'

Sync workers: each handles one request at a time, from its first byte to its last. That is
simple and safe for our app (SQLite or PostgreSQL, sealing, Redis: all blocking calls), but a
client that sends its request slowly holds a worker for as long as it likes; three such clients
stalled the form for everyone (issue 20). So gunicorn listens on loopback only and nginx stands in
front (deploy/nginx/): it reads every request whole, headers and body, before passing it on, and
drops a client that is too slow. gunicorn's own documentation asks for exactly this: sync workers
behind a buffering proxy. tests/test_slow_clients.py holds it to that, against this file and
deploy/nginx/, and shows the same attack stalling gunicorn alone.

Options given on the command line win over this file (``--workers 4``, ``--bind ...``).
"""
from __future__ import annotations

import ipaddress

# Loopback only: nothing may reach a sync worker except through nginx.
bind = ["127.0.0.1:8080"]
workers = 3
worker_class = "sync"
# A worker silent for this long (the app stuck) is killed and replaced; nginx's proxy_read_timeout
# is a little longer, so the person sees nginx's 502 rather than waiting on.
timeout = 30
graceful_timeout = 30
# The request line and headers gunicorn accepts: never less than nginx lets through
# (large_client_header_buffers 4 4k in deploy/nginx/formsvc-server.conf), so a request nginx
# passed is not refused again here. gunicorn's own refusals (400, 414, 431) get our security
# headers from nginx.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# nginx is on this machine: trust its X-Forwarded-Proto for the scheme. The client's address is
# the app's business (FORMSVC_PROXY_HOPS, Netlify's signed header), not gunicorn's.
forwarded_allow_ips = "127.0.0.1,::1"


def exposed_addresses(addresses) -> list[str]:
    """The bound addresses anyone but this machine could reach (a unix socket is local)."""
    exposed = []
    for address in addresses:
        if isinstance(address, (str, bytes)):
            continue  # a unix socket
        host = str(address[0]).strip("[]")
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host == "localhost"
        if not local:
            exposed.append(f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}")
    return exposed


def when_ready(server):
    exposed = exposed_addresses(server.cfg.address)
    if exposed:
        server.log.warning(
            "gunicorn is listening on %s, not only on this machine. Its sync workers must be reached only "
            "through nginx (deploy/nginx/), which reads each request whole: a slow client talking to gunicorn "
            "directly holds a worker for as long as it likes.", ", ".join(exposed))
