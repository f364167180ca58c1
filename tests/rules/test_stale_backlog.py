"""Catching up is not stale: a backlog drained at full speed is judged by data time."""

from __future__ import annotations

import json

from hazmon.domain.registry import Registry
from hazmon.domain.signal import AlarmSignal
from hazmon.rules import RulesEngine
from tests.rules.support import (
    LEVEL,
    PRESSURE,
    T0,
    TEMP,
    kinds,
    make_registry,
    raised,
    reading,
    sensor,
)

S = 1000  # ms
TAGS = [PRESSURE, LEVEL, TEMP]


def registry() -> Registry:
    return make_registry([sensor(t, rules={"stale": {"after_s": 60}}) for t in TAGS])


class TestBacklog:
    def test_a_backlog_of_four_minutes_drained_at_once_raises_no_stale(self) -> None:
        reg = registry()
        engine = RulesEngine(reg, gateway_silence_s=120)
        now_s = 300
        # hazmon is back after a 4 min outage; the broker kept the data and sends it now.
        engine.tick(T0 + (now_s - 1) * S)
        out: list[AlarmSignal] = []
        for t in range(now_s - 240, now_s + 1, 5):
            for tag in TAGS:
                out.extend(engine.evaluate(reading(reg, tag, t, 0.5)))
            out.extend(engine.tick(T0 + now_s * S))  # wall time is now all through the burst
        assert raised(out, "stale") == []
        assert raised(out, "gateway_offline") == []

    def test_a_sensor_that_stops_while_its_gateway_goes_on_is_stale(self) -> None:
        reg = registry()
        engine = RulesEngine(reg, gateway_silence_s=120)
        engine.tick(T0)
        out: list[AlarmSignal] = []
        for t in range(0, 200, 5):
            for tag in TAGS:
                if tag != TEMP or t < 30:
                    out.extend(engine.evaluate(reading(reg, tag, t, 0.5)))
            out.extend(engine.tick(T0 + t * S))
        assert [(s.rule, s.tag) for s in raised(out, "stale")] == [("stale", TEMP)]

    def test_a_gateway_that_stops_is_still_flagged(self) -> None:
        reg = registry()
        engine = RulesEngine(reg, gateway_silence_s=120)
        engine.tick(T0)
        out: list[AlarmSignal] = []
        for t in range(0, 30, 5):
            for tag in TAGS:
                out.extend(engine.evaluate(reading(reg, tag, t, 0.5)))
            out.extend(engine.tick(T0 + t * S))
        for t in range(30, 400, 5):
            out.extend(engine.tick(T0 + t * S))
        assert ("raise", "gateway_offline") in kinds(out)
        assert {s.tag for s in raised(out, "stale")} == set(TAGS)


class TestBacklogBeforeTheFirstTick:
    """A fresh engine (no saved state: a first start, or a partition taken over with none)
    gets a broker's backlog, 2.5-4 minutes old, before its first tick. Built with its owner's
    clock (`start_ms`), it counts reception from there, not from the backlog's data
    times."""

    def backlog(self, engine: RulesEngine, reg: Registry, now_s: int) -> list[AlarmSignal]:
        out: list[AlarmSignal] = []
        for t in range(now_s - 240, now_s - 150, 5):  # all of it before any tick
            for tag in TAGS:
                out.extend(engine.evaluate(reading(reg, tag, t, 0.5)))
        return out

    def test_a_backlog_before_any_tick_raises_no_gateway_offline(self) -> None:
        reg = registry()
        now_s = 300
        engine = RulesEngine(reg, gateway_silence_s=120, start_ms=T0 + now_s * S)
        out = self.backlog(engine, reg, now_s)
        out.extend(engine.tick(T0 + now_s * S))  # the first tick
        out.extend(live(engine, reg, now_s, now_s + 200))
        assert raised(out, "gateway_offline") == []
        assert raised(out, "stale") == []

    def test_without_a_start_data_time_is_the_clock(self) -> None:
        # The old behaviour, kept for engines driven by data time alone: the same backlog
        # then ends 155 s before the first tick, longer than the 2-minute silence.
        reg = registry()
        now_s = 300
        engine = RulesEngine(reg, gateway_silence_s=120)
        out = self.backlog(engine, reg, now_s)
        out.extend(engine.tick(T0 + now_s * S))
        assert [s.ts_ms for s in raised(out, "gateway_offline")] == [T0 + now_s * S]

    def test_a_gateway_that_sends_nothing_is_flagged_a_silence_after_the_start(self) -> None:
        reg = registry()
        engine = RulesEngine(reg, gateway_silence_s=120, start_ms=T0)
        out: list[AlarmSignal] = []
        for t in range(10, 200, 5):
            out.extend(engine.tick(T0 + t * S))
        assert [s.ts_ms for s in raised(out, "gateway_offline")] == [T0 + 120 * S]

    def test_a_restored_engine_with_a_start_still_counts_from_its_first_tick(self) -> None:
        reg = registry()
        before = RulesEngine(reg, gateway_silence_s=120)
        live(before, reg, 0, 65)
        snap = json.loads(json.dumps(before.snapshot()))
        engine = RulesEngine.restore(reg, snap, gateway_silence_s=120, start_ms=T0 + 200 * S)
        out: list[AlarmSignal] = []
        for t in range(300, 600, 5):  # first tick at 300 s: the gateway is gone
            out.extend(engine.tick(T0 + t * S))
        assert [s.ts_ms for s in raised(out, "gateway_offline")] == [T0 + 420 * S]


def restart(engine: RulesEngine, reg: Registry) -> RulesEngine:
    """A restart from the snapshot, through text as the state file carries it."""
    return RulesEngine.restore(reg, json.loads(json.dumps(engine.snapshot())),
                               gateway_silence_s=120)


def live(engine: RulesEngine, reg: Registry, start_s: int, end_s: int,
         tags: list[str] = TAGS) -> list[AlarmSignal]:
    """Readings every 5 s received as they are made: a tick at each reading's time."""
    out: list[AlarmSignal] = []
    for t in range(start_s, end_s, 5):
        for tag in tags:
            out.extend(engine.evaluate(reading(reg, tag, t, 0.5)))
        out.extend(engine.tick(T0 + t * S))
    return out


class TestBacklogAfterARestart:
    """hazmon saved its state at 60 s and was down until 300 s; the broker kept the
    gateway's readings and sends them at once when it is back."""

    def test_the_backlog_drained_after_the_restart_raises_no_data_health_alarm(self) -> None:
        reg = registry()
        before = RulesEngine(reg, gateway_silence_s=120)
        live(before, reg, 0, 65)
        engine = restart(before, reg)
        now_s = 300
        out = engine.tick(T0 + now_s * S)  # the first tick of the new process
        for t in range(65, now_s + 1, 5):
            for tag in TAGS:
                out.extend(engine.evaluate(reading(reg, tag, t, 0.5)))
            out.extend(engine.tick(T0 + now_s * S))  # wall time is now all through it
        out.extend(live(engine, reg, now_s + 5, now_s + 200))
        assert raised(out, "stale") == []
        assert raised(out, "gateway_offline") == []

    def test_a_restart_in_the_middle_of_a_backlog_raises_none_either(self) -> None:
        # The gateway was back after an outage and sending its backlog when hazmon saved
        # and died; hazmon is back two minutes later and gets the rest.
        reg = registry()
        before = RulesEngine(reg, gateway_silence_s=120)
        live(before, reg, 0, 30)
        for t in range(30, 600, 5):
            before.tick(T0 + t * S)  # the gateway is away ...
        before.gateway_status(reg_ent(reg), True, T0 + 600 * S)  # ... back, backlog next
        for t in range(30, 200, 5):
            for tag in TAGS:
                before.evaluate(reading(reg, tag, t, 0.5))
            before.tick(T0 + 600 * S)
        engine = restart(before, reg)
        out = engine.tick(T0 + 720 * S)
        for t in range(200, 725, 5):
            for tag in TAGS:
                out.extend(engine.evaluate(reading(reg, tag, t, 0.5)))
            out.extend(engine.tick(T0 + 720 * S))
        out.extend(live(engine, reg, 725, 900))
        assert raised(out, "stale") == []
        assert raised(out, "gateway_offline") == []

    def test_a_gateway_silent_since_before_the_outage_is_flagged_after_the_restart(
        self,
    ) -> None:
        reg = registry()
        before = RulesEngine(reg, gateway_silence_s=120)
        live(before, reg, 0, 65)
        engine = restart(before, reg)  # nothing kept by the broker: the gateway is gone
        out: list[AlarmSignal] = []
        for t in range(300, 600, 5):
            out.extend(engine.tick(T0 + t * S))
        offline = raised(out, "gateway_offline")
        # Counted from the restart (300 s), not from the last tick before it (60 s) ...
        assert [s.ts_ms for s in offline] == [T0 + 420 * S]
        # ... and the message gives the silence since its last data.
        assert "6 分钟" in offline[0].message

    def test_a_sensor_that_stopped_before_the_outage_is_flagged_as_the_backlog_drains(
        self,
    ) -> None:
        reg = registry()
        before = RulesEngine(reg, gateway_silence_s=120)
        live(before, reg, 0, 65)
        engine = restart(before, reg)
        out = engine.tick(T0 + 300 * S)
        for t in range(65, 301, 5):
            for tag in (PRESSURE, LEVEL):  # TEMP sent nothing after 60 s
                out.extend(engine.evaluate(reading(reg, tag, t, 0.5)))
            out.extend(engine.tick(T0 + 300 * S))
        assert [(s.tag, s.ts_ms) for s in raised(out, "stale")] == [(TEMP, T0 + 300 * S)]
        assert raised(out, "gateway_offline") == []


def reg_ent(reg: Registry) -> str:
    (code,) = reg.enterprises
    return code
