"""The warning store on SQLite and PostgreSQL: steps with their history and audit entry,
one open warning per subject, and a restart that keeps warnings, deadlines, latches and
pending pushes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hazmon.alerts import AlarmStore, audit
from hazmon.alerts.sql import StoreConflict
from hazmon.domain.regions import Level
from hazmon.warnings.evaluate import Assessment, Reason
from hazmon.warnings.feedback import Cause, DisposalFeedback
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import (
    Accept,
    Actor,
    ActorKind,
    EarlyWarning,
    FileFeedback,
    MarkOverdue,
    Step,
    WarningRefused,
    WarningState,
    apply,
    open_warning,
)
from hazmon.warnings.policy import WarningPolicy
from hazmon.warnings.store import Act, NewPush, PushStatus, WarningFilter, WarningStore
from tests.clock import MINUTE, T0
from tests.support import ENT, ENT2

POLICY = WarningPolicy()
OWNER = Actor("enterprise:zhang", ActorKind.ENTERPRISE, enterprise=ENT)
COUNTY = Actor("county:sun", ActorKind.REGULATOR, level=Level.COUNTY)


def assessment(level: WarningLevel = WarningLevel.ORANGE, source: str | None = "MHS-01",
               enterprise: str = ENT, region: str = "320921") -> Assessment:
    return Assessment(enterprise, source, "罐区一", region, 1, level,
                      (Reason("high_alarm_active", "alarm_active", level, "报警持续超过30分钟",
                              ("A1",)),))


def feedback() -> DisposalFeedback:
    return DisposalFeedback(cause=Cause.PROCESS_FLUCTUATION, measures="调整进料", person="张三",
                            phone="13812345678", cause_removed=True,
                            handled_at=datetime.fromtimestamp((T0 + MINUTE) / 1000, tz=UTC))


def push(channel: str, key: str) -> NewPush:
    return NewPush(channel, {"kind": "chain", "name": key, "phone": "13800000001"},
                   {"text": "橙色预警"}, key)


async def test_a_step_writes_history_audit_and_pushes(db_url: str) -> None:
    db = (await AlarmStore.open(db_url)).db
    try:
        store = await WarningStore.open(db)
        step = open_warning("W1", assessment(), POLICY, T0)
        saved = await store.save(step, created=True, pushes=[push("sms", "a"), push("sms", "b")])
        assert len(saved.pushes) == 2
        assert await store.get("W1") == step.warning
        assert await store.history("W1") == [step.event]
        # the audit chain holds the step, with who, when and what
        entries = await audit.entries(db, alarm_id="W1")
        assert [(e.action, e.actor, e.ts_ms) for e in entries] == [
            ("warning.opened", "system:warnings", T0)]
        assert entries[0].payload["data"]["deadline_ms"] == T0 + 60 * MINUTE
        assert entries[0].payload["level"] == "orange"
        assert (await audit.verify_chain(db)).ok
    finally:
        await db.close()


async def test_never_two_open_warnings_for_one_subject(db_url: str) -> None:
    db = (await AlarmStore.open(db_url)).db
    try:
        store = await WarningStore.open(db)
        await store.save(open_warning("W1", assessment(), POLICY, T0), created=True)
        with pytest.raises(StoreConflict):
            await store.save(open_warning("W2", assessment(), POLICY, T0), created=True)
        # another subject of the same enterprise, and the enterprise itself, are fine
        await store.save(open_warning("W3", assessment(source="MHS-02"), POLICY, T0),
                         created=True)
        await store.save(open_warning("W4", assessment(source=None), POLICY, T0), created=True)
        assert {w.id for w in await store.open_warnings()} == {"W1", "W3", "W4"}
        assert await store.history("W2") == []  # nothing of the refused one was kept
    finally:
        await db.close()


async def test_act_refused_changes_nothing_and_a_stale_write_conflicts(db_url: str) -> None:
    db = (await AlarmStore.open(db_url)).db
    try:
        store = await WarningStore.open(db)
        opened = open_warning("W1", assessment(), POLICY, T0)
        await store.save(opened, created=True)

        async def too_early(w: EarlyWarning) -> tuple[Step, list[NewPush]]:
            return apply(w, MarkOverdue(T0 + MINUTE), POLICY), []

        with pytest.raises(WarningRefused) as info:
            await store.act("W1", too_early)
        assert info.value.code == "not_due"
        assert await store.history("W1") == [opened.event]
        # a step computed from an old copy (another process moved on) is refused
        step = apply(opened.warning, FileFeedback(T0 + 2 * MINUTE, OWNER, feedback()), POLICY)
        await store.save(step, created=False)
        with pytest.raises(StoreConflict):
            await store.save(step, created=False)
        assert await store.act("W-none", too_early) is None
    finally:
        await db.close()


async def test_restart_keeps_warnings_deadlines_latches_and_pending_pushes(
        db_url: str) -> None:
    db = (await AlarmStore.open(db_url)).db
    try:
        store = await WarningStore.open(db)
        opened = open_warning("W1", assessment(), POLICY, T0)
        await store.save(opened, created=True, pushes=[push("sms", "a"), push("wecom", "g")])
        other = open_warning("W2", assessment(WarningLevel.BLUE, enterprise=ENT2,
                                              region="320902"), POLICY, T0)
        await store.save(other, created=True)
        sent, failing = (await store.due_pushes(T0))[:2]
        await store.push_sent(sent.id, T0 + 1000)
        await store.push_failed(failing.id, "HTTP 503", T0 + 30_000)
        # W2 closed (消警) on its reason, which is latched until it clears once
        filed = apply(other.warning, FileFeedback(T0 + 2 * MINUTE, Actor(
            "enterprise:zhao", ActorKind.ENTERPRISE, enterprise=ENT2), feedback()), POLICY)
        await store.save(filed, created=False)
        await store.save(apply(filed.warning, Accept(T0 + 3 * MINUTE, COUNTY), POLICY),
                         created=False)
    finally:
        await db.close()

    db = (await AlarmStore.open(db_url)).db  # the restart: the schema is found in place
    try:
        store = await WarningStore.open(db)
        assert await store.get("W1") == opened.warning
        # the deadline timer finds the overdue warning by its stored deadline
        assert [w.id for w in await store.overdue_due(T0 + 59 * MINUTE)] == []
        assert [w.id for w in await store.overdue_due(T0 + 60 * MINUTE)] == ["W1"]
        pushes = {p.channel: p for p in await store.pushes("W1")}
        assert pushes["sms"].status is PushStatus.SENT
        assert pushes["wecom"].status is PushStatus.PENDING
        assert pushes["wecom"].attempts == 1
        assert pushes["wecom"].last_error == "HTTP 503"
        assert [p.id for p in await store.due_pushes(T0 + 29_999)] == []
        assert [p.id for p in await store.due_pushes(T0 + 30_000)] == [pushes["wecom"].id]
        assert await store.next_push_due() == T0 + 30_000
        assert await store.latches() == {(ENT2, "MHS-01"): frozenset({"high_alarm_active"})}
        assert [w.id for w in await store.open_warnings()] == ["W1"]
        await store.unlatch({(ENT2, "MHS-01"): frozenset({"high_alarm_active"})})
        assert await store.latches() == {}
        # an overdue step after the restart continues the same history and audit chain
        saved = await store.act("W1", _overdue_at(T0 + 60 * MINUTE))
        assert saved is not None
        assert saved.step.warning.reviewer is Level.CITY
        assert [e.event for e in await store.history("W1")] == ["opened", "overdue"]
        assert (await audit.verify_chain(db)).ok
        await store.push_failed(pushes["wecom"].id, "HTTP 400", None)
        assert (await store.pushes("W1"))[1].status is PushStatus.FAILED
        assert await store.next_push_due() is None
    finally:
        await db.close()


def _overdue_at(at: int) -> Act:
    async def act(w: EarlyWarning) -> tuple[Step, list[NewPush]]:
        return apply(w, MarkOverdue(at), POLICY), []
    return act


async def test_query_filters_and_order(db_url: str) -> None:
    db = (await AlarmStore.open(db_url)).db
    try:
        store = await WarningStore.open(db)
        a = open_warning("W1", assessment(WarningLevel.BLUE), POLICY, T0)
        b = open_warning("W2", assessment(WarningLevel.RED, source="MHS-02"), POLICY, T0)
        c = open_warning("W3", assessment(WarningLevel.YELLOW, enterprise=ENT2,
                                          region="320902"), POLICY, T0)
        for s in (a, b, c):
            await store.save(s, created=True)
        late = apply(a.warning, MarkOverdue(T0 + 24 * 60 * MINUTE), POLICY)
        await store.save(late, created=False)

        async def ids(**kw: object) -> list[str]:
            items, total = await store.query(WarningFilter(**kw))  # type: ignore[arg-type]
            assert total == len(items)
            return [w.id for w in items]

        assert await ids() == ["W1", "W2", "W3"]  # overdue first, then gravest
        assert await ids(region_prefix="320902") == ["W3"]
        assert await ids(level=[WarningLevel.RED, WarningLevel.YELLOW]) == ["W2", "W3"]
        assert await ids(overdue=True) == ["W1"]
        assert await ids(state=[WarningState.OPEN], enterprise=ENT) == ["W1", "W2"]
        assert await ids(hazard_source="MHS-02") == ["W2"]
        assert await ids(simulated=True) == []
        assert await ids(level=[]) == []
        page, total = await store.query(None, limit=1, offset=1)
        assert ([w.id for w in page], total) == (["W2"], 3)
        # a report's period: every warning, and their histories in one go
        assert [w.id for w in await store.query_all(WarningFilter(enterprise=ENT))] == [
            "W1", "W2"]
        hist = await store.histories(["W1", "W3", "none"])
        assert {k: [e.event for e in v] for k, v in hist.items()} == {
            "W1": ["opened", "overdue"], "W3": ["opened"], "none": []}
    finally:
        await db.close()
