"""The notification outbox: due, sent, failed and retried, given up; survives restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hazmon.alerts import Outbox, OutboxStatus
from tests.alerts.support import MINUTE, T0


async def test_enqueue_due_sent_failed(store: Any) -> None:
    ob = Outbox(store.db)
    assert await ob.enqueue("alarm", {"id": "A", "msg": "液位"}, now_ms=T0, alarm_id="A")
    assert await ob.enqueue("alarm", {"id": "B"}, now_ms=T0 + 1, alarm_id="B")
    due = await ob.due(T0 + 1)
    assert [n.payload["id"] for n in due] == ["A", "B"]
    assert due[0].payload["msg"] == "液位"
    assert due[0].status is OutboxStatus.PENDING
    await ob.mark_sent(due[0].id, T0 + 2)
    await ob.mark_failed(due[1].id, T0 + MINUTE, "timeout")
    assert await ob.due(T0 + 2) == []  # A sent, B waits for its retry
    (b,) = await ob.due(T0 + MINUTE)
    assert (b.attempts, b.last_error) == (1, "timeout")
    await ob.mark_failed(b.id, None, "HTTP 410")
    dead = await ob.get(b.id)
    assert dead is not None
    assert dead.status is OutboxStatus.DEAD
    assert dead.attempts == 2
    assert await ob.due(T0 + 10 * MINUTE) == []
    sent = await ob.get(due[0].id)
    assert sent is not None
    assert sent.status is OutboxStatus.SENT
    await ob.mark_sent(due[0].id, T0 + 3)  # marking twice changes nothing
    again = await ob.get(due[0].id)
    assert again is not None
    assert again.attempts == 1


async def test_dedup_key(store: Any) -> None:
    ob = Outbox(store.db)
    assert await ob.enqueue("escalate", {}, now_ms=T0, dedup_key="escalate:A:1")
    assert not await ob.enqueue("escalate", {}, now_ms=T0, dedup_key="escalate:A:1")
    assert await ob.pending_count() == 1


async def test_outbox_survives_restart(open_store: Callable[[], Any]) -> None:
    s1 = await open_store()
    ob = Outbox(s1.db)
    for i in range(3):
        await ob.enqueue("alarm", {"n": i}, now_ms=T0 + i)
    first = (await ob.due(T0 + 5))[0]
    await ob.mark_sent(first.id, T0 + 5)
    await s1.close()
    s2 = await open_store()
    pending = await Outbox(s2.db).due(T0 + 5)
    assert [n.payload["n"] for n in pending] == [1, 2]  # none lost, the sent one not again
