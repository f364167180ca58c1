"""Warnings and events survive a JSON round trip exactly (what the store will rely on)."""

from __future__ import annotations

import json

from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import (
    Accept,
    FileFeedback,
    MarkOverdue,
    RecordOnsiteCheck,
    Return,
    apply,
    open_warning,
)
from hazmon.warnings.records import (
    event_from_record,
    event_to_record,
    from_record,
    to_record,
)
from tests.clock import MINUTE, T0
from tests.warnings.test_warning_lifecycle import (
    CITY,
    OWNER,
    POLICY,
    assessment,
    feedback,
)


def test_every_step_of_a_warnings_life_round_trips_through_json() -> None:
    step = open_warning("W1", assessment(WarningLevel.RED, "a", "b"), POLICY, T0)
    steps = [step]
    for act in (
        MarkOverdue(T0 + 30 * MINUTE),
        FileFeedback(T0 + 40 * MINUTE, OWNER, feedback()),
        Return(T0 + 50 * MINUTE, CITY, "补充措施"),
        FileFeedback(T0 + 60 * MINUTE, OWNER, feedback()),
        RecordOnsiteCheck(T0 + 70 * MINUTE, CITY, "现场已处置", ("陈立新",)),
        Accept(T0 + 80 * MINUTE, CITY, "同意"),
    ):
        step = apply(step.warning, act, POLICY)
        steps.append(step)
    for s in steps:
        w = json.loads(json.dumps(to_record(s.warning), ensure_ascii=False))
        assert from_record(w) == s.warning
        e = json.loads(json.dumps(event_to_record(s.event), ensure_ascii=False))
        assert event_from_record(e) == s.event
    assert to_record(steps[-1].warning)["state"] == "closed"
    assert [s.event.event for s in steps] == [
        "opened", "overdue", "feedback_filed", "returned", "feedback_filed", "onsite_checked",
        "accepted"]
