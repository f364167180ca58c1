"""The regions file: the administrative tree and its grid of responsibility (网格).

```yaml
provinces:
  - code: "320000"          # GB/T 2260, 6 digits
    name: 江苏省
    officials: [{name: 王某, duty: 省应急管理厅值班室, phone: "025-83000000"}]
    cities:
      - code: "320900"
        name: 盐城市
        counties:
          - code: "320921"
            name: 响水县
            cells:
              - code: "320921401"   # the county's code + 3 digits
                kind: chemical_park
                name: 响水生态化工园区
                enterprises: [91320921MA1XXXXX0Q]
```

Each level has its name and its officials ("定责定人": name, duty, phone, e-mail). The
codes must nest: a province is ``PP0000``, its cities ``PPCC00``, their counties
``PPCCDD`` (DD ≠ 00), and a cell is its county's code plus three digits, as in the
statistical division codes (统计用区划代码), whose township segment gives 001-099 to
streets, 100-399 to towns and townships and 400-599 to development zones and parks. An
enterprise sits in a county (the registry's ``region``) and, when a cell lists it, in that
cell too.

The file is validated like the registry: strict models, then the checks a model cannot
express (nesting, duplicates), every problem collected with its path and line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Shared with the registry loader so every file reports its places the same way.
from hazmon.domain.configfile import ConfigFileError, parse_config, read_config
from hazmon.domain.ids import ENTERPRISE_PATTERN
from hazmon.domain.registry import Loc
from hazmon.domain.registry import _where as where

PHONE_PATTERN = r"^\+?[0-9 -]{5,20}$"  # as the registry's contacts: landlines with area codes
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

ProvinceCode = Annotated[str, Field(pattern=r"^[1-9][0-9]0000$")]
CityCode = Annotated[str, Field(pattern=r"^[1-9][0-9]{3}00$")]
CountyCode = Annotated[str, Field(pattern=r"^[1-9][0-9]{5}$")]
CellCode = Annotated[str, Field(pattern=r"^[1-9][0-9]{8}$")]
EnterpriseCode = Annotated[str, Field(pattern=f"^{ENTERPRISE_PATTERN}$")]


class Level(StrEnum):
    """The levels of the tree, lowest first; also the regulator levels a warning reaches."""

    CELL = "cell"
    COUNTY = "county"
    CITY = "city"
    PROVINCE = "province"

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)

    def above(self) -> Level | None:
        """The next level up, None for the province."""
        i = self.rank + 1
        return _LEVEL_ORDER[i] if i < len(_LEVEL_ORDER) else None


_LEVEL_ORDER: tuple[Level, ...] = (Level.CELL, Level.COUNTY, Level.CITY, Level.PROVINCE)


class CellKind(StrEnum):
    STREET = "street"  # 街道
    TOWNSHIP = "township"  # 乡镇
    CHEMICAL_PARK = "chemical_park"  # 化工园区


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Official(_Strict):
    """A person answering for a unit of the grid: who, in what duty, how to reach them."""

    name: str = Field(min_length=1)
    duty: str = Field(min_length=1)  # e.g. 分管副县长, 应急管理局危化科科长, 值班室
    phone: str = Field(pattern=PHONE_PATTERN)
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN)


class Cell(_Strict):
    code: CellCode
    kind: CellKind
    name: str = Field(min_length=1)
    officials: list[Official] = Field(default_factory=list)
    enterprises: list[EnterpriseCode] = Field(default_factory=list)


class County(_Strict):
    code: CountyCode
    name: str = Field(min_length=1)
    officials: list[Official] = Field(default_factory=list)
    cells: list[Cell] = Field(default_factory=list)


class City(_Strict):
    code: CityCode
    name: str = Field(min_length=1)
    officials: list[Official] = Field(default_factory=list)
    counties: list[County] = Field(default_factory=list)


class Province(_Strict):
    code: ProvinceCode
    name: str = Field(min_length=1)
    officials: list[Official] = Field(default_factory=list)
    cities: list[City] = Field(default_factory=list)


class RegionsFile(_Strict):
    provinces: list[Province] = Field(min_length=1)


Unit = Province | City | County | Cell


@dataclass(frozen=True, slots=True)
class Place:
    """Where something sits: every level above it, from the province down."""

    province: Province
    city: City | None = None  # None for a province's own code
    county: County | None = None  # None for a city's own code
    cell: Cell | None = None

    def unit(self, level: Level) -> Unit | None:
        match level:
            case Level.PROVINCE:
                return self.province
            case Level.CITY:
                return self.city
            case Level.COUNTY:
                return self.county
            case Level.CELL:
                return self.cell

    def chain(self) -> tuple[tuple[Level, Unit], ...]:
        """(level, unit) from the lowest one present up to the province."""
        out: list[tuple[Level, Unit]] = []
        for level in _LEVEL_ORDER:
            unit = self.unit(level)
            if unit is not None:
                out.append((level, unit))
        return tuple(out)


class RegionsError(ConfigFileError):
    """The regions file cannot be used; `problems` lists each one with its place."""

    what = "regions"


@dataclass(frozen=True, slots=True)
class Regions:
    """The loaded tree, indexed by code (province, city, county, cell) and enterprise."""

    provinces: tuple[Province, ...]
    _places: Mapping[str, Place]
    _enterprise_cells: Mapping[str, str]
    source: str = ""

    def place(self, code: str) -> Place | None:
        """The place of a region code (province, city, county or cell) or of an
        enterprise listed in a cell; None when the file does not know it."""
        cell = self._enterprise_cells.get(code)
        return self._places.get(cell if cell is not None else code)

    def enterprise_place(self, enterprise: str, region: str) -> Place | None:
        """An enterprise's place: its cell when one lists it, else its registry region.
        A cell of another county than `region` is not trusted: the registry decides."""
        cell = self._enterprise_cells.get(enterprise)
        if cell is not None and cell.startswith(region):
            return self._places[cell]
        return self._places.get(region)

    def county_of(self, code: str) -> County | None:
        p = self.place(code)
        return p.county if p is not None else None

    def city_of(self, code: str) -> City | None:
        p = self.place(code)
        return p.city if p is not None else None

    def province_of(self, code: str) -> Province | None:
        p = self.place(code)
        return p.province if p is not None else None

    def ancestors(self, code: str) -> tuple[Unit, ...]:
        """The units above `code`, nearest first (a cell: county, city, province);
        empty when unknown."""
        p = self._places.get(code)
        if p is None:
            return ()
        units = [u for _, u in p.chain()]
        return tuple(u for u in units if u.code != code)

    def officials(self, code: str, level: Level) -> tuple[Official, ...]:
        """The officials of the unit at `level` that `code` (a region, cell or listed
        enterprise) belongs to; empty when there is no such unit or nobody is named."""
        p = self.place(code)
        unit = p.unit(level) if p is not None else None
        return tuple(unit.officials) if unit is not None else ()

    def codes(self) -> Iterator[str]:
        return iter(self._places)


# --- loading ------------------------------------------------------------------------------


def load_regions(path: str | Path) -> Regions:
    """Read and validate a regions file; raise RegionsError listing every problem."""
    text, source = read_config(path, RegionsError)
    return parse_regions(text, source=source)


def parse_regions(text: str, source: str = "<regions>") -> Regions:
    model, lines = parse_config(text, source, RegionsFile, RegionsError)
    return _index(model, lines, source)


def _index(model: RegionsFile, lines: Mapping[Loc, int], source: str) -> Regions:
    problems: list[str] = []
    places: dict[str, Place] = {}
    enterprise_cells: dict[str, str] = {}

    def claim(code: str, loc: Loc, place: Place) -> bool:
        if code in places:
            problems.append(f"{where((*loc, 'code'), lines)}: duplicate code {code}")
            return False
        places[code] = place
        return True

    def nests(code: str, parent: str, prefix: int, loc: Loc, what: str) -> bool:
        if code[:prefix] != parent[:prefix]:
            problems.append(
                f"{where((*loc, 'code'), lines)}: {what} {code} does not belong to {parent} "
                f"(its first {prefix} digits must be {parent[:prefix]})"
            )
            return False
        return True

    for pi, prov in enumerate(model.provinces):
        ploc: Loc = ("provinces", pi)
        if prov.code in places:
            problems.append(f"{where((*ploc, 'code'), lines)}: duplicate code {prov.code}")
            continue
        for ci, city in enumerate(prov.cities):
            cloc: Loc = (*ploc, "cities", ci)
            if not nests(city.code, prov.code, 2, cloc, "city"):
                continue
            if city.code.endswith("0000"):
                problems.append(
                    f"{where((*cloc, 'code'), lines)}: city {city.code} is a province code"
                )
                continue
            if not claim(city.code, cloc, Place(prov, city, None)):
                continue
            for ki, county in enumerate(city.counties):
                kloc: Loc = (*cloc, "counties", ki)
                if not nests(county.code, city.code, 4, kloc, "county"):
                    continue
                if county.code.endswith("00"):
                    problems.append(
                        f"{where((*kloc, 'code'), lines)}: county {county.code} is a city code"
                    )
                    continue
                if not claim(county.code, kloc, Place(prov, city, county)):
                    continue
                for xi, cell in enumerate(county.cells):
                    xloc: Loc = (*kloc, "cells", xi)
                    if not nests(cell.code, county.code, 6, xloc, "cell"):
                        continue
                    if not claim(cell.code, xloc, Place(prov, city, county, cell)):
                        continue
                    for ei, ent in enumerate(cell.enterprises):
                        if ent in enterprise_cells:
                            problems.append(
                                f"{where((*xloc, 'enterprises', ei), lines)}: enterprise {ent} "
                                f"is already in cell {enterprise_cells[ent]}"
                            )
                        else:
                            enterprise_cells[ent] = cell.code
        places[prov.code] = Place(prov)

    if problems:
        raise RegionsError(source, problems)
    return Regions(tuple(model.provinces), places, enterprise_cells, source)

