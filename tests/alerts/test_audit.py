"""The audit hash chain: written with each change, verified, tampering found by seq."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from hazmon.alerts import AlarmService, AlarmStore, StoreError, verify_audit, verify_chain
from hazmon.alerts.audit import GENESIS, append, canonical_json, entries
from tests.alerts.support import MINUTE, make_signal


async def busy(service: AlarmService) -> str:
    a = await service.handle_signal(make_signal())
    assert a is not None
    await service.shelve(a.id, "user:li", 30, "校准中")
    await service.comment(a.id, "user:li", "已通知现场")
    await service.unshelve(a.id, "user:li")
    await service.ack(a.id, "user:li", "处理中")
    await service.handle_signal(make_signal("clear", value=9.0))
    return a.id


async def test_every_change_is_in_the_chain(service: AlarmService, store: AlarmStore) -> None:
    alarm_id = await busy(service)
    log = await entries(store.db, alarm_id=alarm_id)
    assert [e.action for e in log] == ["raised", "shelved", "commented", "unshelved",
                                       "acknowledged", "cleared"]
    assert [e.actor for e in log] == ["system:rules"] + ["user:li"] * 4 + ["system:rules"]
    assert log[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(log))
    assert log[1].payload["data"]["reason"] == "校准中"
    result = await verify_chain(store.db)
    assert result.ok
    assert result.checked == 6
    assert result.head_hash == log[-1].hash
    assert str(result).startswith("audit chain ok: 6 entries")


async def test_verify_on_an_empty_log(store: AlarmStore) -> None:
    result = await verify_chain(store.db)
    assert result.ok
    assert result.checked == 0
    assert result.head_hash == GENESIS


async def test_tampered_payload_is_found_with_its_seq(service: AlarmService,
                                                      store: AlarmStore) -> None:
    await busy(service)
    async with store.db.transaction() as tx:
        row = await tx.fetchone("SELECT payload FROM audit_log WHERE seq = 3")
        assert row is not None
        forged = row[0].replace("已通知现场", "无异常")
        await tx.execute("UPDATE audit_log SET payload = ? WHERE seq = 3", (forged,))
    result = await verify_chain(store.db)
    assert not result.ok
    assert result.broken_seq == 3
    assert result.problem is not None
    assert "hash mismatch" in result.problem
    assert result.head_seq == 2  # the last entry still good


async def test_rehashed_forgery_breaks_the_next_link(service: AlarmService,
                                                     store: AlarmStore) -> None:
    """A forger who also recomputes the entry's own hash is caught one entry later."""
    await busy(service)
    from hazmon.alerts.audit import entry_hash

    async with store.db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT ts_ms, actor, action, alarm_id, prev_hash FROM audit_log WHERE seq = 2")
        assert row is not None
        payload = {"forged": True}
        digest = entry_hash(row[4], 2, row[0], row[1], row[2], row[3], payload)
        await tx.execute("UPDATE audit_log SET payload = ?, hash = ? WHERE seq = 2",
                         (canonical_json(payload), digest))
    result = await verify_chain(store.db)
    assert (result.broken_seq, result.problem) == (
        3, "prev_hash does not match the previous entry's hash")


async def test_reformatted_payload_is_found(service: AlarmService, store: AlarmStore) -> None:
    await busy(service)
    async with store.db.transaction() as tx:
        row = await tx.fetchone("SELECT payload FROM audit_log WHERE seq = 4")
        assert row is not None
        await tx.execute("UPDATE audit_log SET payload = ? WHERE seq = 4", (row[0] + " ",))
    result = await verify_chain(store.db)
    assert result.broken_seq == 4
    assert "canonical" in (result.problem or "")


async def test_deleted_entry_is_a_gap(service: AlarmService, store: AlarmStore) -> None:
    await busy(service)
    async with store.db.transaction() as tx:
        await tx.execute("DELETE FROM audit_log WHERE seq = 2")
    result = await verify_chain(store.db)
    assert result.broken_seq == 3
    assert result.problem == "gap in sequence: expected seq 2, found 3"


async def test_entry_is_written_in_the_state_change_transaction(store: AlarmStore) -> None:
    class BoomError(Exception):
        pass

    async def fail_after_append() -> None:
        async with store.db.transaction() as tx:
            await append(tx, ts_ms=1, actor="a", action="x", alarm_id=None, payload={})
            raise BoomError

    with pytest.raises(BoomError):
        await fail_after_append()
    assert (await verify_chain(store.db)).checked == 0


async def test_verify_audit_by_url(db_url: str, service: AlarmService,
                                   store: AlarmStore, clock: Any) -> None:
    await busy(service)
    clock.advance(minutes=1)
    result = await verify_audit(db_url)
    assert result.ok
    assert result.checked == 6


async def test_verify_audit_of_a_missing_file(tmp_path: Any) -> None:
    missing = tmp_path / "none.db"
    with pytest.raises(StoreError):
        await verify_audit(f"sqlite:///{missing}")
    assert not missing.exists()


async def test_chain_continues_across_restart(open_store: Callable[[], Any],
                                              make_service: Any) -> None:
    s1 = await open_store()
    await busy(make_service(s1))
    await s1.close()
    s2 = await open_store()
    svc = make_service(s2)
    await svc.handle_signal(make_signal(rule="high", ts=make_signal().ts_ms + MINUTE))
    result = await verify_chain(s2.db)
    assert result.ok
    assert result.checked == 7
