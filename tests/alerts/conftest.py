"""Fixtures for the alarm tests: a fake clock, the alarm store and service on the database
of tests/conftest.py's `db_url` (an SQLite file and a real PostgreSQL server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from hazmon.alerts import AlarmService, AlarmStore, EscalationPolicy, UlidFactory
from tests.alerts.support import DIRECTORY, FakeClock

# --- store and service ---------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


StoreOpener = Callable[[], Any]


@pytest.fixture
async def open_store(db_url: str) -> AsyncIterator[Callable[[], Any]]:
    """`store = await open_store()`: open (again) the same database; all closed at the end."""
    opened: list[AlarmStore] = []

    async def opener() -> AlarmStore:
        store = await AlarmStore.open(db_url)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: Callable[[], Any]) -> AlarmStore:
    s: AlarmStore = await open_store()
    return s


@pytest.fixture
def make_service(clock: FakeClock) -> Callable[..., AlarmService]:
    def make(store: AlarmStore, policy: EscalationPolicy | None = None) -> AlarmService:
        return AlarmService(store, directory=DIRECTORY, escalation_policy=policy, clock=clock,
                            ids=UlidFactory())

    return make


@pytest.fixture
def service(store: AlarmStore, make_service: Callable[..., AlarmService]) -> AlarmService:
    return make_service(store)


# --- notification -------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Any]:
    """A real HTTP server on a free loopback port, recording webhook POSTs."""
    from tests.alerts.notify_support import Receiver

    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def nservice(store: AlarmStore, clock: FakeClock) -> AlarmService:
    """An alarm service whose directory knows several enterprises, one simulated."""
    from tests.alerts.notify_support import NDIR

    return AlarmService(store, directory=NDIR, clock=clock, ids=UlidFactory())
