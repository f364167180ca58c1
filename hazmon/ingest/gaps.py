"""Missing batches as a data-health alarm, and the sequence state kept across restarts.

A gap in a gateway's `seq` is often only reordering: the batch comes a moment later. One
still open after the grace period (`IngestSettings.gap_grace_s`) is taken as data lost on
the way and raised as one alarm per enterprise, ``data_gap`` ("数据缺失"), naming the
missing numbers; it follows the gaps (an update when some arrive late) and clears when
none is left overdue. Its key is ``(enterprise, "@", "data_gap")``, as for a gateway
offline: it concerns the whole enterprise.

The signals go to the alarm service directly, not through the rules engine: a gap is
known here, from the transport, and no reading carries it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

import orjson

from hazmon.domain.registry import Registry
from hazmon.domain.signal import AlarmSignal, Category, Priority, SignalKind
from hazmon.ingest.sequence import Gap, SequenceTracker

log = logging.getLogger(__name__)

DATA_GAP: Final = "data_gap"
STATE_VERSION: Final = 1
RANGES_NAMED: Final = 5  # in the message; the details carry them all


class SignalTaker(Protocol):
    """The alarm service, as far as gaps need it."""

    async def handle_signal(self, signal: AlarmSignal) -> object: ...


Ranges = tuple[tuple[int, int], ...]


class GapWatch:
    def __init__(
        self,
        tracker: SequenceTracker,
        registry: Callable[[], Registry],
        grace_s: float,
        state_file: Path | None = None,
    ) -> None:
        self.tracker = tracker
        self.registry = registry
        self.grace_ms = int(grace_s * 1000)
        self.state_file = state_file
        self.alarmed: dict[str, Ranges] = {}  # what the open data_gap alarm says
        if state_file is not None and state_file.exists():
            self._load(state_file)

    # --- the alarm --------------------------------------------------------------------------

    def tick(self, now_ms: int) -> list[AlarmSignal]:
        out = []
        for ent in sorted(set(self.tracker.gapped()) | set(self.alarmed)):
            overdue = [g for g in self.tracker.open_gaps(ent)
                       if now_ms - g.detected_ms >= self.grace_ms]
            ranges: Ranges = tuple((g.first, g.last) for g in overdue)
            before = self.alarmed.get(ent, ())
            if ranges == before:
                continue
            kind = (SignalKind.CLEAR if not ranges else
                    SignalKind.UPDATE if before else SignalKind.RAISE)
            if ranges:
                self.alarmed[ent] = ranges
            else:
                del self.alarmed[ent]
            out.append(self._signal(ent, kind, overdue, now_ms))
        return out

    def _signal(self, ent: str, kind: SignalKind, overdue: list[Gap], now_ms: int
                ) -> AlarmSignal:
        reg = self.registry()
        enterprise = reg.enterprises.get(ent)
        name = enterprise.name if enterprise is not None else ent
        missing = sum(g.missing for g in overdue)
        if kind is SignalKind.CLEAR:
            message = f"数据缺失消除：{name} 缺失的数据批次已补齐"
        else:
            named = "、".join(g.label() for g in overdue[:RANGES_NAMED])
            more = "等" if len(overdue) > RANGES_NAMED else ""
            message = (f"数据缺失：{name} 有 {missing} 批数据超过 "
                       f"{self.grace_ms / 60_000:g} 分钟未收到（批次序号 {named}{more}）")
        tiers = [hs.grading.tier for (e, _), hs in reg.hazard_sources.items()
                 if e == ent and hs.grading.tier is not None]
        return AlarmSignal(
            kind=kind, enterprise=ent, hazard_source="", tag=None, rule=DATA_GAP,
            category=Category.DATA_HEALTH, priority=gateway_priority(min(tiers, default=None)),
            ts_ms=now_ms, value=float(missing), limit=None, message=message,
            simulated=enterprise.simulated if enterprise is not None else False,
            details={"missing": missing, "ranges": [[g.first, g.last] for g in overdue]},
        )

    async def run(self, alarms: SignalTaker, clock: Callable[[], int], tick_s: float = 1.0,
                  save_every_s: float = 5.0) -> None:
        """Judge gaps on a clock tick; save the state when gaps change, and every
        `save_every_s` (the newest numbers), and once more on the way out (clean)."""
        since_save = 0.0
        saved_changes = self.tracker.changes
        try:
            while True:
                await asyncio.sleep(tick_s)
                await deliver(alarms, self.tick(clock()))
                since_save += tick_s
                if self.tracker.changes != saved_changes or since_save >= save_every_s:
                    saved_changes = self.tracker.changes
                    since_save = 0.0
                    await asyncio.to_thread(self._write, self._encoded(clean=False))
        finally:
            self.save(clean=True)

    def save(self, *, clean: bool) -> None:
        """Write the state now; `clean` says it is complete (written on the way out)."""
        self._write(self._encoded(clean=clean))

    # --- kept across restarts -------------------------------------------------------------

    def _encoded(self, *, clean: bool) -> bytes:
        return orjson.dumps({
            "version": STATE_VERSION, "clean": clean, "gateways": self.tracker.snapshot(),
            "alarmed": {e: [list(r) for r in rs] for e, rs in self.alarmed.items()},
        })

    def _write(self, data: bytes) -> None:
        if self.state_file is None:
            return
        tmp = self.state_file.with_suffix(".tmp")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, self.state_file)
        except OSError as exc:
            log.error("cannot save sequence state to %s: %s", self.state_file, exc)

    def _load(self, path: Path) -> None:
        try:
            d: Any = orjson.loads(path.read_bytes())
            if d.get("version") != STATE_VERSION:
                raise ValueError(f"version {d.get('version')!r}")
            self.tracker.restore(d["gateways"], clean=bool(d["clean"]))
            self.alarmed = {e: tuple((int(a), int(b)) for a, b in rs)
                            for e, rs in d["alarmed"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.error("sequence state %s unusable (%s); gaps counted afresh", path, exc)
        else:
            log.info("sequence state restored from %s: %d batch(es) missing", path,
                     self.tracker.missing)


async def deliver(alarms: SignalTaker, signals: Sequence[AlarmSignal]) -> None:
    for s in signals:
        try:
            await alarms.handle_signal(s)
        except Exception:  # one refused signal must not stop the watch; it is logged
            log.exception("alarm service refused signal %s", s.key)


def gateway_priority(tier: int | None) -> Priority:
    """Ranked as a gateway offline (the GATEWAY row of `hazmon.rules.priority`): both say
    an enterprise's data is not coming in, and matter more where the hazard is bigger."""
    return Priority.HIGH if tier in (1, 2) else Priority.MEDIUM
