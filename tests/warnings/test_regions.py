"""The regions file: the example loads; codes nest; every problem is listed with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.domain.regions import (
    CellKind,
    Level,
    RegionsError,
    load_regions,
    parse_regions,
)
from tests.support import ENT, ENT2

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "regions.example.yaml"


def problems_of(text: str) -> list[str]:
    with pytest.raises(RegionsError) as info:
        parse_regions(text, source="regions.yaml")
    assert info.value.source == "regions.yaml"
    return info.value.problems


def tree(city: str = "320900", county: str = "320921", cell: str = "320921401",
         extra: str = "") -> str:
    return f"""\
provinces:
  - code: "320000"
    name: 江苏省
    cities:
      - code: "{city}"
        name: 盐城市
        counties:
          - code: "{county}"
            name: 响水县
            cells:
              - code: "{cell}"
                kind: chemical_park
                name: 园区
                enterprises: [{ENT}]
{extra}"""


# --- the example --------------------------------------------------------------------------


def test_the_example_loads_and_places_its_enterprise_in_its_park() -> None:
    regions = load_regions(EXAMPLE)
    place = regions.place(ENT)
    assert place is not None
    assert place.cell is not None
    assert place.cell.kind is CellKind.CHEMICAL_PARK
    assert (place.cell.code, place.county and place.county.code, place.city and place.city.code,
            place.province.code) == ("320921401", "320921", "320900", "320000")
    # Every level of the example names somebody to call.
    for code in regions.codes():
        p = regions.place(code)
        assert p is not None
        lowest = p.chain()[0][1]
        assert lowest.officials, f"{code} names no official"


def test_the_example_covers_the_test_registrys_regions() -> None:
    regions = load_regions(EXAMPLE)
    for region in ("320921", "320902"):
        county = regions.county_of(region)
        assert county is not None
        assert county.code == region


# --- lookups ------------------------------------------------------------------------------


def test_county_city_and_province_of_each_kind_of_code() -> None:
    regions = parse_regions(tree())
    for code in ("320921401", "320921", ENT):
        assert regions.county_of(code) is not None
        assert regions.county_of(code).code == "320921"  # type: ignore[union-attr]
        assert regions.city_of(code).code == "320900"  # type: ignore[union-attr]
        assert regions.province_of(code).code == "320000"  # type: ignore[union-attr]
    assert regions.county_of("320900") is None  # a city has no county
    assert regions.city_of("320000") is None  # a province has no city
    assert regions.province_of("320000").code == "320000"  # type: ignore[union-attr]
    assert regions.place("110000") is None
    assert regions.place(ENT2) is None  # listed in no cell


def test_ancestors_nearest_first_and_empty_for_unknown_codes() -> None:
    regions = parse_regions(tree())
    assert [u.code for u in regions.ancestors("320921401")] == ["320921", "320900", "320000"]
    assert [u.code for u in regions.ancestors("320921")] == ["320900", "320000"]
    assert [u.code for u in regions.ancestors("320900")] == ["320000"]
    assert regions.ancestors("320000") == ()
    assert regions.ancestors("999999") == ()


def test_officials_of_each_level_above_an_enterprise() -> None:
    regions = load_regions(EXAMPLE)
    assert [o.name for o in regions.officials(ENT, Level.CELL)] == ["吴军"]
    assert [o.name for o in regions.officials(ENT, Level.COUNTY)] == ["李海峰", "孙宏"]
    assert [o.name for o in regions.officials(ENT, Level.CITY)] == ["陈立新"]
    assert [o.duty for o in regions.officials(ENT, Level.PROVINCE)] == [
        "省应急管理厅危化监管处处长", "24小时值班"]
    assert regions.officials("320902", Level.CELL) == ()  # a county's code has no cell
    assert regions.officials("000000", Level.COUNTY) == ()


def test_an_enterprise_is_placed_by_its_cell_only_within_its_registry_county() -> None:
    regions = parse_regions(tree())
    in_park = regions.enterprise_place(ENT, "320921")
    assert in_park is not None
    assert in_park.cell is not None
    assert in_park.cell.code == "320921401"
    # The registry says another county: the registry wins, the cell is not trusted.
    text = tree().replace("        counties:\n", '        counties:\n'
                          '          - {code: "320902", name: 亭湖区}\n', 1)
    regions = parse_regions(text)
    elsewhere = regions.enterprise_place(ENT, "320902")
    assert elsewhere is not None
    assert elsewhere.cell is None
    assert elsewhere.county is not None
    assert elsewhere.county.code == "320902"
    assert regions.enterprise_place(ENT2, "320902") is not None  # no cell: its county
    assert regions.enterprise_place(ENT2, "110101") is None


def test_level_order_goes_up_to_the_province() -> None:
    assert [Level.CELL.above(), Level.COUNTY.above(), Level.CITY.above(),
            Level.PROVINCE.above()] == [Level.COUNTY, Level.CITY, Level.PROVINCE, None]


# --- errors with lines --------------------------------------------------------------------


def test_not_yaml_says_the_line() -> None:
    [problem] = problems_of("provinces:\n  - code: [\n")
    assert problem.startswith("not valid YAML (line 3)")


def test_codes_that_do_not_nest_are_each_reported_at_their_line() -> None:
    problems = problems_of(tree(city="330100"))
    assert problems == [
        "provinces[0].cities[0].code (line 5): city 330100 does not belong to 320000 "
        "(its first 2 digits must be 32)"
    ]
    problems = problems_of(tree(county="320821"))
    assert problems == [
        "provinces[0].cities[0].counties[0].code (line 8): county 320821 does not belong "
        "to 320900 (its first 4 digits must be 3209)"
    ]
    problems = problems_of(tree(cell="320922401"))
    assert problems == [
        "provinces[0].cities[0].counties[0].cells[0].code (line 11): cell 320922401 does "
        "not belong to 320921 (its first 6 digits must be 320921)"
    ]


def test_a_city_code_given_as_a_county_is_refused() -> None:
    assert problems_of(tree(county="320900", cell="320900401")) == [
        "provinces[0].cities[0].counties[0].code (line 8): county 320900 is a city code"
    ]


def test_schema_errors_have_their_paths_and_lines_all_at_once() -> None:
    text = """\
provinces:
  - code: "320001"
    name: 江苏省
    officials:
      - {name: 甲, duty: 值班, phone: "call me"}
      - {name: 乙, duty: 值班, phone: "13800000000", email: not-an-address}
    cities:
      - code: "3209"
        name: 盐城市
        mayor: 丙
        counties:
          - code: "320921"
            name: ""
            cells:
              - {code: "320921401", kind: industrial_zone, name: 园区, enterprises: [nope]}
"""
    problems = problems_of(text)
    assert sorted(p.split(":")[0] for p in problems) == sorted([
        "provinces[0].code (line 2)",
        "provinces[0].officials[0].phone (line 5)",
        "provinces[0].officials[1].email (line 6)",
        "provinces[0].cities[0].code (line 8)",
        "provinces[0].cities[0].mayor (line 10)",
        "provinces[0].cities[0].counties[0].name (line 13)",
        "provinces[0].cities[0].counties[0].cells[0].kind (line 15)",
        "provinces[0].cities[0].counties[0].cells[0].enterprises[0] (line 15)",
    ])
    assert "provinces[0].cities[0].mayor (line 10): unknown key" in problems


def test_duplicates_are_refused_with_their_lines() -> None:
    extra = f"""\
              - code: "320921401"
                kind: township
                name: 又一个
              - code: "320921100"
                kind: township
                name: 镇
                enterprises: [{ENT}]
"""
    assert problems_of(tree(extra=extra)) == [
        "provinces[0].cities[0].counties[0].cells[1].code (line 15): duplicate code 320921401",
        f"provinces[0].cities[0].counties[0].cells[2].enterprises[0] (line 21): enterprise "
        f"{ENT} is already in cell 320921401",
    ]


def test_an_empty_file_and_an_unreadable_file_are_refused(tmp_path: Path) -> None:
    assert problems_of("") == ["(top): Input should be a valid dictionary or instance of "
                               "RegionsFile"]
    bad = tmp_path / "gbk.yaml"
    bad.write_bytes("provinces: 江苏".encode("gbk"))
    with pytest.raises(RegionsError, match="not UTF-8"):
        load_regions(bad)
    with pytest.raises(RegionsError, match="cannot read file"):
        load_regions(tmp_path / "missing.yaml")
