"""The duties' clockwork in the service: every `duties.check_s` (and at once after a change
filed through the API) it draws the day's patrol sample, makes the scheduled roll calls
that are due, and reads a snapshot of the duty store, from which `facts(now_ms)` answers.

`DutyLoop` is the facts object the warning loop takes (its `DutyFactsSource` protocol):

    facts(now_ms: int) -> Sequence[DutyFact]

synchronous and cheap (pure over the snapshot), so the warning loop may call it as often
as it evaluates. The facts include every deadline passed by `now_ms` even between two
reads: missing commitments of today and yesterday, late ones, sources stopped past their
expected end or declared running while their gateway sends nothing, overdue 包保 duties
and hidden dangers, roll calls missed or answered late. Each has a stable `key`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date

import orjson

from hazmon.core.clock import Clock, rfc3339
from hazmon.domain.registry import Registry
from hazmon.duties import findings, rollcall
from hazmon.duties.facts import DutyFact
from hazmon.duties.findings import Snapshot
from hazmon.duties.rollcall import RollCall
from hazmon.duties.service import DutyService
from hazmon.duties.settings import DutiesSettings
from hazmon.ingest.gateways import GatewayTracker
from hazmon.ingest.topics import Channel, topic_for

log = logging.getLogger(__name__)

SCHEDULE_ACTOR = "system:schedule"
MISSED_SLOT_MS = 120_000  # a scheduled call later than this after its time is skipped


def silence_of(tracker: GatewayTracker, registry: Callable[[], Registry], started_ms: int,
               silence_ms: int) -> Callable[[int], frozenset[str]]:
    """now_ms -> the enterprises whose gateway has sent nothing for `silence_ms` (or said it
    is offline). A gateway never heard from counts from `started_ms`, so a fresh start
    flags nobody before the silence has lasted."""

    def silent(now_ms: int) -> frozenset[str]:
        out = set()
        for code in registry().enterprises:
            gw = tracker.gateways.get(code)
            offline = gw is not None and gw.state == "offline"
            last = gw.last_seen_ms if gw is not None and gw.last_seen_ms is not None else (
                started_ms)
            if offline or now_ms - last > silence_ms:
                out.add(code)
        return frozenset(out)

    return silent


async def _no_warnings() -> Mapping[str, int]:
    return {}  # without the warning part no warning weighs the patrol sample


class DutyLoop:
    def __init__(self, duties: DutyService, registry: Callable[[], Registry], clock: Clock,
                 settings: DutiesSettings) -> None:
        self.duties = duties
        self.registry = registry
        self.clock = clock
        self.settings = settings
        self.snapshot: Snapshot | None = None
        self._wake = asyncio.Event()
        self._drawn: date | None = None
        self._reconciled = False
        self._seen: set[str] = set()  # fact keys logged once
        # enterprise -> its warnings of the last `patrol.recent_warning_days` (the warning
        # store plugs in here); weights the day's patrol sample toward them.
        self.recent_warnings: Callable[[], Awaitable[Mapping[str, int]]] = _no_warnings
        duties.listeners.append(self._wake.set)

    # --- the facts object ----------------------------------------------------------------

    def facts(self, now_ms: int) -> Sequence[DutyFact]:
        """The duty facts true at `now_ms` (empty until the first check, or disabled)."""
        if not self.settings.enabled or self.snapshot is None:
            return ()
        return findings.facts(self.snapshot, now_ms, self.duties.config)

    # --- the loop --------------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # a failed check is retried at the next; the service goes on
                log.exception("duties: check failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.check_s):
                    await self._wake.wait()
            self._wake.clear()

    async def check(self, now_ms: int | None = None) -> list[DutyFact]:
        """One round; returns the facts true now (also logged once per key)."""
        now = self.clock() if now_ms is None else now_ms
        if not self._reconciled:  # a restart or a crash between a change and its hold
            changed = await self.duties.reconcile_holds()
            self._reconciled = True
            if changed:
                log.info("duties: %d holds made to match the run states", changed)
        today = self.duties.today(now)
        if self._drawn != today:
            await self.duties.draw_patrols(self.registry(), today,
                                           dict(await self.recent_warnings()))
            self._drawn = today
        await self.scheduled_calls(today, now)
        self.snapshot = await self.duties.snapshot(now)
        out = findings.facts(self.snapshot, now, self.duties.config)
        for f in out:
            if f.key + f.enterprise not in self._seen:
                self._seen.add(f.key + f.enterprise)
                log.info("duties: %s %s: %s", f.enterprise, f.kind.value, f.detail)
        return out

    async def scheduled_calls(self, day: date, now_ms: int) -> int:
        """Make the day's scheduled roll calls whose time has come (each once, kept in the
        store across restarts): a sample of each county. Returns the calls made.

        A time that passed more than `MISSED_SLOT_MS` ago (the service was down, or not yet
        started) is skipped, not made late: a surprise call hours after its time would be
        one the schedule did not draw."""
        cfg = self.duties.config.roll_call
        if cfg.daily_calls == 0:
            return 0
        store = self.duties.store
        seed = int(await store.set_mark(f"schedule_seed:{day.isoformat()}",
                                        str(self.duties.sample_seed(f"schedule:{day}")),
                                        keep=True))
        made = 0
        for i, at in enumerate(rollcall.schedule(day, seed, self.duties.config)):
            name = f"schedule_done:{day.isoformat()}:{i}"
            if at > now_ms or await store.mark(name) is not None:
                continue
            await store.set_mark(name, str(now_ms))
            if at < now_ms - max(MISSED_SLOT_MS, int(2 * self.settings.check_s * 1000)):
                log.info("duties: scheduled roll call %d of %s skipped (its time passed "
                         "while the service was not running)", i + 1, day)
                continue
            by_county: dict[str, list[str]] = {}
            for code, e in self.registry().enterprises.items():
                by_county.setdefault(e.region, []).append(code)
            codes = [c for county, pool in sorted(by_county.items())
                     for c in rollcall.sample(pool, cfg.sample_size, seed + i + _num(county))]
            calls = await self.duties.call_roll(codes, SCHEDULE_ACTOR)
            made += len(calls)
            log.info("duties: scheduled roll call %d of %s: %d enterprises", i + 1, day,
                     len(calls))
        return made


def _num(county: str) -> int:
    return int(county) if county.isdigit() else 0


class MqttRollCall:
    """Roll calls over MQTT (docs/CONTRACT.md §7.5): each call is published on the plant's
    alarms topic, and an answer on its `rollcall` topic is recorded like one through the
    API. An answer to another enterprise's call, to an unknown call or unreadable is
    ignored and counted (`ignored`)."""

    def __init__(self, duties: DutyService, registry: Callable[[], Registry],
                 publish: Callable[[str, bytes], Awaitable[bool]]) -> None:
        self.duties = duties
        self.registry = registry
        self.publish = publish
        self.ignored = 0
        self.unsent = 0
        duties.call_hooks.append(self.announce)

    async def announce(self, calls: Sequence[RollCall]) -> None:
        reg = self.registry()
        for rc in calls:
            ent = reg.enterprises.get(rc.enterprise)
            if ent is None:
                continue
            msg = orjson.dumps({"type": "roll_call", "id": rc.id,
                                "called_at": rfc3339(rc.called_at_ms),
                                "deadline": rfc3339(rc.deadline_ms)})
            if not await self.publish(topic_for(ent.region, rc.enterprise, Channel.ALARMS), msg):
                self.unsent += 1  # not connected: the call stands, answered through the API
                log.info("duties: roll call %s not published (broker not connected)", rc.id)

    async def answer(self, enterprise: str, payload: bytes, now_ms: int) -> None:
        try:
            data = orjson.loads(payload)
            call_id = str(data["id"])
            by = str(data.get("by") or "")[:32]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.ignored += 1
            log.info("duties: unreadable roll-call answer from %s", enterprise)
            return
        rc = await self.duties.store.roll_call(call_id)
        if rc is None or rc.enterprise != enterprise:
            self.ignored += 1
            log.warning("duties: roll-call answer from %s to a call not its own (%s)",
                        enterprise, call_id[:40])
            return
        await self.duties.answer_roll_call(call_id, f"mqtt:{enterprise}" + (f":{by}" if by
                                                                            else ""))
