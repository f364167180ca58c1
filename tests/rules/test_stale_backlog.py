"""Catching up is not stale: a backlog drained at full speed is judged by data time."""

from __future__ import annotations

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
