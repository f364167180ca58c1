"""Shared fixtures: real Mosquitto and InfluxDB servers for the session, on free ports."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from hazmon.domain.registry import Registry, load_registry
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from hazmon.testing.postgres import PostgresServer, find_pg_bindir
from tests.real_parts import (  # noqa: F401 - hooks: a missing real part is never silent
    missing,
    pytest_make_collect_report,
    pytest_runtest_makereport,
    pytest_terminal_summary,
)
from tests.support import REGISTRY_FILE

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(REGISTRY_FILE)


def _discard(server: Mosquitto | InfluxDB) -> None:
    """SIGKILL a session server at the end: its data is thrown away, and a clean stop
    would first write out what the whole suite left in it (queued sessions, shards)."""
    if server.proc is not None:
        server.proc.kill()
        server.proc.wait(10)
        server.proc = None


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    try:
        yield broker
    finally:
        _discard(broker)


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB]:
    server = InfluxDB(tmp_path_factory.mktemp("influxdb")).start()
    try:
        yield server
    finally:
        _discard(server)


@pytest.fixture
def unique() -> str:
    """A short name unique in this test session: databases, client ids."""
    return f"t{next(_ids)}"


# --- a database both as an SQLite file and as a real PostgreSQL server ----------------------


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer | None]:
    """One real server for the session (each test gets its own database in it)."""
    if find_pg_bindir() is None:
        yield None
        return
    server = PostgresServer(tmp_path_factory.mktemp("pg")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store's database on both engines (skipped without PostgreSQL, failed under CI)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'alarms.db'}"
    server: PostgresServer | None = request.getfixturevalue("pg_server")
    if server is None:
        pytest.skip(missing("PostgreSQL server binaries", "apt-get install postgresql"))
    return server.create_database()
