"""Registry sharing: repeats become one object, and nothing a model says changes."""

from __future__ import annotations

import textwrap

import orjson
import pytest

from hazmon.domain.registry import (
    Limits,
    Registry,
    RegistryError,
    RegistryFile,
    Sensor,
    SensorInfo,
    _parse,
    parse_registry,
    validate_file,
)
from hazmon.domain.rulespec import resolve
from hazmon.domain.sharing import Sharer
from hazmon.simulators.registry_gen import generate_registry

ENT = "91320921MA1XXXXX0A"

SENSOR = """\
          - tag: {tag}
            kind: pressure
            unit: MPa
            range: [0, 2.5]
            limits: {limits}
{rules}"""


def registry_text(sensors: list[tuple[str, str, str]]) -> str:
    body = "".join(
        SENSOR.format(tag=tag, limits=limits, rules=textwrap.indent(rules, " " * 12))
        for tag, limits, rules in sensors
    )
    return f"""\
enterprises:
  - code: {ENT}
    name: 测试化工有限公司
    region: "320921"
    hazard_sources:
      - code: MHS-01
        name: 储罐区
        kind: tank_farm
        population_exposed: 10
        inventory:
          - {{chemical: 甲醇, tonnes: 900}}
        sensors:
{body}"""


def infos(reg: Registry, *tags: str) -> list[SensorInfo]:
    found = [reg.sensor(ENT, t) for t in tags]
    assert all(f is not None for f in found)
    return [f for f in found if f is not None]


def test_equal_limits_and_rules_become_one_object_and_fields_sets_are_shared() -> None:
    rules = "rules:\n  rate: {rise_per_min: 0.1}\n"
    reg = parse_registry(registry_text([
        ("PT01", "{high: 1.6, high_high: 2.0}", rules),
        ("PT02", "{high: 1.6, high_high: 2.0}", rules),
        ("PT03", "{high: 1.7, high_high: 2.0}", rules),
    ]))
    a, b, c = infos(reg, "PT01", "PT02", "PT03")
    assert a.sensor is not b.sensor  # different tags
    assert a.limits is b.limits
    assert a.sensor.rules is b.sensor.rules
    assert c.limits is not a.limits
    assert c.limits == Limits(high=1.7, high_high=2.0)
    assert c.sensor.rules is a.sensor.rules
    assert a.sensor.__pydantic_fields_set__ is b.sensor.__pydantic_fields_set__
    assert a.sensor.unit is c.sensor.unit


def test_explicitly_set_defaults_are_not_merged_with_unset_ones() -> None:
    # rulespec merges an override by its set fields: `enabled: true` said out loud and
    # left unsaid are equal values but different overrides
    reg = parse_registry(registry_text([
        ("PT01", "{high: 1.6}", "rules:\n  rate: {rise_per_min: 0.1, enabled: true}\n"),
        ("PT02", "{high: 1.6}", "rules:\n  rate: {rise_per_min: 0.1}\n"),
    ]))
    a, b = infos(reg, "PT01", "PT02")
    assert a.sensor.rules is not None
    assert b.sensor.rules is not None
    assert a.sensor.rules.rate is not b.sensor.rules.rate
    assert a.sensor.rules.rate is not None
    assert b.sensor.rules.rate is not None
    assert "enabled" in a.sensor.rules.rate.model_fields_set
    assert "enabled" not in b.sensor.rules.rate.model_fields_set
    assert resolve(a.sensor.kind, a.sensor.rules, None) == resolve(
        b.sensor.kind, b.sensor.rules, None
    )


def test_zero_and_negative_zero_stay_apart() -> None:
    reg = parse_registry(registry_text([
        ("PT01", "{low: -0.0, high: 1.6}", ""),
        ("PT02", "{low: 0.0, high: 1.6}", ""),
    ]))
    a, b = infos(reg, "PT01", "PT02")
    assert a.limits is not None
    assert b.limits is not None
    assert a.limits is not b.limits
    assert str(a.limits.low) == "-0.0"
    assert str(b.limits.low) == "0.0"


def test_gb50493_default_limits_are_shared_between_detectors() -> None:
    data = generate_registry(3, seed=5, gas_default_limits=True).data
    reg = parse_registry(orjson.dumps(data).decode())
    defaults = [i.limits for i in reg.sensors.values() if i.limits_basis.startswith("GB")]
    assert len(defaults) > 3
    assert len({id(x) for x in defaults}) == len({x.model_dump_json() for x in defaults})


def test_a_copy_with_an_update_leaves_the_shared_fields_set_alone() -> None:
    reg = parse_registry(registry_text([
        ("PT01", "{high: 1.6}", ""), ("PT02", "{high: 1.6}", ""),
    ]))
    a, b = infos(reg, "PT01", "PT02")
    shared = a.sensor.model_fields_set
    before = set(shared)
    copy = a.sensor.model_copy(update={"name": "新名称"})
    assert "name" in copy.model_fields_set
    assert a.sensor.model_fields_set == before == b.sensor.model_fields_set


@pytest.mark.parametrize("seed", [1, 2])
def test_shared_models_say_exactly_what_plain_validation_says(seed: int) -> None:
    data = generate_registry(4, seed=seed).data
    plain = RegistryFile.model_validate(orjson.loads(orjson.dumps(data)))
    shared = validate_file(orjson.loads(orjson.dumps(data)), Sharer())
    assert shared.model_dump_json() == plain.model_dump_json()
    assert shared == plain
    sensors = [s for e in shared.enterprises for h in e.hazard_sources for s in h.sensors]
    assert all(type(s) is Sensor for s in sensors)
    assert len({id(s.__pydantic_fields_set__) for s in sensors}) < len(sensors) / 10


def test_a_bad_sensor_still_gets_every_error_with_its_place() -> None:
    text = registry_text([
        ("PT01", "{high: 1.6}", ""),
        ("PT02", "{high: 2.0, high_high: 1.0}", ""),
        ("PT03", "{high: 1.6}", "rules:\n  rate: {rise_per_min: -1}\n"),
    ])
    with pytest.raises(RegistryError) as info:
        parse_registry(text, source="t.yaml")
    problems = info.value.problems
    assert len(problems) == 2, problems
    assert "sensors[1]" in problems[0]
    assert "out of order" in problems[0]
    assert "sensors[2]" in problems[1]


def test_an_unknown_key_at_the_top_alone_is_still_refused() -> None:
    # the piece-by-piece path builds the top level itself: it must not skip its checks
    text = registry_text([("PT01", "{high: 1.6}", "")]) + "extra: 1\n"
    with pytest.raises(RegistryError) as info:
        parse_registry(text, source="t.yaml")
    assert info.value.problems == ["extra (line 18): unknown key"]


def test_the_compacted_registry_is_the_parsed_one_links_and_all() -> None:
    # parse_registry rebuilds the registry from a pickle after the parse (to give the
    # parse's memory back); what it returns must be the registry `_parse` built.
    text = generate_registry(3, seed=5).yaml_text
    built = _parse(text, "x.yaml")
    reg = parse_registry(text, source="x.yaml")
    assert reg is not built
    assert reg == built
    assert reg.source == "x.yaml"
    assert reg.regions == built.regions
    for key, info in reg.sensors.items():
        assert info.enterprise is reg.enterprises[key[0]]
        hsi = reg.hazard_sources[(key[0], info.hazard_source.code)]
        assert info.hazard_source is hsi.hazard_source
        assert any(s is info.sensor for s in info.hazard_source.sensors)
        assert reg.sensor(*key) is info
