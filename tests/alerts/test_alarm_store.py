"""The alarm store on SQLite and on a real PostgreSQL: round trips, filters, paging,
dedup by key, schema versioning, and state surviving a restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hazmon.alerts import AlarmFilter, AlarmState, AlarmStore, StoreConflict, StoreError
from hazmon.alerts.lifecycle import Ack, Alarm, Clear, Event, Raise, Shelve, apply, new_alarm
from hazmon.alerts.store import SCHEMA_VERSION, migrate
from hazmon.alerts.ulid import UlidFactory
from hazmon.domain.signal import Category, Priority
from tests.alerts.support import ENT, HS, MINUTE, T0, TAG

IDS = UlidFactory()


async def put(store: AlarmStore, *events: Event, tag: str | None = TAG,
              rule: str = "high_high", region: str = "320921", tier: int | None = 1,
              priority: Priority = Priority.HIGH, simulated: bool = False,
              enterprise: str = ENT, ts: int = T0) -> Alarm:
    alarm = new_alarm(IDS.new(ts), enterprise=enterprise, hazard_source=HS, tag=tag,
                      rule=rule, category=Category.PROCESS, priority=priority, region=region,
                      tier=tier, simulated=simulated)
    created = True
    for e in (Raise(ts, 10.6, 10.5, "液位高高"), *events):
        step = apply(alarm, e)
        async with store.db.transaction() as tx:
            await AlarmStore.save(tx, step.alarm, step.entry, created=created)
        alarm, created = step.alarm, False
    return alarm


async def test_round_trip_with_history(store: AlarmStore) -> None:
    a = await put(store, Shelve(T0 + 1, "user:li", 30, "校准"), Clear(T0 + 2, 9.0))
    got = await store.get_with_history(a.id)
    assert got is not None
    alarm, history = got
    assert alarm == a
    assert alarm.shelved is not None
    assert alarm.shelved.reason == "校准"
    assert [h.event for h in history] == ["raised", "shelved", "cleared"]
    assert [h.seq for h in history] == [1, 2, 3]
    assert history[1].data["until_ms"] == T0 + 1 + 30 * MINUTE
    assert await store.get("nope") is None


async def test_one_open_occurrence_per_key(store: AlarmStore) -> None:
    a = await put(store)
    assert (await store.open_by_key(a.key)) == a
    with pytest.raises(StoreConflict):
        await put(store)  # same key while the first is open: the index refuses
    # once closed, the key is free for a new occurrence
    step = apply(apply(a, Ack(T0 + 1, "u")).alarm, Clear(T0 + 2))
    async with store.db.transaction() as tx:
        await AlarmStore.save(tx, step.alarm, step.entry, created=False)
    assert await store.open_by_key(a.key) is None
    b = await put(store, ts=T0 + 3)
    assert b.id != a.id
    assert (await store.open_by_key(a.key)) == b


async def test_filters_and_paging(store: AlarmStore) -> None:
    made = []
    for i in range(7):
        made.append(await put(
            store, tag=f"T{i}", ts=T0 + i * MINUTE,
            region="320921" if i % 2 else "370102", tier=1 + i % 4,
            priority=Priority.CRITICAL if i < 2 else Priority.LOW, simulated=i == 6,
            enterprise=ENT if i < 5 else "91370102MA2YYYYY1R",
        ))
    q = store.query
    assert [a.id for a in (await q()).items] == [a.id for a in reversed(made)]
    assert {a.tag for a in (await q(AlarmFilter(region_prefix="32"))).items} == {
        "T1", "T3", "T5"}
    assert {a.tag for a in (await q(AlarmFilter(region_prefix="3701"))).items} == {
        "T0", "T2", "T4", "T6"}
    assert len((await q(AlarmFilter(enterprise=ENT))).items) == 5
    assert {a.tag for a in (await q(AlarmFilter(tier=[1, 2]))).items} == {
        "T0", "T1", "T4", "T5"}
    assert {a.tag for a in (await q(AlarmFilter(priority=[Priority.CRITICAL]))).items} == {
        "T0", "T1"}
    assert {a.tag for a in (await q(AlarmFilter(simulated=True))).items} == {"T6"}
    window = AlarmFilter(since_ms=T0 + 2 * MINUTE, until_ms=T0 + 4 * MINUTE)
    assert {a.tag for a in (await q(window)).items} == {"T2", "T3"}
    assert (await q(AlarmFilter(state=[AlarmState.ACK_ACTIVE]))).items == []
    assert len((await q(AlarmFilter(state=[AlarmState.UNACK_ACTIVE], open=True))).items) == 7
    assert await store.count(AlarmFilter(region_prefix="32")) == 3
    with pytest.raises(ValueError, match="region prefix"):
        await q(AlarmFilter(region_prefix="32%"))
    # keyset paging walks everything once, newest first
    seen: list[str] = []
    cursor = None
    while True:
        page = await q(limit=3, cursor=cursor)
        seen += [a.id for a in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [a.id for a in reversed(made)]


async def test_state_survives_restart(open_store: Callable[[], Any]) -> None:
    store = await open_store()
    a = await put(store, Ack(T0 + 5, "user:li", "处理中"))
    await store.close()
    again: AlarmStore = await open_store()
    got = await again.get_with_history(a.id)
    assert got is not None
    assert got[0] == a
    assert got[0].state is AlarmState.ACK_ACTIVE
    assert [h.event for h in got[1]] == ["raised", "acknowledged"]
    assert got[1][1].data["note"] == "处理中"


async def test_schema_is_versioned_and_migration_is_idempotent(store: AlarmStore) -> None:
    assert await migrate(store.db) == SCHEMA_VERSION
    row = await store.db.fetchone("SELECT MAX(version) FROM schema_version")
    assert row is not None
    assert row[0] == SCHEMA_VERSION
    async with store.db.transaction() as tx:
        await tx.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer than this hazmon"):
        await migrate(store.db)


async def test_bad_urls_are_store_errors(tmp_path: Any) -> None:
    with pytest.raises(StoreError, match="unsupported database URL"):
        await AlarmStore.open("mysql://x@y/z")
    with pytest.raises(StoreError, match="cannot connect"):
        await AlarmStore.open("postgresql://nobody:secret@127.0.0.1:1/none")
