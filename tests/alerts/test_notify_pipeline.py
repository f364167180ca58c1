"""The pipeline is a chain of stages: a stage put into it sees what the stage before
passed on, and what it does not pass on goes no further."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from hazmon.alerts import AlarmService, AlarmStore
from hazmon.alerts.notify import PIPELINE, Context, Notifier, Stage, Work
from hazmon.alerts.notify.dedup import Dedup
from hazmon.alerts.notify.deliver import Deliver
from hazmon.alerts.notify.grouping import Group
from hazmon.alerts.notify.quiet import Quiet
from hazmon.alerts.notify.record import Load, RecordPlan
from hazmon.alerts.notify.routing import Route
from hazmon.alerts.notify.settle import Settle
from hazmon.alerts.outbox import OutboxStatus
from tests.alerts.notify_support import NDIR, Publisher, config
from tests.alerts.support import T0, FakeClock, make_signal


class Without(Stage[Work, Work]):
    """Drops the planned deliveries to one channel (before they are recorded)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.seen: list[int] = []

    async def run(self, ctx: Context, items: Sequence[Work]) -> list[Work]:
        self.seen.extend(w.note.id for w in items)
        return [replace(w, planned=tuple(p for p in w.planned if p.channel != self.channel))
                for w in items]


async def _deliver_once(store: AlarmStore, clock: FakeClock, alarm_id: str,
                        pipeline: Stage[Any, Any] | None) -> tuple[Publisher, list[str]]:
    publish = Publisher()
    cfg = config([{"name": "a", "type": "mqtt"}, {"name": "b", "type": "mqtt"}],
                 [{"to": ["a", "b"]}])
    async with Notifier(store, cfg, NDIR, publish, clock) as n:
        if pipeline is not None:
            n.pipeline = pipeline
        await n.run_once(T0)
        rows = await n.deliveries_of(alarm_id)
        (nid,) = {r.notification_id for r in rows}
        note = await n.outbox.get(nid)
        assert note is not None
        assert note.status is OutboxStatus.SENT
    return publish, [r.channel for r in rows]


async def test_the_declared_pipeline_reaches_every_routed_channel(
    nservice: AlarmService, store: AlarmStore, clock: FakeClock
) -> None:
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    publish, channels = await _deliver_once(store, clock, alarm.id, None)
    assert channels == ["a", "b"]
    assert [m["notification"]["channel"] for _, m, _ in publish.sent] == ["a", "b"]
    assert [s.name for s in PIPELINE.stages] == [
        "load", "quiet", "route", "dedup", "recordplan", "group", "deliver", "settle"]


async def test_a_stage_put_into_the_chain_filters_what_follows(
    nservice: AlarmService, store: AlarmStore, clock: FakeClock
) -> None:
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    without_b = Without("b")
    pipeline = (Load() >> Quiet() >> Route() >> without_b >> Dedup() >> RecordPlan()
                >> Group() >> Deliver() >> Settle())
    publish, channels = await _deliver_once(store, clock, alarm.id, pipeline)
    assert len(without_b.seen) == 1
    assert channels == ["a"]  # never planned, so never recorded or sent
    assert [m["notification"]["channel"] for _, m, _ in publish.sent] == ["a"]
