"""A real PostgreSQL server on a loopback port, in a temp dir, removed afterwards.

initdb and postgres refuse to run as root, so when this process is root the server runs
as the unprivileged `postgres` system user (created by Debian's postgresql package), in a
directory owned by that user. Authentication is `trust` on loopback only: it is a
throwaway test server.

    url, stop = start_postgres(tmp_path)
    try: ... finally: stop()
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hazmon.testing.process import ServerStartError, free_port, stop_process, wait_until

log = logging.getLogger(__name__)

RUN_AS = "postgres"  # the system user Debian's package creates
SUPERUSER = "hazmon"  # database role created by initdb


def find_pg_bindir() -> Path | None:
    """The newest PostgreSQL server bindir (Debian layout first, then PATH), or None."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: _version_key(Path(p).parent.parent.name),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("postgres")
    if found and shutil.which("initdb"):
        return Path(found).parent
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split(".") if p.isdigit())


def _traversable(path: Path, user: pwd.struct_passwd) -> bool:
    """Can `user` reach `path` (x on every ancestor)? pytest's tmp dirs are root-only 0700."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for p in [path, *path.parents]:
        st = p.stat()
        mode = st.st_mode
        ok = (
            (st.st_uid == user.pw_uid and mode & stat.S_IXUSR)
            or (st.st_gid in groups and mode & stat.S_IXGRP)
            or mode & stat.S_IXOTH
        )
        if not ok:
            return False
    return True


@dataclass
class PostgresServer:
    base_dir: Path
    port: int = field(default_factory=free_port)
    bindir: Path | None = None
    workdir: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    _user: pwd.struct_passwd | None = None
    _db_counter: int = 0
    _cmd: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def start(self, timeout: float = 30.0) -> PostgresServer:
        bindir = self.bindir or find_pg_bindir()
        if bindir is None:
            raise ServerStartError("no PostgreSQL server binaries (apt-get install postgresql)")
        self.bindir = bindir
        if os.geteuid() == 0:
            try:
                self._user = pwd.getpwnam(RUN_AS)
            except KeyError as exc:
                raise ServerStartError(
                    f"running as root and there is no {RUN_AS!r} user to run postgres as"
                ) from exc
        base = self.base_dir
        if self._user is not None and not _traversable(base.resolve(), self._user):
            base = Path(tempfile.gettempdir())
        self.workdir = Path(tempfile.mkdtemp(prefix="hazmon-pg-", dir=base))
        data, sock = self.workdir / "data", self.workdir / "sock"
        data.mkdir()
        sock.mkdir()
        if self._user is not None:
            for p in (self.workdir, data, sock):
                os.chown(p, self._user.pw_uid, self._user.pw_gid)
        logfile = self.workdir / "postgres.log"
        initdb = self._spawn(
            [
                str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER,
                "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
            ],
            logfile,
        )
        if initdb.wait(120) != 0:
            tail = logfile.read_text(errors="replace")[-2000:]
            self._remove()
            raise ServerStartError(f"initdb failed ({initdb.returncode}):\n{tail}")
        cmd = [
            str(bindir / "postgres"), "-D", str(data), "-p", str(self.port),
            "-c", f"listen_addresses={self.host}",
            "-c", f"unix_socket_directories={sock}",
            # A throwaway server: durability off, speed on.
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=50",
        ]
        self._cmd = cmd
        self._run(timeout)
        log.info("postgres %s on port %d in %s", bindir, self.port, self.workdir)
        return self

    def _run(self, timeout: float) -> None:
        assert self.workdir is not None
        logfile = self.workdir / "postgres.log"
        self.proc = self._spawn(self._cmd, logfile)
        wait_until(self._ready, timeout, self.proc, logfile, "postgres")

    def halt(self) -> None:
        """Stop the server (fast shutdown: clients are cut off), keeping its data and port,
        as an operator's restart or a failover does."""
        if self.proc is not None:
            stop_process(self.proc, sig=signal.SIGINT)
            self.proc = None

    def resume(self, timeout: float = 30.0) -> None:
        """Start the halted server again on the same port and data."""
        if self.proc is None:
            self._run(timeout)

    def _spawn(self, cmd: list[str], logfile: Path) -> subprocess.Popen[bytes]:
        """Start `cmd` with output to `logfile`, as the unprivileged user when root."""
        user = self._user
        env = None
        if user is not None:
            env = {**os.environ, "HOME": str(self.workdir), "USER": RUN_AS, "LOGNAME": RUN_AS}
        with logfile.open("ab") as out:
            return subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.workdir,
                user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url(), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its URL (one per test keeps tests apart)."""
        import psycopg

        if name is None:
            self._db_counter += 1
            name = f"hazmon_{self._db_counter}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None:
            # SIGINT = fast shutdown: a smart one (SIGTERM) would wait for leaked clients.
            stop_process(self.proc, sig=signal.SIGINT)
            self.proc = None
        self._remove()

    def _remove(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_postgres(tmp_dir: Path | str) -> tuple[str, Callable[[], None]]:
    """Start a server, create database `hazmon`; return its URL and a stop function."""
    server = PostgresServer(Path(tmp_dir)).start()
    try:
        url = server.create_database("hazmon")
    except Exception:
        server.stop()
        raise
    return url, server.stop


def postgres_available() -> bool:
    return find_pg_bindir() is not None
