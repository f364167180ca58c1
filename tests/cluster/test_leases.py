"""Leases on partitions in a real PostgreSQL: one holder at a time, expiry by the
server's clock, epochs that fence a holder that lost its lease, members counted."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hazmon.alerts.sql import Database, connect
from hazmon.cluster import leases, shared
from hazmon.cluster.leases import Leases
from hazmon.testing.postgres import PostgresServer
from tests.helpers import wait_for


@pytest.fixture
async def db(pg: PostgresServer) -> AsyncIterator[Database]:
    d = await connect(pg.create_database())
    await leases.migrate(d)
    await leases.migrate(d)  # idempotent: every instance runs it at start
    yield d
    await d.close()


async def test_one_holder_until_expiry_then_the_next_with_a_new_epoch(db: Database) -> None:
    a = Leases(db, "a", lease_ms=400)
    b = Leases(db, "b", lease_ms=60_000)
    first = await a.acquire("north")
    assert first is not None
    assert first.epoch == 1
    assert await b.acquire("north") is None  # live: not taken
    assert await a.renew([first]) == {"north"}
    second = await wait_for(lambda: b.acquire("north"), what="north free after expiry")
    assert second.epoch == 2
    assert await a.renew([first]) == set()  # lost, and a knows it
    # the old holder's snapshot is refused; the new one's is kept
    assert not await shared.save_rules(db, first, "a", {"who": "a"})
    assert await shared.save_rules(db, second, "b", {"who": "b"})
    assert await shared.load_rules(db, "north") == {"who": "b"}
    # given back: free at once, for anyone
    await b.release(second)
    third = await a.acquire("north")
    assert third is not None
    assert third.epoch == 3


async def test_members_are_those_that_heartbeat(db: Database) -> None:
    a = Leases(db, "a", lease_ms=60_000)
    b = Leases(db, "b", lease_ms=60_000)
    assert await a.heartbeat() == 1
    assert await b.heartbeat() == 2
    await b.leave()
    assert await a.heartbeat() == 1
    assert [row[:2] for row in await a.table()] == []


async def test_sqlite_is_refused(tmp_path: object) -> None:
    d = await connect(f"sqlite:///{tmp_path}/x.db")
    try:
        with pytest.raises(ValueError, match="PostgreSQL"):
            await leases.migrate(d)
    finally:
        await d.close()
