"""Simulated plants doing their daily duties through the API, with a simulator token: the
day's safety commitment (安全承诺) and the answers to roll calls (值班点名).

Each enterprise follows a plan: `prompt` does a duty at once, `late` only after its
deadline has passed (the commitment after 10:00, the answer after the call's deadline),
`missing` never. `demo_plans` gives the demo a mix, so the regulator's day list shows
filed, late and missing commitments and the roll calls answered, late and missed within
minutes. One plant declares a hazard source stopped (停车), which suppresses its process
alarms by design.

Only the API is used (no hazmon.duties import): the drill is a client like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as wall_time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import httpx

log = logging.getLogger(__name__)

LATE_BY = timedelta(minutes=1)  # how long after the deadline a late plant files


class DutyProfile(StrEnum):
    PROMPT = "prompt"
    LATE = "late"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class DutyPlan:
    commitment: DutyProfile = DutyProfile.PROMPT
    roll_call: DutyProfile = DutyProfile.PROMPT
    stopped: tuple[str, ...] = ()  # hazard sources declared 停车 in the commitment


def demo_plans(codes: Sequence[str]) -> dict[str, DutyPlan]:
    """Most plants prompt; the last three: one late, one missing, one that stops a source
    and answers late. (The first plants carry the alarm scenarios; they stay prompt.)"""
    plans = {c: DutyPlan() for c in codes}
    if len(codes) >= 4:
        plans[codes[-1]] = DutyPlan(DutyProfile.MISSING, DutyProfile.MISSING)
        plans[codes[-2]] = DutyPlan(DutyProfile.LATE, DutyProfile.LATE)
        plans[codes[-3]] = DutyPlan(DutyProfile.PROMPT, DutyProfile.LATE, ("MHS-01",))
    return plans


def commitment_form(enterprise: Mapping[str, Any], day: date, plan: DutyPlan,
                    now: datetime) -> dict[str, Any]:
    """The form of a day's commitment for one registry enterprise (its data as in the
    registry file), every source running except those the plan stops."""
    sources = []
    for hs in enterprise.get("hazard_sources", []):
        code = str(hs["code"])
        s: dict[str, Any] = {"code": code, "run_state": "running", "baobao_in_place": True}
        if code in plan.stopped:
            s.update(run_state="stopped", reason="计划停车检修(演练)",
                     expected_end=(now + timedelta(days=2)).isoformat(timespec="seconds"))
        sources.append(s)
    stopped = sum(1 for s in sources if s["run_state"] == "stopped")
    contacts = {c.get("role"): c for c in enterprise.get("contacts", [])}
    principal = contacts.get("principal") or {"name": "主要负责人"}
    leader = contacts.get("operational") or contacts.get("principal") or {}
    return {
        "day": day.isoformat(),
        "units": {"total": len(sources), "running": len(sources) - stopped,
                  "stopped": stopped},
        "special_works": {"hot_work_2": 1, "confined_space": 1} if stopped else {},
        "hazard_sources": sources,
        "major_hidden_danger": False,
        "risk_grade": "general",
        "committer": str(principal.get("name") or "主要负责人")[:32],
        "duty_leader": {"name": str(leader.get("name") or "值班领导")[:32],
                        "phone": str(leader.get("phone") or "+8613800000000")},
        "confirmed": True,
    }


@dataclass
class DutyDrill:
    """`await DutyDrill(api_url, token, registry_data, plans).run()` until cancelled."""

    api_url: str
    token: str
    registry: Mapping[str, Any]  # the registry file's data
    plans: Mapping[str, DutyPlan]
    poll_s: float = 2.0
    clock: Callable[[], float] = time.time
    filed: set[tuple[str, date]] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=lambda: {"filed": 0, "answered": 0})

    async def run(self) -> None:
        async with httpx.AsyncClient(base_url=self.api_url, timeout=10.0,
                                     headers={"Authorization": f"Bearer {self.token}"}) as http:
            while True:
                try:
                    await self.step(http)
                except (httpx.HTTPError, KeyError, ValueError) as exc:
                    log.info("duty drill: %s (retrying)", exc)
                await asyncio.sleep(self.poll_s)

    async def step(self, http: httpx.AsyncClient) -> None:
        labels = (await http.get("/api/v1/duties/labels")).raise_for_status().json()
        zone = ZoneInfo(labels["timezone"])
        now = datetime.fromtimestamp(self.clock(), zone)
        hh, mm = (int(x) for x in labels["deadline"].split(":"))
        # a late plant files a minute after the deadline: at the deadline's own second the
        # page would show it filed "at 10:00:00" and late, which reads as a mistake
        past_deadline = now >= datetime.combine(now.date(), wall_time(hh, mm), zone) + LATE_BY
        for ent in self.registry.get("enterprises", []):
            code = str(ent["code"])
            plan = self.plans.get(code)
            if plan is None or (code, now.date()) in self.filed:
                continue
            if plan.commitment is DutyProfile.MISSING or (
                    plan.commitment is DutyProfile.LATE and not past_deadline):
                continue
            r = await http.post(f"/api/v1/enterprises/{code}/commitments",
                                json=commitment_form(ent, now.date(), plan, now))
            if r.status_code in (201, 409):
                self.filed.add((code, now.date()))
                self.counts["filed"] += r.status_code == 201
            else:
                log.warning("duty drill: commitment of %s refused: %s", code, r.text[:300])
                self.filed.add((code, now.date()))  # do not retry a refused form each poll
        await self.answer_calls(http)

    async def answer_calls(self, http: httpx.AsyncClient) -> None:
        calls = (await http.get("/api/v1/roll-calls", params={"status": "waiting",
                                                              "since_days": 1})).json()
        late = (await http.get("/api/v1/roll-calls", params={"status": "missed",
                                                             "since_days": 1})).json()
        for c in [*calls, *late]:
            plan = self.plans.get(c["enterprise"])
            if plan is None or c["id"] in self.answered:
                continue
            wanted = (plan.roll_call is DutyProfile.PROMPT and c["status"] == "waiting") or (
                plan.roll_call is DutyProfile.LATE and c["status"] == "missed")
            if not wanted:
                continue
            with contextlib.suppress(httpx.HTTPError):
                r = await http.post(f"/api/v1/roll-calls/{c['id']}/answer")
                if r.status_code == 200:
                    self.answered.add(c["id"])
                    self.counts["answered"] += 1
