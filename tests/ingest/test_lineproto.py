"""InfluxDB line protocol for readings: exact text, escaping, simulated data, prefix cache."""

from __future__ import annotations

import dataclasses

import pytest

from hazmon.domain.reading import Quality, Reading
from hazmon.domain.registry import Registry, SensorInfo
from hazmon.ingest.lineproto import LineEncoder, escape_tag, series_key
from tests.support import ENT, ENT2

TS = 1_795_312_800_250


def test_exact_line_for_a_reading(registry: Registry) -> None:
    info = registry.sensor(ENT, "MHS-01.GD03")
    assert info is not None
    lines = LineEncoder().encode([Reading(info, TS, 12.5, Quality.UNCERTAIN)])
    assert lines == [
        "telemetry,enterprise=91320921MA1XXXXX0Q,hazard_source=MHS-01,kind=gas_toxic,"
        'region=320921,tag=MHS-01.GD03 value=12.5,quality="uncertain" 1795312800250'
    ]


def test_several_readings_keep_their_order_values_and_times(registry: Registry) -> None:
    lt = registry.sensor(ENT, "MHS-01.T101.LT01")
    tt = registry.sensor(ENT2, "MHS-02.V201.TT01")
    assert lt is not None
    assert tt is not None
    lines = LineEncoder().encode([
        Reading(lt, TS, 7.0),
        Reading(tt, TS + 1, -20.5, Quality.BAD),
        Reading(lt, TS + 2, 0.1),
        Reading(lt, TS + 3, 1e-7, Quality.GOOD),
    ])
    lt_key = ("enterprise=91320921MA1XXXXX0Q,hazard_source=MHS-01,kind=level,"
              "region=320921,tag=MHS-01.T101.LT01")
    tt_key = ("enterprise=91320902MA2YYYYY1R,hazard_source=MHS-02,kind=temperature,"
              "region=320902,tag=MHS-02.V201.TT01")
    assert lines == [
        f'telemetry,{lt_key} value=7.0,quality="good" {TS}',
        f'telemetry,{tt_key} value=-20.5,quality="bad" {TS + 1}',
        f'telemetry,{lt_key} value=0.1,quality="good" {TS + 2}',
        f'telemetry,{lt_key} value=1e-07,quality="good" {TS + 3}',
    ]


def test_value_is_always_a_float_field(registry: Registry) -> None:
    # an integer field (`7i`) would conflict with the float field type in InfluxDB
    info = registry.sensor(ENT, "MHS-01.T101.LT01")
    assert info is not None
    (line,) = LineEncoder().encode([Reading(info, TS, 7.0)])
    assert " value=7.0," in line


def test_tags_are_sorted_by_key(registry: Registry) -> None:
    for info in registry.sensors.values():
        keys = [pair.split("=", 1)[0] for pair in series_key(info).split(",")]
        assert keys == sorted(keys) == ["enterprise", "hazard_source", "kind", "region", "tag"]


def test_simulated_readings_go_to_their_own_measurement(registry: Registry) -> None:
    info = registry.sensor(ENT, "MHS-01.T101.PT01")
    assert info is not None
    enc = LineEncoder()
    real, sim = enc.encode([Reading(info, TS, 0.5), Reading(info, TS, 0.5, simulated=True)])
    assert real.startswith("telemetry,enterprise=")
    assert sim.startswith("telemetry_sim,enterprise=")
    assert sim.removeprefix("telemetry_sim") == real.removeprefix("telemetry")
    # the cache keeps the two apart in either order
    assert enc.encode([Reading(info, TS, 0.5, simulated=True), Reading(info, TS, 0.5)]) == [
        sim, real,
    ]


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain", "plain"),
        ("a b", "a\\ b"),
        ("a,b", "a\\,b"),
        ("a=b", "a\\=b"),
        ("a b,c=d", "a\\ b\\,c\\=d"),
        ("  ", "\\ \\ "),
        ("MHS-01.T101:LT_01", "MHS-01.T101:LT_01"),
    ],
)
def test_escape_tag(raw: str, escaped: str) -> None:
    assert escape_tag(raw) == escaped


def test_series_key_escapes_tag_values(registry: Registry) -> None:
    info = registry.sensor(ENT, "MHS-01.T101.LT01")
    assert info is not None
    odd_sensor = info.sensor.model_copy(update={"tag": "T 1,a=b"})
    odd = dataclasses.replace(info, sensor=odd_sensor, region="32 09=21")
    assert series_key(odd) == (
        "enterprise=91320921MA1XXXXX0Q,hazard_source=MHS-01,kind=level,"
        "region=32\\ 09\\=21,tag=T\\ 1\\,a\\=b"
    )
    (line,) = LineEncoder().encode([Reading(odd, TS, 1.5)])
    assert line == f'telemetry,{series_key(odd)} value=1.5,quality="good" {TS}'


def test_clear_forgets_cached_prefixes(registry: Registry) -> None:
    info = registry.sensor(ENT, "MHS-01.T101.LT01")
    assert info is not None
    # A private copy we can change in place: the cache is keyed by the object's identity,
    # the way a reloaded registry may reuse an id for a changed sensor.
    mine: SensorInfo = dataclasses.replace(info)
    enc = LineEncoder()
    (before,) = enc.encode([Reading(mine, TS, 1.0)])
    assert ",region=320921," in before

    object.__setattr__(mine, "region", "320999")
    (stale,) = enc.encode([Reading(mine, TS, 1.0)])
    assert stale == before  # served from the cache

    enc.clear()
    (after,) = enc.encode([Reading(mine, TS, 1.0)])
    assert ",region=320999," in after
    assert after == before.replace("region=320921", "region=320999")
