"""Warnings and their events as JSON-typed dicts, for the store and the audit chain.

A round trip is exact (`from_record(to_record(w)) == w`), so a restart keeps a warning's
state, deadline, reviewer and feedback as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hazmon.domain.regions import Level
from hazmon.warnings.evaluate import Reason
from hazmon.warnings.feedback import DisposalFeedback
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import (
    ActorKind,
    EarlyWarning,
    OnsiteCheck,
    WarningEvent,
    WarningState,
)


def reason_to_record(r: Reason) -> dict[str, Any]:
    return {"code": r.code, "kind": r.kind, "level": r.level.value, "text": r.text,
            "alarm_ids": list(r.alarm_ids), "data": dict(r.data)}


def reason_from_record(d: Mapping[str, Any]) -> Reason:
    return Reason(d["code"], d["kind"], WarningLevel(d["level"]), d["text"],
                  tuple(d.get("alarm_ids", ())), dict(d.get("data", {})))


def to_record(w: EarlyWarning) -> dict[str, Any]:
    check = w.onsite_check
    return {
        "id": w.id, "enterprise": w.enterprise, "hazard_source": w.hazard_source,
        "name": w.name, "region": w.region, "tier": w.tier, "level": w.level.value,
        "reasons": [reason_to_record(r) for r in w.reasons],
        "opened_at_ms": w.opened_at_ms, "reviewer": w.reviewer.value,
        "state": w.state.value, "deadline_ms": w.deadline_ms, "overdue": w.overdue,
        "escalations": w.escalations, "returns": w.returns,
        "feedback": w.feedback.to_record() if w.feedback is not None else None,
        "onsite_check": None if check is None else {
            "by": check.by, "at_ms": check.at_ms, "inspectors": list(check.inspectors),
            "findings": check.findings},
        "closed_at_ms": w.closed_at_ms, "closed_by": w.closed_by,
        "simulated": w.simulated, "history_len": w.history_len,
    }


def from_record(d: Mapping[str, Any]) -> EarlyWarning:
    fb, check = d.get("feedback"), d.get("onsite_check")
    return EarlyWarning(
        id=d["id"], enterprise=d["enterprise"], hazard_source=d["hazard_source"],
        name=d["name"], region=d["region"], tier=d["tier"], level=WarningLevel(d["level"]),
        reasons=tuple(reason_from_record(r) for r in d["reasons"]),
        opened_at_ms=d["opened_at_ms"], reviewer=Level(d["reviewer"]),
        state=WarningState(d["state"]), deadline_ms=d["deadline_ms"], overdue=d["overdue"],
        escalations=d["escalations"], returns=d["returns"],
        feedback=DisposalFeedback.model_validate(fb) if fb is not None else None,
        onsite_check=None if check is None else OnsiteCheck(
            check["by"], check["at_ms"], tuple(check["inspectors"]), check["findings"]),
        closed_at_ms=d["closed_at_ms"], closed_by=d["closed_by"],
        simulated=d["simulated"], history_len=d["history_len"],
    )


def event_to_record(e: WarningEvent) -> dict[str, Any]:
    return {
        "warning_id": e.warning_id, "seq": e.seq, "at_ms": e.at_ms, "event": e.event,
        "actor": e.actor, "actor_kind": e.actor_kind.value,
        "from_state": e.from_state.value if e.from_state is not None else None,
        "to_state": e.to_state.value, "data": dict(e.data),
    }


def event_from_record(d: Mapping[str, Any]) -> WarningEvent:
    return WarningEvent(
        d["warning_id"], d["seq"], d["at_ms"], d["event"], d["actor"],
        ActorKind(d["actor_kind"]),
        WarningState(d["from_state"]) if d["from_state"] is not None else None,
        WarningState(d["to_state"]), dict(d["data"]),
    )
