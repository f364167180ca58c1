"""A small registry and helpers to drive the rules engine with synthetic series."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from hazmon.domain.reading import Quality, Reading
from hazmon.domain.registry import Registry, parse_registry
from hazmon.domain.signal import AlarmSignal, SignalKind
from hazmon.rules import RulesEngine

ENT = "91320921MA1XXXXX0Q"
T0 = 1_795_312_800_000  # 2026-11-22 10:00 Beijing time, epoch ms

LEVEL = "MHS-01.T101.LT01"
PRESSURE = "MHS-01.T101.PT01"
TEMP = "MHS-01.T101.TT01"
FLOW = "MHS-01.FT01"
GD1, GD2, GD3 = "MHS-01.GD01", "MHS-01.GD02", "MHS-01.GD03"
CL2 = "MHS-01.GD10"

# Inventories giving each GB 18218 tier with 120 people exposed (α = 2): chlorine Q 5 t,
# β 4, so R = 2·4·q/5.
INVENTORY = {
    1: [{"chemical": "chlorine", "tonnes": 100}],  # R 160
    2: [{"chemical": "chlorine", "tonnes": 40}],  # R 64
    3: [{"chemical": "chlorine", "tonnes": 20}],  # R 32
    4: [{"chemical": "chlorine", "tonnes": 5}],  # R 8
}


def default_sensors() -> list[dict[str, Any]]:
    gas = {"kind": "gas_combustible", "gas": "methane", "unit": "%LEL", "range": [0, 100]}
    return [
        {"tag": LEVEL, "name": "T101 液位", "kind": "level", "unit": "m", "range": [0, 12],
         "limits": {"low_low": 0.5, "low": 1.0, "high": 9.5, "high_high": 10.5}},
        {"tag": PRESSURE, "kind": "pressure", "unit": "MPa", "range": [0, 1.6],
         "limits": {"high": 0.8, "high_high": 1.0}},
        {"tag": TEMP, "kind": "temperature", "unit": "℃", "range": [-20, 80],
         "limits": {"high": 40, "high_high": 50}},
        {"tag": FLOW, "kind": "flow", "unit": "m3/h", "range": [0, 100],
         "limits": {"low": 10, "high": 90}},
        {"tag": GD1, **gas},
        {"tag": GD2, **gas},
        {"tag": GD3, **gas},
        {"tag": CL2, "kind": "gas_toxic", "gas": "chlorine", "unit": "ppm", "range": [0, 20]},
    ]


def registry_yaml(
    sensors: list[dict[str, Any]] | None = None,
    *,
    tier: int = 3,
    voting: list[dict[str, Any]] | None = None,
) -> str:
    hs: dict[str, Any] = {
        "code": "MHS-01",
        "name": "罐区一",
        "kind": "tank_farm",
        "population_exposed": 120,
        "inventory": INVENTORY[tier],
        "sensors": default_sensors() if sensors is None else sensors,
    }
    if voting:
        hs["voting"] = voting
    doc = {
        "enterprises": [
            {"code": ENT, "name": "响水某化工有限公司", "region": "320921",
             "hazard_sources": [hs]}
        ]
    }
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def make_registry(
    sensors: list[dict[str, Any]] | None = None,
    *,
    tier: int = 3,
    voting: list[dict[str, Any]] | None = None,
) -> Registry:
    return parse_registry(registry_yaml(sensors, tier=tier, voting=voting))


def sensor(tag: str, **fields: Any) -> dict[str, Any]:
    """One of the default sensors with some fields replaced (e.g. rules=...)."""
    base = next(s for s in default_sensors() if s["tag"] == tag)
    return {**base, **fields}


def reading(
    reg: Registry,
    tag: str,
    t_s: float,
    value: float,
    quality: Quality = Quality.GOOD,
) -> Reading:
    info = reg.sensor(ENT, tag)
    assert info is not None, tag
    return Reading(info, T0 + round(t_s * 1000), value, quality)


def feed(
    engine: RulesEngine,
    reg: Registry,
    tag: str,
    series: Iterable[tuple[float, float]],
) -> list[AlarmSignal]:
    """Evaluate (t seconds after T0, value) pairs one by one; all signals emitted."""
    out: list[AlarmSignal] = []
    for t, v in series:
        out.extend(engine.evaluate(reading(reg, tag, t, v)))
    return out


def kinds(signals: Iterable[AlarmSignal], rule: str | None = None) -> list[tuple[str, str]]:
    """(kind, rule) of each signal, optionally of one rule only."""
    return [(s.kind.value, s.rule) for s in signals if rule is None or s.rule == rule]


def raised(signals: Iterable[AlarmSignal], rule: str) -> list[AlarmSignal]:
    return [s for s in signals if s.rule == rule and s.kind is SignalKind.RAISE]


def cleared(signals: Iterable[AlarmSignal], rule: str) -> list[AlarmSignal]:
    return [s for s in signals if s.rule == rule and s.kind is SignalKind.CLEAR]
