"""The duty store's database both as an SQLite file and as a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hazmon.testing.postgres import PostgresServer, find_pg_bindir
from tests.real_parts import missing


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer | None]:
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
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'alarms.db'}"
    server: PostgresServer | None = request.getfixturevalue("pg_server")
    if server is None:
        pytest.skip(missing("PostgreSQL server binaries", "apt-get install postgresql"))
    return server.create_database()
