"""The ISA-18.2 state machine, exhaustively: every (state, event) pair."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hazmon.alerts import AlarmState, TransitionRefused
from hazmon.alerts.lifecycle import (
    EVENT_TYPES,
    Ack,
    Alarm,
    Clear,
    Comment,
    Escalate,
    Event,
    Raise,
    RemoveFromService,
    ReturnToService,
    Shelve,
    ShelveExpire,
    Suppress,
    Unshelve,
    Unsuppress,
    Update,
    apply,
    new_alarm,
)
from hazmon.domain.signal import Category, Priority
from tests.alerts.support import ENT, HS, MINUTE, T0, TAG

N, UA, AA, RTN = (AlarmState.NORMAL, AlarmState.UNACK_ACTIVE, AlarmState.ACK_ACTIVE,
                  AlarmState.UNACK_RTN)
T = T0 + MINUTE


def fresh() -> Alarm:
    return new_alarm("01TEST", enterprise=ENT, hazard_source=HS, tag=TAG, rule="high_high",
                     category=Category.PROCESS, priority=Priority.HIGH)


def run(alarm: Alarm, *events: Event) -> Alarm:
    for e in events:
        alarm = apply(alarm, e).alarm
    return alarm


def in_state(name: str) -> Alarm:
    raised = run(fresh(), Raise(T0, 10.6, 10.5, "high"))
    return {
        "fresh": fresh(),
        "unack_active": raised,
        "ack_active": run(raised, Ack(T0 + 1, "op")),
        "unack_rtn": run(raised, Clear(T0 + 1, 9.0)),
        "closed": run(raised, Clear(T0 + 1, 9.0), Ack(T0 + 2, "op")),
    }[name]


# one valid instance of every event kind
EVENTS: dict[str, Event] = {
    "raise": Raise(T, 10.7, 10.5, "again"),
    "update": Update(T, 10.8),
    "clear": Clear(T, 9.1),
    "ack": Ack(T, "user:li", "seen"),
    "shelve": Shelve(T, "user:li", 30, "sensor being calibrated"),
    "unshelve": Unshelve(T, "user:li"),
    "shelve_expire": ShelveExpire(T),
    "suppress": Suppress(T, "user:li", "unit shut down"),
    "unsuppress": Unsuppress(T, "user:li"),
    "remove_from_service": RemoveFromService(T, "user:li", "maintenance"),
    "return_to_service": ReturnToService(T, "user:li"),
    "comment": Comment(T, "user:li", "called the plant"),
    "escalate": Escalate(T, 1, "operational"),
}

R = "refused"
# (state, event) -> next state, or (R, reason). Overlay events leave the main state alone.
TABLE: dict[str, dict[str, object]] = {
    "fresh": {e: (R, "alarm has not been raised") for e in EVENTS} | {"raise": UA},
    "unack_active": {
        "raise": (R, "already active"), "update": UA, "clear": RTN, "ack": AA,
        "shelve": UA, "unshelve": (R, "not shelved"), "shelve_expire": (R, "not shelved"),
        "suppress": UA, "unsuppress": (R, "not suppressed"), "remove_from_service": UA,
        "return_to_service": (R, "not out of service"), "comment": UA, "escalate": UA,
    },
    "ack_active": {
        "raise": (R, "already active"), "update": AA, "clear": N,
        "ack": (R, "already acknowledged"), "shelve": AA, "unshelve": (R, "not shelved"),
        "shelve_expire": (R, "not shelved"), "suppress": AA,
        "unsuppress": (R, "not suppressed"), "remove_from_service": AA,
        "return_to_service": (R, "not out of service"), "comment": AA,
        "escalate": (R, "already acknowledged"),
    },
    "unack_rtn": {
        "raise": UA, "update": (R, "not active"), "clear": (R, "already cleared"), "ack": N,
        "shelve": RTN, "unshelve": (R, "not shelved"), "shelve_expire": (R, "not shelved"),
        "suppress": RTN, "unsuppress": (R, "not suppressed"), "remove_from_service": RTN,
        "return_to_service": (R, "not out of service"), "comment": RTN, "escalate": RTN,
    },
    "closed": {e: (R, "occurrence is closed") for e in EVENTS} | {"comment": N},
}


def test_table_covers_every_event_kind() -> None:
    assert {type(e) for e in EVENTS.values()} == set(EVENT_TYPES)
    for row in TABLE.values():
        assert set(row) == set(EVENTS)


@pytest.mark.parametrize(
    ("state", "event"), [(s, e) for s in TABLE for e in EVENTS], ids=lambda v: str(v)
)
def test_every_state_event_pair(state: str, event: str) -> None:
    alarm = in_state(state)
    expected = TABLE[state][event]
    if isinstance(expected, tuple):
        with pytest.raises(TransitionRefused) as info:
            apply(alarm, EVENTS[event])
        assert info.value.reason == expected[1]
        assert info.value.event == EVENTS[event].name
    else:
        step = apply(alarm, EVENTS[event])
        assert step.alarm.state is expected
        assert step.entry.from_state is alarm.state
        assert step.entry.to_state is expected
        assert step.entry.seq == alarm.history_len + 1
        assert step.alarm.history_len == step.entry.seq
        assert step.entry.ts_ms == T


def test_closing_transitions_mark_the_occurrence_closed() -> None:
    acked = in_state("ack_active")
    step = apply(acked, Clear(T, 9.0))
    assert step.alarm.is_closed
    assert step.entry.closed
    assert not step.alarm.is_open
    rtn = in_state("unack_rtn")
    step = apply(rtn, Ack(T, "user:li"))
    assert step.alarm.is_closed
    assert step.entry.closed
    assert step.alarm.acked_by == "user:li"
    # a comment after closing is recorded but does not claim to close it again
    assert not apply(step.alarm, Comment(T + 1, "user:li", "root cause: valve")).entry.closed


def test_reactivation_keeps_the_occurrence() -> None:
    rtn = in_state("unack_rtn")
    step = apply(rtn, Raise(T, 10.9, 10.5))
    assert step.alarm.id == rtn.id
    assert step.alarm.activations == 2
    assert step.alarm.raised_at_ms == T0
    assert step.alarm.active_at_ms == T
    assert step.alarm.cleared_at_ms is None
    assert step.entry.event == "raised"
    assert step.entry.data["reactivated"] is True


@pytest.mark.parametrize(
    ("minutes", "reason", "why"),
    [
        (0, "calibration", "shelve duration must be 1–1440 minutes"),
        (1441, "calibration", "shelve duration must be 1–1440 minutes"),
        (-5, "calibration", "shelve duration must be 1–1440 minutes"),
        (30, "", "shelve needs a reason"),
        (30, "   ", "shelve needs a reason"),
    ],
)
def test_shelve_validation(minutes: int, reason: str, why: str) -> None:
    with pytest.raises(TransitionRefused) as info:
        apply(in_state("unack_active"), Shelve(T, "user:li", minutes, reason))
    assert info.value.reason == why


@pytest.mark.parametrize("minutes", [1, 1440])
def test_shelve_limits_are_inclusive(minutes: int) -> None:
    a = apply(in_state("unack_active"), Shelve(T, "user:li", minutes, "ok")).alarm
    assert a.shelved is not None
    assert a.shelved.until_ms == T + minutes * MINUTE


def test_shelve_records_who_when_why_and_expires_only_at_its_time() -> None:
    a = apply(in_state("unack_active"), Shelve(T, "user:li", 30, "calibration")).alarm
    assert a.shelved is not None
    assert (a.shelved.by, a.shelved.at_ms, a.shelved.reason) == ("user:li", T, "calibration")
    assert a.quiet_reason == "shelved"
    with pytest.raises(TransitionRefused, match="already shelved"):
        apply(a, Shelve(T + 1, "user:wang", 10, "again"))
    with pytest.raises(TransitionRefused, match="has not expired"):
        apply(a, ShelveExpire(T + 30 * MINUTE - 1))
    step = apply(a, ShelveExpire(T + 30 * MINUTE))
    assert step.alarm.shelved is None
    assert step.entry.event == "shelve_expired"
    assert step.entry.actor == "system:shelve-timer"
    assert step.entry.data["was"]["by"] == "user:li"


def test_overlays_are_independent_and_each_needs_a_reason() -> None:
    a = in_state("unack_active")
    with pytest.raises(TransitionRefused, match="suppression needs a reason"):
        apply(a, Suppress(T, "user:li", " "))
    with pytest.raises(TransitionRefused, match="removal from service needs a reason"):
        apply(a, RemoveFromService(T, "user:li", ""))
    a = run(a, Suppress(T, "user:li", "shut down"), RemoveFromService(T, "user:wang", "pm"),
            Shelve(T, "user:zhao", 10, "noise"))
    assert a.quiet_reason == "out_of_service"  # the strongest hold is named
    a = run(a, ReturnToService(T, "user:wang"))
    assert a.quiet_reason == "suppressed"
    with pytest.raises(TransitionRefused, match="already suppressed"):
        apply(a, Suppress(T, "user:li", "again"))
    a = run(a, Unsuppress(T, "user:li"), Unshelve(T, "user:zhao"))
    assert a.quiet_reason is None
    # the process condition is tracked under an overlay
    a = run(a, Suppress(T, "user:li", "shut down"), Clear(T + 1), Ack(T + 2, "user:li"))
    assert a.is_closed


@pytest.mark.parametrize(
    "event",
    [Ack(T, " "), Shelve(T, "", 10, "x"), Comment(T, "", "x")],
    ids=["ack", "shelve", "comment"],
)
def test_an_actor_is_required(event: Event) -> None:
    with pytest.raises(TransitionRefused, match="an actor is required"):
        apply(in_state("unack_active"), event)


def test_comment_validation() -> None:
    with pytest.raises(TransitionRefused, match="comment needs text"):
        apply(in_state("unack_active"), Comment(T, "user:li", "  "))
    with pytest.raises(TransitionRefused, match="longer than 2000"):
        apply(in_state("unack_active"), Comment(T, "user:li", "x" * 2001))


def test_history_sequence_runs_through_an_occurrence() -> None:
    a = fresh()
    events: list[Event] = [Raise(T0, 10.6), Update(T0 + 1, 10.7),
                           Shelve(T0 + 2, "u", 5, "r"), Comment(T0 + 3, "u", "c"),
                           Clear(T0 + 4), Raise(T0 + 5, 10.8), Ack(T0 + 6, "u"),
                           Clear(T0 + 7)]
    entries = []
    for e in events:
        step = apply(a, e)
        a = step.alarm
        entries.append(step.entry)
    assert [e.seq for e in entries] == list(range(1, 9))
    assert [e.event for e in entries] == ["raised", "updated", "shelved", "commented",
                                          "cleared", "raised", "acknowledged", "cleared"]
    assert a.is_closed
    assert a.updated_at_ms == T0 + 7


def test_apply_is_pure() -> None:
    a = in_state("unack_active")
    before = replace(a)
    apply(a, Ack(T, "u"))
    assert a == before
