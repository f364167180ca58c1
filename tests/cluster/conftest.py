"""Fixtures for the several-instances tests: a PostgreSQL server of the module's own
(tests here stop and start it), started for real (hazmon.testing.postgres)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hazmon.testing.postgres import PostgresServer, find_pg_bindir
from tests.real_parts import missing


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    if find_pg_bindir() is None:
        pytest.skip(missing("PostgreSQL server binaries", "apt-get install postgresql"))
    server = PostgresServer(tmp_path_factory.mktemp("pg-cluster")).start()
    try:
        yield server
    finally:
        server.stop()
