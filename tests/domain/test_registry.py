"""Registry loading (docs/CONTRACT.md §4): the example loads; an invalid file lists every
problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hazmon.domain.registry import (
    Limits,
    Registry,
    RegistryError,
    SensorKind,
    load_registry,
    parse_registry,
)
from tests.support import ENT, ENT2, REGISTRY_FILE


def problems_of(text: str) -> list[str]:
    with pytest.raises(RegistryError) as info:
        parse_registry(text, source="test.yaml")
    assert info.value.source == "test.yaml"
    return info.value.problems


# --- the valid example --------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> Registry:
    return load_registry(REGISTRY_FILE)


def test_example_loads(example: Registry) -> None:
    assert set(example.enterprises) == {ENT, ENT2}
    assert example.regions == frozenset({"320921", "320902"})
    assert example.warnings == ()
    assert example.source == str(REGISTRY_FILE)
    ent = example.enterprises[ENT]
    assert ent.name == "响水某化工有限公司"
    assert [c.role for c in ent.contacts] == ["principal", "technical", "operational"]
    assert set(example.sensors_of(ENT)) == {"MHS-01.T101.LT01", "MHS-01.T101.PT01",
                                             "MHS-01.GD03"}
    assert set(example.sensors_of(ENT2)) == {"MHS-02.V201.TT01", "MHS-02.GD01"}
    assert example.sensors_of("91320921MA1ZZZZZ9X") == {}
    assert example.sensor(ENT, "MHS-02.GD01") is None  # another enterprise's tag


def test_example_tiers(example: Registry) -> None:
    # MHS-01: α(120 people) = 2; chlorine β 4, 20 t of Q 5 t; methanol β 1, 900 t of Q 500 t
    # R = 2 × (4 × 20/5 + 1 × 900/500) = 35.6 → tier 3 (10 ≤ R < 50)
    g1 = example.hazard_sources[(ENT, "MHS-01")].grading
    assert g1.ratio_sum == pytest.approx(20 / 5 + 900 / 500)
    assert g1.r == pytest.approx(35.6)
    assert g1.is_major
    assert g1.tier == 3
    # MHS-02: α(10 people) = 1; LPG β 1.5, 300 t of Q 50 t: R = 9 → tier 4
    g2 = example.hazard_sources[(ENT2, "MHS-02")].grading
    assert g2.r == pytest.approx(9.0)
    assert g2.tier == 4


def test_explicit_limits_are_kept(example: Registry) -> None:
    info = example.sensor(ENT, "MHS-01.T101.LT01")
    assert info is not None
    assert info.limits == Limits(high=9.5, high_high=10.5)
    assert info.limits_basis == "registry"
    assert info.region == "320921"
    assert info.hazard_source.code == "MHS-01"
    assert info.enterprise.code == ENT
    assert info.sensor.kind is SensorKind.LEVEL
    assert info.sensor.range == (0.0, 12.0)
    tt = example.sensor(ENT2, "MHS-02.V201.TT01")
    assert tt is not None
    assert tt.limits is not None
    assert tt.limits.items() == [("low", -20.0), ("high", 45.0), ("high_high", 50.0)]


def test_chlorine_detector_takes_gb50493_defaults(example: Registry) -> None:
    info = example.sensor(ENT, "MHS-01.GD03")
    assert info is not None
    assert info.sensor.limits is None
    # chlorine MAC 1 mg/m³, M = 70.90 g/mol, 24.04 L/mol: 1 mg/m³ = 24.04/70.90 ppm;
    # first alarm 100 % OEL, second 200 % OEL
    one_mac_ppm = 24.04 / 70.90
    assert info.limits is not None
    assert info.limits.high == pytest.approx(one_mac_ppm)
    assert info.limits.high_high == pytest.approx(2 * one_mac_ppm)
    assert info.limits.low is None
    assert info.limits.low_low is None
    assert info.limits_basis.startswith("GB 50493-2019: ")
    assert "MAC" in info.limits_basis
    assert "0.3391 ppm" in info.limits_basis


def test_combustible_detector_takes_lel_defaults(example: Registry) -> None:
    info = example.sensor(ENT2, "MHS-02.GD01")
    assert info is not None
    assert info.limits == Limits(high=25.0, high_high=50.0)
    assert info.limits_basis == "GB 50493-2019: 25 %LEL / 50 %LEL"


def test_parse_registry_of_the_example_text_equals_load(example: Registry) -> None:
    parsed = parse_registry(REGISTRY_FILE.read_text("utf-8"))
    assert parsed.enterprises == example.enterprises
    assert parsed.source == "<registry>"


# --- an invalid file: every problem, with its path and line ----------------------------------

# Line numbers matter below: keep the text as it is.
INVALID = """\
enterprises:
  - code: 91320921MA1XXXXX0Q
    name: 响水某化工有限公司
    region: "32092"
    hazard_sources:
      - code: MHS-01
        name: 罐区一
        kind: tank_farm
        population_exposed: 120
        inventory:
          - {chemical: chlorine, cas: 7782-50-5, tonnes: 20}
        sensors:
          - tag: MHS-01.T101.LT01
            kind: level
            unit: m
            range: [0, 12]
            limits: {high: 10.5, high_high: 9.5}
          - tag: MHS-01.T101.PT01
            kind: pressure
            unit: MPa
            range: [0, 1.6]
            colour: red
          - tag: MHS-01.GD03
            kind: gas_toxic
            gas: unobtainium
            unit: ppm
            range: [0, 20]
          - tag: MHS-01.T101.LT01
            kind: level
            unit: m
            range: [0, 12]
          - tag: MHS-01.GD04
            kind: gas_combustible
            unit: "%LEL"
            range: [0, 100]
"""


def test_invalid_file_lists_every_problem_with_path_and_line() -> None:
    problems = problems_of(INVALID)
    s = "enterprises[0].hazard_sources[0].sensors"
    expected = {
        "region": ("enterprises[0].region (line 4): ", "pattern"),
        "limits": (f"{s}[0].limits (line 17): ",
                   "limits out of order: high 10.5 must be below high_high 9.5"),
        "unknown key": (f"{s}[1].colour (line 22): ", "unknown key"),
        "unknown gas": (f"{s}[2].gas (line 25): ", "unknown gas 'unobtainium'"),
        "duplicate": (f"{s}[3].tag (line 28): ", "duplicate tag MHS-01.T101.LT01"),
        "no gas": (f"{s}[4] (line 32): ", "needs `gas:`"),
    }
    for what, (where, msg) in expected.items():
        hits = [p for p in problems if p.startswith(where)]
        assert len(hits) == 1, f"{what}: {where!r} not exactly once in {problems}"
        assert msg in hits[0], f"{what}: {msg!r} not in {hits[0]!r}"
    assert len(problems) == len(expected), problems


def test_registry_error_message_lists_the_problems() -> None:
    with pytest.raises(RegistryError) as info:
        parse_registry(INVALID, source="plants.yaml")
    text = str(info.value)
    assert text.startswith("invalid registry plants.yaml: 6 problem(s)\n")
    for p in info.value.problems:
        assert f"  - {p}" in text


def test_load_registry_reports_the_same_as_parse(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(INVALID, encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert info.value.source == str(path)
    assert info.value.problems == problems_of(INVALID)


VALID_HEAD = """\
enterprises:
  - code: 91320921MA1XXXXX0Q
    name: 某化工
    region: "320921"
    hazard_sources:
      - code: MHS-01
        name: 罐区一
        kind: tank_farm
        population_exposed: 120
        inventory:
          - {chemical: chlorine, tonnes: 20}
"""


def test_duplicate_tag_alone_is_found_after_validation() -> None:
    text = VALID_HEAD + """\
        sensors:
          - {tag: A.1, kind: level, unit: m, range: [0, 1]}
          - {tag: A.2, kind: level, unit: m, range: [0, 1]}
          - {tag: A.1, kind: pressure, unit: MPa, range: [0, 1]}
"""
    assert problems_of(text) == [
        "enterprises[0].hazard_sources[0].sensors[2].tag (line 15): duplicate tag A.1",
    ]


def test_unknown_gas_alone() -> None:
    text = VALID_HEAD + """\
        sensors:
          - {tag: G.1, kind: gas_toxic, gas: chlorine, unit: ppm, range: [0, 20]}
          - {tag: G.2, kind: gas_toxic, gas: kryptonite, unit: ppm, range: [0, 20]}
"""
    assert problems_of(text) == [
        "enterprises[0].hazard_sources[0].sensors[1].gas (line 14): unknown gas 'kryptonite'",
    ]


def test_duplicate_tags_in_different_enterprises_are_fine_in_one_they_are_not() -> None:
    second = """\
  - code: 91320902MA2YYYYY1R
    name: 另一家
    region: "320902"
    hazard_sources:
      - code: MHS-01
        name: 罐区
        kind: tank_farm
        population_exposed: 1
        inventory: [{chemical: methanol, tonnes: 600}]
        sensors:
          - {tag: A.1, kind: level, unit: m, range: [0, 1]}
"""
    sensors = """\
        sensors:
          - {tag: A.1, kind: level, unit: m, range: [0, 1]}
"""
    reg = parse_registry(VALID_HEAD + sensors + second)
    assert reg.sensor(ENT, "A.1") is not None
    assert reg.sensor(ENT2, "A.1") is not None

    dup_hs = VALID_HEAD + sensors + """\
      - code: MHS-02
        name: 罐区二
        kind: tank_farm
        population_exposed: 1
        inventory: [{chemical: methanol, tonnes: 600}]
        sensors:
          - {tag: A.1, kind: level, unit: m, range: [0, 1]}
"""
    assert problems_of(dup_hs) == [
        "enterprises[0].hazard_sources[1].sensors[0].tag (line 20): duplicate tag A.1",
    ]


def test_duplicate_enterprise_and_hazard_source() -> None:
    text = VALID_HEAD + """\
      - code: MHS-01
        name: 又一个
        kind: warehouse
        population_exposed: 0
        inventory: [{chemical: chlorine, tonnes: 20}]
  - code: 91320921MA1XXXXX0Q
    name: 重复
    region: "320921"
"""
    assert problems_of(text) == [
        "enterprises[0].hazard_sources[1].code (line 12): duplicate hazard source MHS-01",
        "enterprises[1].code (line 17): duplicate enterprise 91320921MA1XXXXX0Q",
    ]


def test_schema_errors_do_not_hide_duplicates_elsewhere() -> None:
    text = VALID_HEAD + """\
        sensors:
          - {tag: A.1, kind: level, unit: m, range: [0, 1], colour: red}
          - {tag: A.1, kind: level, unit: m, range: [0, 1]}
      - code: MHS-01
        name: 又一个
        kind: warehouse
        population_exposed: 0
        inventory: [{chemical: dilithium, tonnes: 20}]
"""
    assert problems_of(text) == [
        "enterprises[0].hazard_sources[0].sensors[0].colour (line 13): unknown key",
        "enterprises[0].hazard_sources[0].sensors[1].tag (line 14): duplicate tag A.1",
        "enterprises[0].hazard_sources[1].code (line 15): duplicate hazard source MHS-01",
    ]


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ("{low: 5, high: 5}", "low 5.0 must be below high 5.0"),
        ("{low_low: 2, low: 1}", "low_low 2.0 must be below low 1.0"),
        ("{low_low: 1, high_high: 0}", "low_low 1.0 must be below high_high 0.0"),
        ("{high: 3, high_high: 2.5}", "high 3.0 must be below high_high 2.5"),
    ],
)
def test_limits_out_of_order(limits: str, message: str) -> None:
    text = VALID_HEAD + f"""\
        sensors:
          - {{tag: A.1, kind: level, unit: m, range: [0, 1], limits: {limits}}}
"""
    assert problems_of(text) == [
        f"enterprises[0].hazard_sources[0].sensors[0].limits (line 13): limits out of order: "
        f"{message}",
    ]


@pytest.mark.parametrize("region", ['"32092"', '"3209211"', '"32092a"', "320921x"])
def test_bad_region_code(region: str) -> None:
    text = VALID_HEAD.replace('region: "320921"', f"region: {region}")
    (problem,) = problems_of(text)
    assert problem.startswith("enterprises[0].region (line 4): ")


def test_region_as_a_yaml_number_is_refused() -> None:
    # unquoted, 320921 is an int in YAML: the file must quote it
    text = VALID_HEAD.replace('region: "320921"', "region: 320921")
    (problem,) = problems_of(text)
    assert problem.startswith("enterprises[0].region (line 4): ")


def test_unknown_key_at_top_and_in_the_enterprise() -> None:
    text = "version: 2\n" + VALID_HEAD.replace("    region:", "    regoin: x\n    region:")
    problems = problems_of(text)
    assert "version (line 1): unknown key" in problems
    assert "enterprises[0].regoin (line 5): unknown key" in problems
    assert len(problems) == 2


def test_missing_required_field_points_at_the_parent() -> None:
    text = VALID_HEAD.replace("        population_exposed: 120\n", "")
    (problem,) = problems_of(text)
    assert problem.startswith(
        "enterprises[0].hazard_sources[0].population_exposed (line 6): "
    )


def test_not_yaml() -> None:
    (problem,) = problems_of("enterprises:\n  - code: [1, 2\n    name: x\n")
    assert problem.startswith("not valid YAML (line ")


def test_empty_and_wrong_top_level() -> None:
    assert problems_of("") != []
    (problem,) = problems_of("- a\n- b\n")
    assert problem.startswith("(top) (line 1): ")


def test_unreadable_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(RegistryError) as info:
        load_registry(missing)
    assert info.value.source == str(missing)
    (problem,) = info.value.problems
    assert problem.startswith("cannot read file: ")
    assert "No such file" in problem

    with pytest.raises(RegistryError, match="cannot read file"):
        load_registry(tmp_path)  # a directory


def test_not_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(VALID_HEAD.encode("gbk"))
    with pytest.raises(RegistryError) as info:  # not a UnicodeDecodeError: reload catches it
        load_registry(path)
    (problem,) = info.value.problems
    assert problem.startswith("file is not UTF-8 (byte ")


# --- tiers and chemicals ------------------------------------------------------------------


def test_declared_tier_mismatch_is_a_warning_not_an_error() -> None:
    text = VALID_HEAD.replace("        population_exposed: 120\n",
                              "        population_exposed: 120\n        tier: 1\n")
    reg = parse_registry(text)
    # α 2 × β 4 × 20/5 = 32 → tier 3
    info = reg.hazard_sources[(ENT, "MHS-01")]
    assert info.grading.tier == 3
    assert info.hazard_source.tier == 1
    (warning,) = reg.warnings
    assert warning.startswith("enterprises[0].hazard_sources[0].tier (line 10): ")
    assert "declared tier 1 but GB 18218-2018 gives tier 3" in warning


def test_declared_tier_that_matches_gives_no_warning() -> None:
    text = VALID_HEAD.replace("        population_exposed: 120\n",
                              "        population_exposed: 120\n        tier: 3\n")
    assert parse_registry(text).warnings == ()


def test_a_file_without_problems_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The line index (a second parse of the whole file) is built only for a message.
    from hazmon.domain import registry

    built: list[int] = []
    real = registry._line_index

    def counting(text: str) -> dict[tuple[str | int, ...], int]:
        built.append(len(text))
        return real(text)

    monkeypatch.setattr(registry, "_line_index", counting)
    text = VALID_HEAD.replace("        population_exposed: 120\n",
                              "        population_exposed: 120\n        tier: 3\n")
    assert parse_registry(text).warnings == ()
    assert built == []
    mismatch = text.replace("tier: 3", "tier: 1")
    assert parse_registry(mismatch).warnings  # a warning with its line: built then
    assert built == [len(mismatch)]


def test_not_a_major_hazard_source_is_a_warning() -> None:
    text = VALID_HEAD.replace("{chemical: chlorine, tonnes: 20}", "{chemical: chlorine, tonnes: 1}")
    reg = parse_registry(text)
    assert not reg.hazard_sources[(ENT, "MHS-01")].grading.is_major
    (warning,) = reg.warnings
    assert "not a major hazard source" in warning


def test_unknown_chemical_is_an_error() -> None:
    text = VALID_HEAD + "          - {chemical: dilithium, tonnes: 3}\n"
    assert problems_of(text) == [
        "enterprises[0].hazard_sources[0].inventory[1].chemical (line 12): unknown chemical "
        "'dilithium': give a known name or CAS, or its critical_tonnes and beta",
    ]


def test_chemical_found_by_cas() -> None:
    text = VALID_HEAD.replace("{chemical: chlorine, tonnes: 20}",
                              "{chemical: 液体氯, cas: 7782-50-5, tonnes: 20}")
    assert parse_registry(text).hazard_sources[(ENT, "MHS-01")].grading.tier == 3


def test_chemical_with_explicit_critical_tonnes_and_beta_is_accepted() -> None:
    text = VALID_HEAD + (
        "          - {chemical: dilithium, tonnes: 30, critical_tonnes: 10, beta: 2}\n"
    )
    reg = parse_registry(text)
    g = reg.hazard_sources[(ENT, "MHS-01")].grading
    # Σq/Q = 20/5 + 30/10 = 7; R = α 2 × (4 × 20/5 + 2 × 30/10) = 44 → tier 3
    assert g.ratio_sum == pytest.approx(7.0)
    assert g.r == pytest.approx(44.0)
    assert g.tier == 3


def test_explicit_beta_overrides_a_known_chemical() -> None:
    text = VALID_HEAD.replace("{chemical: chlorine, tonnes: 20}",
                              "{chemical: chlorine, tonnes: 20, beta: 1}")
    g = parse_registry(text).hazard_sources[(ENT, "MHS-01")].grading
    assert g.r == pytest.approx(2 * 1 * 20 / 5)  # Q stays 5 t from the table


@pytest.mark.parametrize("field", ["critical_tonnes: 0", "beta: -1"])
def test_non_positive_critical_tonnes_or_beta_refused(field: str) -> None:
    text = VALID_HEAD + f"          - {{chemical: dilithium, tonnes: 3, {field}}}\n"
    (problem,) = problems_of(text)
    assert problem.startswith("enterprises[0].hazard_sources[0].inventory[1].")
    assert "(line 12)" in problem


# --- sensors ------------------------------------------------------------------------------


def test_gas_on_a_non_gas_sensor_is_refused() -> None:
    text = VALID_HEAD + """\
        sensors:
          - {tag: A.1, kind: level, gas: chlorine, unit: m, range: [0, 1]}
"""
    (problem,) = problems_of(text)
    assert problem.startswith("enterprises[0].hazard_sources[0].sensors[0] (line 13): ")
    assert "only for gas detectors" in problem


@pytest.mark.parametrize("rng", ["[1, 1]", "[2, 1]", "[0, .inf]"])
def test_bad_range_is_refused(rng: str) -> None:
    text = VALID_HEAD + f"""\
        sensors:
          - {{tag: A.1, kind: level, unit: m, range: {rng}}}
"""
    (problem,) = problems_of(text)
    assert "range must be [low, high]" in problem


def test_bad_tag_is_refused() -> None:
    text = VALID_HEAD + """\
        sensors:
          - {tag: "A 1", kind: level, unit: m, range: [0, 1]}
"""
    (problem,) = problems_of(text)
    assert problem.startswith("enterprises[0].hazard_sources[0].sensors[0].tag (line 13): ")


def test_gas_detector_with_explicit_limits_keeps_them() -> None:
    text = VALID_HEAD + """\
        sensors:
          - {tag: G.1, kind: gas_toxic, gas: chlorine, unit: ppm, range: [0, 20],
             limits: {high: 1, high_high: 2}}
"""
    info = parse_registry(text).sensor(ENT, "G.1")
    assert info is not None
    assert info.limits == Limits(high=1, high_high=2)
    assert info.limits_basis == "registry"


# --- a registry written as JSON (YAML's flow style) ---------------------------------------


def test_a_registry_written_as_json_is_the_same_registry(example: Registry) -> None:
    data = yaml.safe_load(REGISTRY_FILE.read_text(encoding="utf-8"))
    reg = parse_registry("\ufeff\n" + json.dumps(data, ensure_ascii=False, indent=1))
    assert reg.enterprises == example.enterprises
    assert reg.hazard_sources == example.hazard_sources
    assert reg.sensors == example.sensors
    assert reg.warnings == example.warnings


def test_an_error_in_a_json_registry_has_its_path_and_line() -> None:
    data = yaml.safe_load(VALID_HEAD)
    data["enterprises"][0]["hazard_sources"][0]["sensors"] = [
        {"tag": "A.1", "kind": "level", "unit": "m", "range": [1, 0]},
    ]
    text = json.dumps(data, ensure_ascii=False, indent=1)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if '"tag": "A.1"' in t) - 1
    (problem,) = problems_of(text)
    assert problem.startswith(f"enterprises[0].hazard_sources[0].sensors[0] (line {line}): ")
    assert "range must be [low, high]" in problem


def test_flow_yaml_that_is_not_json_is_still_yaml() -> None:
    data = yaml.safe_load(VALID_HEAD)
    text = json.dumps(data, ensure_ascii=False).replace('"enterprises"', "enterprises", 1)
    text = "# province export\n" + text  # a comment and an unquoted key: YAML, not JSON
    reg = parse_registry(text)
    assert list(reg.enterprises) == [ENT]


def test_broken_json_is_reported_as_yaml_with_its_line() -> None:
    (problem,) = problems_of('{"enterprises": [\n  {"code": "x",,}\n]}')
    assert problem.startswith("not valid YAML (line 2)")
