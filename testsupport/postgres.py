"""A throwaway PostgreSQL cluster from Debian's ``postgresql`` package, for tests and benchmarks.

PostgreSQL refuses to run as root, and CI runs as root: then every server command
runs as the unprivileged ``postgres`` user the package creates (``runuser``), in a
temporary folder that user owns. Not as root, the commands run as we are.

    with PostgresCluster() as pg:          # initdb + start on a free port on 127.0.0.1
        url = pg.create_database("outbox") # postgresql://app@127.0.0.1:PORT/outbox
        pg.restart()                       # or stop("immediate") / start(): fault tests
        pg.terminate_connections("outbox") # pg_terminate_backend on every session

The cluster trusts local connections (``-A trust``): it lives for one test run,
listens on 127.0.0.1 only, and holds only test data.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .net import free_port

SUPERUSER = "app"
DEBIAN_ROOT = Path("/usr/lib/postgresql")


def find_bindir() -> Path | None:
    """The newest Debian PostgreSQL's bin folder (/usr/lib/postgresql/<major>/bin), if any."""
    found = []
    for candidate in DEBIAN_ROOT.glob("*/bin"):
        if (candidate / "pg_ctl").exists() and re.fullmatch(r"\d+", candidate.parent.name):
            found.append((int(candidate.parent.name), candidate))
    if found:
        return max(found)[1]
    initdb = shutil.which("initdb")  # elsewhere: whatever is on PATH
    return Path(initdb).parent if initdb else None


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class PostgresCluster:
    """initdb, pg_ctl start/stop, and a superuser connection for setting up and breaking things."""

    def __init__(self, port: int | None = None, bindir: Path | None = None, settings: dict | None = None):
        self.bindir = bindir or find_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's postgresql package")
        self.port = port or free_port()
        #: Extra server settings (``-c name=value``), e.g. {"max_connections": 200}.
        self.settings = dict(settings or {})
        self.dir: Path | None = None

    # -- life cycle ---------------------------------------------------------------

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def log(self) -> Path:
        return self.dir / "server.log"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([*_as_postgres(), *args], capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                               f"\n{self.server_log()[-3000:]}")
        return result

    def init(self) -> PostgresCluster:
        self.dir = Path(tempfile.mkdtemp(prefix="pg-"))
        if os.geteuid() == 0:
            import pwd

            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        # --no-sync: the cluster's files need not survive a power cut, only the server.
        # fsync stays on for the server itself, so benchmarks pay what production pays.
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", SUPERUSER,
                  "-E", "UTF8", "--locale=C", "--no-sync")
        return self

    def start(self) -> PostgresCluster:
        if self.dir is None:
            self.init()
        options = [f"-p {self.port}", f"-k {self.dir}", "-c listen_addresses=127.0.0.1"]
        options += [f"-c {name}={value}" for name, value in self.settings.items()]
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", " ".join(options), "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """``fast``: roll back sessions and shut down cleanly; ``immediate``: like a crash
        (no checkpoint; the next start replays the WAL)."""
        if self.dir is not None and self.running():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-m", mode, "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def running(self) -> bool:
        if self.dir is None:
            return False
        status = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "status", check=False)
        return status.returncode == 0

    def destroy(self) -> None:
        self.stop("immediate")
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.destroy()

    def server_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except (OSError, TypeError):
            return ""

    # -- databases and sessions ----------------------------------------------------------

    def url(self, dbname: str = "postgres", **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}" + (f"?{query}" if query else "")

    def execute(self, sql: str, params: tuple = (), dbname: str = "postgres") -> list[tuple]:
        """Run one statement as the superuser, autocommit; return its rows (if any)."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=10) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def terminate_connections(self, dbname: str | None = None, where: str = "true") -> int:
        """pg_terminate_backend() on every client session (of ``dbname``, if given, and
        matching the SQL condition ``where`` on pg_stat_activity), except our own.
        Returns how many were cut."""
        rows = self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            f" AND (%s::text IS NULL OR datname = %s) AND ({where})",
            (dbname, dbname),
        )
        return sum(1 for (cut,) in rows if cut)

    def sessions(self, dbname: str, where: str = "true") -> list[dict]:
        """pg_stat_activity rows (pid, state, wait_event_type, query, application_name) of client sessions."""
        rows = self.execute(
            "SELECT pid, state, wait_event_type, query, application_name FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = %s"
            f" AND ({where})",
            (dbname,),
        )
        return [dict(zip(("pid", "state", "wait_event_type", "query", "application_name"), row)) for row in rows]
