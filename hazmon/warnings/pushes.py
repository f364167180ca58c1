"""The pushes a warning step asks for: whom (`targets.push_plan` / `escalation_plan`),
on which channels, with what text.

An opening or a raise goes to the policy's targets for the level and tier (the 包保
chain and the regulator levels); an overdue step to the officials of the new reviewing
level. Each person gets one message on each *people* channel (SMS by phone, ...); each
*group* channel (a WeCom / DingTalk group robot, a centre's webhook) gets one message
per step naming everyone. A simulated enterprise's plan is empty (held back) unless the
policy allows drills, and then only test channels carry it; the pusher checks that
again before it sends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hazmon.domain.regions import Level, Regions
from hazmon.domain.registry import Registry
from hazmon.warnings.chain import resolve_chain
from hazmon.warnings.lifecycle import EarlyWarning, Step
from hazmon.warnings.policy import WarningPolicy
from hazmon.warnings.store import NewPush
from hazmon.warnings.targets import PushPlan, Recipient, escalation_plan, push_plan

PUSHED_EVENTS = frozenset({"opened", "raised", "overdue"})
_CST = timezone(timedelta(hours=8), "CST")  # the duty officers read Beijing time
_LEVEL_NAMES = {Level.CELL: "乡镇（街道）/园区", Level.COUNTY: "县级", Level.CITY: "市级",
                Level.PROVINCE: "省级"}


def beijing(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(_CST).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class PushChannels:
    people: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    test: frozenset[str] = frozenset()  # the channels marked `test` (drill receivers)


def recipient_record(r: Recipient) -> dict[str, Any]:
    return {"kind": r.kind.value, "role": r.role, "name": r.name, "phone": r.phone,
            "email": r.email, "unit": r.unit, "duty": r.duty}


def message_text(step: Step, enterprise_name: str) -> tuple[str, str]:
    """(subject, text) in Chinese for the step's push."""
    w, e = step.warning, step.event
    where = enterprise_name if w.hazard_source is None else f"{enterprise_name} {w.name}"
    sim = "【演练】" if w.simulated else ""
    match e.event:
        case "raised":
            head = f"预警升级为{w.level.label}"
        case "overdue":
            head = f"预警逾期未反馈，已提交{_LEVEL_NAMES[w.reviewer]}监管部门审核"
        case _:
            head = f"新{w.level.label}"
    subject = f"{sim}【{w.level.label}】{where}"
    lines = [f"{sim}{head}：{where}", *(f"· {r.text}" for r in w.reasons[:5])]
    if len(w.reasons) > 5:
        lines.append(f"· 等{len(w.reasons)}项原因")
    if w.deadline_ms is not None:
        lines.append(f"请于{beijing(w.deadline_ms)}前提交处置反馈。")
    lines.append(f"预警编号 {w.id}")
    return subject, "\n".join(lines)


def warning_summary(w: EarlyWarning) -> dict[str, Any]:
    return {"id": w.id, "enterprise": w.enterprise, "hazard_source": w.hazard_source,
            "name": w.name, "region": w.region, "tier": w.tier, "level": w.level.value,
            "level_label": w.level.label, "state": w.state.value, "overdue": w.overdue,
            "reviewer": w.reviewer.value, "deadline_ms": w.deadline_ms,
            "simulated": w.simulated,
            "reasons": [{"code": r.code, "text": r.text} for r in w.reasons]}


class PushPlanner:
    """Turns a step into its plan and its pushes; `registry` and `regions` are read at
    each step (the registry is swapped on reload)."""

    def __init__(self, policy: WarningPolicy, registry: Callable[[], Registry],
                 regions: Regions | None, channels: PushChannels) -> None:
        self.policy = policy
        self.registry = registry
        self.regions = regions
        self.channels = channels

    def plan(self, step: Step) -> PushPlan | None:
        w, e = step.warning, step.event
        if e.event not in PUSHED_EVENTS:
            return None
        place = (self.regions.enterprise_place(w.enterprise, w.region)
                 if self.regions is not None else None)
        if e.event == "overdue":
            if e.data.get("escalated_to") is None:
                return None  # at the province already: marked overdue, nobody new to tell
            return escalation_plan(self.policy, w.level, w.reviewer, place,
                                   simulated=w.simulated)
        ent = self.registry().enterprises.get(w.enterprise)
        ent_contacts = ent.contacts if ent is not None else []
        hs = next((h for h in ent.hazard_sources if h.code == w.hazard_source), None) \
            if ent is not None else None
        chain = resolve_chain(ent_contacts, hs.contacts if hs is not None else [])
        return push_plan(self.policy, w.level, w.tier, chain=chain, place=place,
                         simulated=w.simulated)

    def pushes(self, step: Step) -> tuple[Step, list[NewPush]]:
        """The step with its plan summarised in the event's data, and its pushes."""
        plan = self.plan(step)
        if plan is None:
            return step, []
        w = step.warning
        summary: dict[str, Any] = {
            "recipients": [recipient_record(r) for r in plan.recipients],
            "unreached": list(plan.unreached), "held_back": plan.held_back}
        step = Step(w, replace(step.event, data={**step.event.data, "push": summary}))
        if plan.held_back is not None or not plan.recipients:
            return step, []
        ent = self.registry().enterprises.get(w.enterprise)
        subject, text = message_text(step, ent.name if ent is not None else w.enterprise)
        base: Mapping[str, Any] = {"event": step.event.event, "seq": step.event.seq,
                                   "subject": subject, "text": text,
                                   "warning": warning_summary(w)}
        out: list[NewPush] = []
        for channel in self._usable(self.channels.people, w.simulated):
            for r in plan.recipients:
                rec = recipient_record(r)
                out.append(NewPush(channel, rec, {**base, "recipient": rec},
                                   f"{r.kind.value}:{r.role}:{r.phone}"))
        everyone = [recipient_record(r) for r in plan.recipients]
        for channel in self._usable(self.channels.groups, w.simulated):
            group = {"kind": "group", "channel": channel, "level": w.reviewer.value,
                     "region": w.region}
            out.append(NewPush(channel, group, {**base, "recipients": everyone}, "group"))
        return step, out

    def _usable(self, names: Sequence[str], simulated: bool) -> list[str]:
        return [n for n in names if not simulated or n in self.channels.test]
