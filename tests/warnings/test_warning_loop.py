"""The warning loop on real parts (alarm store, warning store, webhook channels against a
local receiver), with an injected clock: alarms and other facts open warnings, raise
them without a duplicate, mark them overdue and escalate them; pushes go to the 包保
chain and the grid's officials, are retried and survive a restart; simulated plants get
warnings that reach nobody real."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime

import pytest

from hazmon.alerts import audit
from hazmon.alerts.notify.channels.webhook import verify_signature
from hazmon.domain.regions import Level
from hazmon.domain.signal import Category, Priority
from hazmon.duties.facts import DutyFact, FactKind
from hazmon.warnings.feedback import Cause, DisposalFeedback
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import (
    Accept,
    Actor,
    ActorKind,
    FileFeedback,
    RecordOnsiteCheck,
    WarningState,
)
from hazmon.warnings.store import PushStatus
from tests.alerts.notify_support import SECRET, Receiver
from tests.clock import MINUTE, T0
from tests.support import ENT, ENT2
from tests.warnings.rig import GD, LT, PT, SIM_GD, Rig, make_rig, sig

RED, ORANGE, YELLOW, BLUE = (WarningLevel.RED, WarningLevel.ORANGE, WarningLevel.YELLOW,
                             WarningLevel.BLUE)
OWNER = Actor("enterprise:张三", ActorKind.ENTERPRISE, enterprise=ENT)
COUNTY = Actor("county:孙宏", ActorKind.REGULATOR, level=Level.COUNTY)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
async def rig(tmp_path: object, receiver: Receiver) -> AsyncIterator[Rig]:
    r = await make_rig(f"sqlite:///{tmp_path}/alarms.db", receiver)
    yield r
    await r.close()


def feedback(at: int) -> DisposalFeedback:
    return DisposalFeedback(cause=Cause.INSTRUMENT_FAULT, measures="更换液位计并校准",
                            person="王五", phone="13800000103", cause_removed=True,
                            handled_at=datetime.fromtimestamp(at / 1000, tz=UTC))


async def test_a_critical_alarm_unacked_for_10_minutes_opens_one_red_warning(
        rig: Rig, receiver: Receiver) -> None:
    await rig.alarms.handle_signal(sig())
    # at once: nothing yet (tier 1, the red rule waits 10 minutes)
    assert (await rig.part.evaluate_once()).opened == []
    rig.clock.advance(9)
    assert (await rig.part.evaluate_once()).opened == []
    rig.clock.advance(1)
    done = await rig.part.evaluate_once()
    assert len(done.opened) == 1
    w = await rig.store.get(done.opened[0])
    assert w is not None
    assert (w.level, w.hazard_source, w.region, w.tier) == (RED, "MHS-01", "320921", 1)
    assert [r.code for r in w.reasons] == ["critical_unacked"]
    assert w.deadline_ms == rig.clock.now + 30 * MINUTE
    # again and again: the same warning, never a second one
    for _ in range(3):
        rig.clock.advance(1)
        again = await rig.part.evaluate_once()
        assert (again.opened, again.raised) == ([], [])
    assert [x.id for x in await rig.store.open_warnings()] == [w.id]

    # pushed: the whole 包保 chain (the source's own 技术负责人 in place of the enterprise's)
    # and every level's officials, each on the SMS channel, once on the group channel
    assert await rig.part.pusher.deliver_due() == 9 + 2
    people = receiver.on("/people")
    names = [r.json["recipient"]["name"] for r in people]
    assert set(names) == {"张三", "钱七", "王五", "吴军", "李海峰", "孙宏", "陈立新", "周建国",
                          "省厅值班室"}
    assert len(people) == 9
    for r in people:
        assert verify_signature(SECRET, r.headers, r.body, datetime.now(UTC).timestamp())
        assert r.json["type"] == "warning"
        assert r.json["warning"]["id"] == w.id
        assert r.json["subject"] == "【红色预警（重大）】响水某化工有限公司 液氯罐区"
        assert "请于" in r.json["text"]
    group = receiver.on("/group")
    assert len(group) == 1
    assert len(group[0].json["recipients"]) == 9
    assert len(receiver.on("/drill")) == 1  # a test channel takes real warnings too
    assert await rig.part.pusher.deliver_due() == 0  # nothing twice


async def test_raise_to_a_graver_level_keeps_the_one_warning(rig: Rig, receiver: Receiver
                                                             ) -> None:
    await rig.alarms.handle_signal(sig(tag=PT, rule="high", priority=Priority.HIGH,
                                       message="压力高"))
    rig.clock.advance(30)
    done = await rig.part.evaluate_once()
    (wid,) = done.opened
    assert (await rig.store.get(wid)).level is ORANGE  # type: ignore[union-attr]
    await rig.alarms.handle_signal(sig(ts=rig.clock.now))
    rig.clock.advance(10)
    done = await rig.part.evaluate_once()
    assert (done.opened, done.raised) == ([], [wid])
    w = await rig.store.get(wid)
    assert w is not None
    assert w.level is RED
    assert [r.code for r in w.reasons] == ["critical_unacked", "high_alarm_active"]
    assert [e.event for e in await rig.store.history(wid)] == ["opened", "raised"]
    # the raise is pushed as such
    await rig.part.pusher.deliver_due()
    events = [r.json["event"] for r in receiver.on("/group")]
    assert events == ["opened", "raised"]


async def test_overdue_escalates_to_the_city_then_the_province(rig: Rig, receiver: Receiver
                                                               ) -> None:
    await rig.alarms.handle_signal(sig(tag=PT, rule="high", priority=Priority.HIGH))
    rig.clock.advance(30)
    (wid,) = (await rig.part.evaluate_once()).opened
    await rig.part.pusher.deliver_due()
    before = len(receiver.on("/people"))
    rig.clock.advance(59)
    assert (await rig.part.evaluate_once()).overdue == []
    rig.clock.advance(1)
    assert (await rig.part.evaluate_once()).overdue == [wid]
    w = await rig.store.get(wid)
    assert w is not None
    assert (w.overdue, w.reviewer, w.escalations) == (True, Level.CITY, 1)
    assert w.deadline_ms == rig.clock.now + 60 * MINUTE
    await rig.part.pusher.deliver_due()
    told = receiver.on("/people")[before:]
    assert [r.json["recipient"]["name"] for r in told] == ["陈立新"]  # the city's official
    assert told[0].json["event"] == "overdue"
    assert "市级" in told[0].json["text"]
    rig.clock.advance(60)
    assert (await rig.part.evaluate_once()).overdue == [wid]
    w = await rig.store.get(wid)
    assert w is not None
    assert (w.reviewer, w.escalations) == (Level.PROVINCE, 2)
    rig.clock.advance(60)  # at the province: overdue for good, no further deadline
    assert (await rig.part.evaluate_once()).overdue == [wid]
    w = await rig.store.get(wid)
    assert w is not None
    assert (w.reviewer, w.deadline_ms) == (Level.PROVINCE, None)
    assert (await rig.part.evaluate_once()).overdue == []
    ev = [e.event for e in await rig.store.history(wid)]
    assert ev == ["opened", "overdue", "overdue", "overdue"]
    assert (await audit.verify_chain(rig.alarm_store.db)).ok


async def test_a_closed_warning_is_not_reopened_until_its_condition_cleared(rig: Rig) -> None:
    a = await rig.alarms.handle_signal(sig(tag=PT, rule="high", priority=Priority.HIGH))
    assert a is not None
    rig.clock.advance(30)
    (wid,) = (await rig.part.evaluate_once()).opened
    at = rig.clock.advance(5)
    await rig.part.engine.act(wid, FileFeedback(at, OWNER, feedback(at)))
    await rig.part.engine.act(wid, Accept(rig.clock.advance(1), COUNTY, "已核实"))
    rig.clock.advance(1)
    assert (await rig.part.evaluate_once()).opened == []  # still holds: latched
    await rig.alarms.handle_signal(sig("clear", tag=PT, rule="high", priority=Priority.HIGH,
                                       ts=rig.clock.advance(1)))
    await rig.part.evaluate_once()  # cleared once: the latch is let go
    assert await rig.store.latches() == {}
    await rig.alarms.handle_signal(sig(tag=PT, rule="high", priority=Priority.HIGH,
                                       ts=rig.clock.now))
    rig.clock.advance(30)
    (again,) = (await rig.part.evaluate_once()).opened
    assert again != wid


async def test_gateway_offline_and_duty_facts_make_an_enterprise_warning(rig: Rig) -> None:
    rig.gateways.status(ENT, "offline", T0)
    rig.duties.found.append(DutyFact(
        FactKind.COMMITMENT_MISSING, ENT, None, T0, key="2026-11-22",
        detail="2026-11-22 安全承诺未在10:00前报送", day=date(2026, 11, 22)))
    done = await rig.part.evaluate_once()
    (wid,) = done.opened
    w = await rig.store.get(wid)
    assert w is not None
    assert (w.hazard_source, w.level) == (None, YELLOW)
    assert [r.code for r in w.reasons] == ["duty_commitment_missing:2026-11-22"]
    assert w.reasons[0].text == "2026-11-22 安全承诺未在10:00前报送"
    rig.clock.advance(30)  # the gateway: 30 minutes offline on a tier-1 plant is orange
    done = await rig.part.evaluate_once()
    assert done.raised == [wid]
    w = await rig.store.get(wid)
    assert w is not None
    assert [r.code for r in w.reasons] == ["gateway_offline", "duty_commitment_missing:2026-11-22"]
    # a duty fact about a hazard source lands on that source, graded by the policy
    rig.duties.found.append(DutyFact(FactKind.DUTY_OVERDUE, ENT, "MHS-01", rig.clock.now,
                                     key="technical:2026Q4", detail="技术负责人季度排查逾期"))
    (src,) = (await rig.part.evaluate_once()).opened
    w = await rig.store.get(src)
    assert w is not None
    assert (w.hazard_source, w.level) == ("MHS-01", BLUE)


async def test_low_availability_over_a_day(rig: Rig) -> None:
    tags = (LT, PT, GD)
    for minute in range(0, 24 * 60 + 1, 60):  # hourly rounds: one sensor of three silent
        now = T0 + minute * MINUTE
        rig.clock.now = now
        for t in tags[:2]:
            rig.seen[(ENT, t)] = now
        done = await rig.part.evaluate_once()
        if minute < 24 * 60:
            assert done.opened == [], minute  # not a whole window observed yet
    got = {w.enterprise: w for w in await rig.store.open_warnings()}
    assert set(got) == {ENT, ENT2}  # the simulated plant's detector was never heard
    assert [r.code for r in got[ENT].reasons] == ["low_availability"]
    assert got[ENT].reasons[0].data["availability"] == pytest.approx(2 / 3)
    assert got[ENT2].reasons[0].data["availability"] == 0.0


async def test_the_red_warning_needs_its_onsite_check_before_closing(rig: Rig) -> None:
    await rig.alarms.handle_signal(sig())
    rig.clock.advance(10)
    (wid,) = (await rig.part.evaluate_once()).opened
    at = rig.clock.advance(5)
    await rig.part.engine.act(wid, FileFeedback(at, OWNER, feedback(at)))
    from hazmon.warnings.lifecycle import WarningRefused
    with pytest.raises(WarningRefused) as info:
        await rig.part.engine.act(wid, Accept(rig.clock.advance(1), COUNTY))
    assert info.value.code == "onsite_check_required"
    await rig.part.engine.act(wid, RecordOnsiteCheck(rig.clock.advance(1), COUNTY,
                                                     "现场液位计故障，已更换", ("孙宏", "吴军")))
    saved = await rig.part.engine.act(wid, Accept(rig.clock.advance(1), COUNTY))
    assert saved is not None
    assert saved.step.warning.state is WarningState.CLOSED
    actions = [e.action for e in await audit.entries(rig.alarm_store.db, alarm_id=wid)]
    assert actions == ["warning.opened", "warning.feedback_filed", "warning.onsite_checked",
                       "warning.accepted"]


async def test_a_simulated_plant_gets_warnings_marked_simulated_and_pushed_to_nobody(
        rig: Rig, receiver: Receiver) -> None:
    await rig.alarms.handle_signal(sig(enterprise=ENT2, hazard_source="MHS-02", tag=SIM_GD,
                                       simulated=True, category=Category.PROCESS))
    rig.clock.advance(10)
    (wid,) = (await rig.part.evaluate_once()).opened
    w = await rig.store.get(wid)
    assert w is not None
    assert (w.simulated, w.level) == (True, RED)
    assert await rig.store.pushes(wid) == []  # held back: nobody real is told
    (opened,) = await rig.store.history(wid)
    assert opened.data["push"]["held_back"] == "simulated"
    rig.clock.advance(30)
    assert (await rig.part.evaluate_once()).overdue == [wid]  # escalation: held back too
    assert await rig.store.pushes(wid) == []
    await rig.part.pusher.deliver_due()
    assert receiver.requests == []


async def test_a_drill_reaches_only_the_test_channels(tmp_path: object, receiver: Receiver
                                                      ) -> None:
    policy = tmp_path / "policy.yaml"  # type: ignore[operator]
    policy.write_text("push_simulated: true\n", encoding="utf-8")
    rig = await make_rig(f"sqlite:///{tmp_path}/alarms.db", receiver, policy_file=str(policy))
    try:
        await rig.alarms.handle_signal(sig(enterprise=ENT2, hazard_source="MHS-02",
                                           tag=SIM_GD, simulated=True))
        rig.clock.advance(10)
        (wid,) = (await rig.part.evaluate_once()).opened
        pushes = await rig.store.pushes(wid)
        assert {p.channel for p in pushes} == {"drill"}
        assert all(p.simulated for p in pushes)
        await rig.part.pusher.deliver_due()
        assert receiver.on("/people") == [] and receiver.on("/group") == []  # noqa: PT018
        (drill,) = receiver.on("/drill")
        assert drill.json["subject"].startswith("【演练】")
    finally:
        await rig.close()


async def test_pushes_are_retried_and_survive_a_restart(tmp_path: object, receiver: Receiver
                                                        ) -> None:
    url = f"sqlite:///{tmp_path}/alarms.db"
    receiver.script["/group"] = [503, 503]
    rig = await make_rig(url, receiver)
    try:
        await rig.alarms.handle_signal(sig())
        rig.clock.advance(10)
        (wid,) = (await rig.part.evaluate_once()).opened
        await rig.part.pusher.deliver_due()
        group = [p for p in await rig.store.pushes(wid) if p.channel == "county-robot"]
        assert [(p.status, p.attempts) for p in group] == [(PushStatus.PENDING, 1)]
        assert group[0].due_at_ms == rig.clock.now + 30_000
        now = rig.clock.now
    finally:
        await rig.close()
    from tests.clock import FakeClock
    rig = await make_rig(url, receiver, clock=FakeClock(now))  # the restart
    try:
        assert [w.id for w in await rig.store.open_warnings()] == [wid]
        assert await rig.part.pusher.deliver_due() == 0  # not due yet
        rig.clock.advance(ms=30_000)
        assert await rig.part.pusher.deliver_due() == 0  # the second 503: again in 60 s
        rig.clock.advance(ms=60_000)
        assert await rig.part.pusher.deliver_due() == 1
        (p,) = [p for p in await rig.store.pushes(wid) if p.channel == "county-robot"]
        assert (p.status, p.attempts) == (PushStatus.SENT, 3)
        assert len(receiver.on("/group")) == 3  # the same message each time
        assert len({r.headers["X-Hazmon-Delivery"] for r in receiver.on("/group")}) == 1
        # and the restart did not open the warning a second time
        assert (await rig.part.evaluate_once()).opened == []
    finally:
        await rig.close()
