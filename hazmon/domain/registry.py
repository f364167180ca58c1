"""The registry of docs/CONTRACT.md §4: enterprises, hazard sources and sensors.

The YAML file loads into strict pydantic models (`extra="forbid"`), then goes through the
checks a model cannot express alone (uniqueness, gas names, tiers). Every problem found
is collected and raised together, each with its path in the file and its line, so a
misspelled key or a duplicate tag is fixed in one round.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import logging
import math
import pickle
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hazmon.domain import chemicals, gases, tier
from hazmon.domain.ids import (
    ENTERPRISE_PATTERN,
    HAZARD_SOURCE_PATTERN,
    REGION_PATTERN,
    TAG_PATTERN,
)
from hazmon.domain.rulespec import SensorRules, VotingRule
from hazmon.domain.sharing import Sharer

log = logging.getLogger(__name__)

RegionCode = Annotated[str, Field(pattern=f"^{REGION_PATTERN}$")]
EnterpriseCode = Annotated[str, Field(pattern=f"^{ENTERPRISE_PATTERN}$")]
HazardSourceCode = Annotated[str, Field(pattern=f"^{HAZARD_SOURCE_PATTERN}$")]
TagCode = Annotated[str, Field(pattern=f"^{TAG_PATTERN}$")]


class SensorKind(StrEnum):
    PRESSURE = "pressure"
    TEMPERATURE = "temperature"
    LEVEL = "level"
    FLOW = "flow"
    GAS_COMBUSTIBLE = "gas_combustible"
    GAS_TOXIC = "gas_toxic"
    OXYGEN = "oxygen"
    HUMIDITY = "humidity"


GAS_KINDS = frozenset({SensorKind.GAS_COMBUSTIBLE, SensorKind.GAS_TOXIC})


class HazardSourceKind(StrEnum):
    TANK_FARM = "tank_farm"
    PRODUCTION_UNIT = "production_unit"
    WAREHOUSE = "warehouse"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Contact(_Strict):
    """A person in the MHS responsibility chain (包保责任人)."""

    role: Literal["principal", "technical", "operational"]
    name: str = Field(min_length=1)
    phone: str = Field(pattern=r"^\+?[0-9 -]{5,20}$")
    email: str | None = None


class InventoryItem(_Strict):
    """A chemical's design maximum quantity in the unit (GB 18218: q, tonnes)."""

    chemical: str = Field(min_length=1)
    cas: str | None = Field(default=None, pattern=r"^[0-9]{2,7}-[0-9]{2}-[0-9]$")
    tonnes: float = Field(ge=0)
    # For a chemical outside the built-in tables: its Q and β, from GB 18218 Table 2/4.
    critical_tonnes: float | None = Field(default=None, gt=0)
    beta: float | None = Field(default=None, gt=0)


class Limits(_Strict):
    low_low: float | None = None
    low: float | None = None
    high: float | None = None
    high_high: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Limits:
        for (n1, v1), (n2, v2) in pairwise(self.items()):
            if not v1 < v2:
                raise ValueError(f"limits out of order: {n1} {v1} must be below {n2} {v2}")
        return self

    def items(self) -> list[tuple[str, float]]:
        """The limits that are set, from low_low to high_high."""
        order = (
            ("low_low", self.low_low),
            ("low", self.low),
            ("high", self.high),
            ("high_high", self.high_high),
        )
        return [(n, v) for n, v in order if v is not None]


class Sensor(_Strict):
    tag: TagCode
    kind: SensorKind
    unit: str = Field(min_length=1, max_length=16)
    range: tuple[float, float]
    limits: Limits | None = None
    gas: str | None = None
    name: str | None = None
    rules: SensorRules | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Sensor:
        lo, hi = self.range
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"range must be [low, high] with low < high, got [{lo}, {hi}]")
        if self.kind in GAS_KINDS and self.gas is None:
            raise ValueError(f"a {self.kind} detector needs `gas:`")
        if self.kind not in GAS_KINDS and self.gas is not None:
            raise ValueError(f"`gas:` is only for gas detectors, not {self.kind}")
        return self


class HazardSource(_Strict):
    code: HazardSourceCode
    name: str = Field(min_length=1)
    kind: HazardSourceKind
    population_exposed: int = Field(ge=0)
    inventory: list[InventoryItem] = Field(min_length=1)
    tier: int | None = Field(default=None, ge=1, le=4)
    # The source's own 包保 chain (2021 rules); a role it does not name falls back to the
    # enterprise's contact of that role (hazmon.warnings.chain). Optional: older
    # registries name the enterprise's contacts only.
    contacts: list[Contact] = Field(default_factory=list)
    sensors: list[Sensor] = Field(default_factory=list)
    voting: list[VotingRule] = Field(default_factory=list)


class Enterprise(_Strict):
    code: EnterpriseCode
    name: str = Field(min_length=1)
    region: RegionCode
    # A simulated plant (demo, drill, test feed): its readings and alarms are marked as
    # such end to end and never page real people.
    simulated: bool = False
    location: Location | None = None
    contacts: list[Contact] = Field(default_factory=list)
    hazard_sources: list[HazardSource] = Field(default_factory=list)


class RegistryFile(_Strict):
    enterprises: list[Enterprise]


# --- the loaded, indexed registry -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """Everything the hot path needs about one sensor, found with one dict lookup."""

    enterprise: Enterprise
    hazard_source: HazardSource
    sensor: Sensor
    region: str
    limits: Limits | None  # explicit limits, or the GB 50493 defaults for a gas detector
    limits_basis: str  # where the limits come from: "registry" or the GB 50493 basis


@dataclass(frozen=True, slots=True)
class HazardSourceInfo:
    enterprise: Enterprise
    hazard_source: HazardSource
    grading: tier.Grading


@dataclass(frozen=True, slots=True)
class Registry:
    enterprises: Mapping[str, Enterprise]
    hazard_sources: Mapping[tuple[str, str], HazardSourceInfo]
    sensors: Mapping[tuple[str, str], SensorInfo]
    warnings: tuple[str, ...] = ()
    source: str = ""
    _by_enterprise: Mapping[str, Mapping[str, SensorInfo]] = field(default_factory=dict)

    @property
    def regions(self) -> frozenset[str]:
        return frozenset(e.region for e in self.enterprises.values())

    def sensor(self, enterprise: str, tag: str) -> SensorInfo | None:
        return self.sensors.get((enterprise, tag))

    def sensors_of(self, enterprise: str) -> Mapping[str, SensorInfo]:
        """Tag → sensor for one enterprise (empty when unknown)."""
        return self._by_enterprise.get(enterprise, {})


class RegistryError(Exception):
    """The registry file cannot be used; `problems` lists each one with its place."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid registry {source}: {len(self.problems)} problem(s)\n{lines}")


# --- loading ------------------------------------------------------------------------------

Loc = tuple[str | int, ...]


# libyaml when PyYAML was built with it (Debian's and the wheels are): 4-10x faster on a
# province's registry than the pure-Python loader, which stays the fallback.
YAML_LOADER: Final[type[yaml.SafeLoader]] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineIndex(Mapping[Loc, int]):
    """Path → line, built from the text only when an error or warning first asks."""

    def __init__(self, text: str) -> None:
        self._text = text

    @functools.cached_property
    def _index(self) -> dict[Loc, int]:
        return _line_index(self._text)

    def __getitem__(self, loc: Loc) -> int:
        return self._index[loc]

    def __iter__(self) -> Iterator[Loc]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def _line_index(text: str) -> dict[Loc, int]:
    """Map each path in the YAML document to its 1-based line, for error messages."""
    index: dict[Loc, int] = {}
    try:
        root = yaml.compose(text, Loader=YAML_LOADER)
    except yaml.YAMLError:
        return index

    def walk(node: yaml.Node, path: Loc) -> None:
        index[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                k = key.value
                index[(*path, k)] = key.start_mark.line + 1
                walk(value, (*path, k))
                index[(*path, k)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return index


def format_loc(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def _where(loc: Loc, lines: Mapping[Loc, int]) -> str:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return f"{format_loc(loc)} (line {lines[loc[:n]]})"
    return format_loc(loc)


def _pydantic_loc(raw: tuple[int | str, ...]) -> Loc:
    # Validators on a model report their errors at the model itself; drop pydantic's
    # internal segments such as "function-after[...]".
    return tuple(p for p in raw if not (isinstance(p, str) and "[" in p))


def load_registry(path: str | Path) -> Registry:
    """Read, validate and index a registry file; raise RegistryError listing every problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(str(p), [f"cannot read file: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:  # e.g. saved as GBK: a reload must not crash on it
        raise RegistryError(
            str(p), [f"file is not UTF-8 (byte {exc.start}): save it as UTF-8"]
        ) from exc
    return parse_registry(text, source=str(p))


def parse_registry(text: str, source: str = "<registry>") -> Registry:
    # Compacted: the registry is rebuilt from a pickle once everything else of the parse
    # is freed. Parsing a province's YAML peaks at about 18 KiB per sensor (libyaml's
    # node graph, then the data tree and pydantic's temporaries), and the registry's own
    # objects, built among those, end up scattered over the memory of that peak, which
    # the process then keeps: a 10k-sensor registry held about 5.6 KiB of RSS per sensor
    # for 0.5 KiB of live objects. Rebuilt in one go they are packed together, and the
    # peak is given back (`bench/NOTES.md`, Memory). Sharing (`sharing.Sharer`) survives:
    # pickle keeps one object for one object.
    blob = pickle.dumps(_parse(text, source), protocol=pickle.HIGHEST_PROTOCOL)
    gc.collect()  # the parse's garbage in reference cycles too, before the rebuild
    registry: Registry = pickle.loads(blob)
    del blob
    _release_free_memory()
    return registry


def _release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim; elsewhere a
    no-op): freed parse memory below a chunk still in use is otherwise kept."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A file that is not YAML, said with the line where the parser stopped."""
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1})" if mark is not None else ""
    return f"not valid YAML{where}: {exc}"


def _load_document(text: str) -> Any:
    """The file's data. A registry written as JSON (YAML's flow style: what a database
    export produces) is read by orjson, without libyaml's node graph: 10k sensors load in
    0.5 s instead of 3.8 s. Anything else, or JSON that orjson refuses, is read as YAML."""
    body = text.lstrip("\ufeff \t\r\n")
    if body.startswith("{"):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # e.g. a flow mapping with comments or unquoted keys: YAML it is
    return yaml.load(text, Loader=YAML_LOADER)  # a safe loader (C or Python)


def _parse(text: str, source: str) -> Registry:
    try:
        data: Any = _load_document(text)
    except yaml.YAMLError as exc:
        raise RegistryError(source, [yaml_problem(exc)]) from exc
    lines = LineIndex(text)
    sharer = Sharer()
    try:
        model = validate_file(data, sharer)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _pydantic_loc(err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append(f"{_where(loc, lines)}: {msg}")
        # The checks a model cannot express, on the raw data: so that a schema error does
        # not hide an unknown gas or a duplicate tag until the next round.
        problems.extend(_raw_problems(data, lines))
        raise RegistryError(source, problems) from exc
    return _index(model, lines, source, sharer)


def validate_file(data: Any, sharer: Sharer) -> RegistryFile:
    """The file's models, built a sensor at a time with their repeats shared (`sharing`).

    Sharing each piece as soon as it is built keeps the garbage to one sensor's worth at a
    time; validated whole, a province's duplicates would all exist at once on top of the
    parse's peak. Models accept already-built models of their fields, so the checks are
    the same. A file with any error is validated whole, for pydantic's complete list with
    places."""
    if isinstance(data, dict) and data.keys() == {"enterprises"}:
        try:
            return RegistryFile.model_construct(
                enterprises=[_enterprise(e, sharer) for e in data["enterprises"]]
            )
        except (ValidationError, TypeError, AttributeError):
            pass
    return sharer.model(RegistryFile.model_validate(data))  # raises on a bad file


def _enterprise(raw: dict[str, Any], sharer: Sharer) -> Enterprise:
    sources = raw.get("hazard_sources", [])
    if not isinstance(sources, list):
        return sharer.model(Enterprise.model_validate(raw))
    built = []
    for hs in sources:
        sensors = hs.get("sensors", [])
        if isinstance(sensors, list):
            hs = {**hs, "sensors": [sharer.model(Sensor.model_validate(s)) for s in sensors]}
        built.append(sharer.model(HazardSource.model_validate(hs)))
    return sharer.model(Enterprise.model_validate({**raw, "hazard_sources": built}))


def _raw_problems(data: Any, lines: Mapping[Loc, int]) -> list[str]:
    """Duplicates, unknown gases and unknown chemicals in a file that failed validation."""
    problems: list[str] = []

    def items(parent: Any, key: str) -> list[tuple[int, dict[str, Any]]]:
        seq = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(seq, list):
            return []
        return [(i, x) for i, x in enumerate(seq) if isinstance(x, dict)]

    ent_codes: set[Any] = set()
    for ei, ent in items(data, "enterprises"):
        eloc: Loc = ("enterprises", ei)
        code = ent.get("code")
        if isinstance(code, str) and code in ent_codes:
            problems.append(f"{_where((*eloc, 'code'), lines)}: duplicate enterprise {code}")
            continue
        ent_codes.add(code)
        hs_codes: set[Any] = set()
        tags: set[Any] = set()
        for hi, hs in items(ent, "hazard_sources"):
            hloc: Loc = (*eloc, "hazard_sources", hi)
            hcode = hs.get("code")
            if isinstance(hcode, str) and hcode in hs_codes:
                where = _where((*hloc, "code"), lines)
                problems.append(f"{where}: duplicate hazard source {hcode}")
                continue
            hs_codes.add(hcode)
            for ii, item in items(hs, "inventory"):
                name, cas = item.get("chemical"), item.get("cas")
                if (isinstance(name, str) and name
                        and item.get("critical_tonnes") is None and item.get("beta") is None
                        and chemicals.find_chemical(name, cas if isinstance(cas, str) else None)
                        is None):
                    problems.append(
                        f"{_where((*hloc, 'inventory', ii, 'chemical'), lines)}: unknown "
                        f"chemical {name!r}: give a known name or CAS, or its critical_tonnes "
                        "and beta"
                    )
            for si, sensor in items(hs, "sensors"):
                sloc: Loc = (*hloc, "sensors", si)
                tag = sensor.get("tag")
                if isinstance(tag, str) and tag in tags:
                    problems.append(f"{_where((*sloc, 'tag'), lines)}: duplicate tag {tag}")
                    continue
                tags.add(tag)
                gas = sensor.get("gas")
                if isinstance(gas, str) and gases.find_gas(gas) is None:
                    problems.append(f"{_where((*sloc, 'gas'), lines)}: unknown gas {gas!r}")
    return problems


def _index(
    model: RegistryFile, lines: Mapping[Loc, int], source: str, sharer: Sharer
) -> Registry:
    problems: list[str] = []
    warnings: list[str] = []
    enterprises: dict[str, Enterprise] = {}
    hazard_sources: dict[tuple[str, str], HazardSourceInfo] = {}
    sensors: dict[tuple[str, str], SensorInfo] = {}

    for ei, ent in enumerate(model.enterprises):
        eloc: Loc = ("enterprises", ei)
        if ent.code in enterprises:
            problems.append(f"{_where((*eloc, 'code'), lines)}: duplicate enterprise {ent.code}")
            continue
        enterprises[ent.code] = ent
        for hi, hs in enumerate(ent.hazard_sources):
            hloc: Loc = (*eloc, "hazard_sources", hi)
            if (ent.code, hs.code) in hazard_sources:
                problems.append(
                    f"{_where((*hloc, 'code'), lines)}: duplicate hazard source {hs.code}"
                )
                continue
            roles: set[str] = set()
            for ci, contact in enumerate(hs.contacts):
                if contact.role in roles:  # the chain takes one person per role
                    where = _where((*hloc, "contacts", ci, "role"), lines)
                    problems.append(f"{where}: duplicate contact role {contact.role} "
                                    f"of hazard source {hs.code}")
                roles.add(contact.role)
            grading = _grade(hs, hloc, lines, problems, warnings)
            if grading is not None:
                hazard_sources[(ent.code, hs.code)] = HazardSourceInfo(ent, hs, grading)
            for si, sensor in enumerate(hs.sensors):
                sloc: Loc = (*hloc, "sensors", si)
                if (ent.code, sensor.tag) in sensors:
                    problems.append(f"{_where((*sloc, 'tag'), lines)}: duplicate tag {sensor.tag}")
                    continue
                resolved = _sensor_limits(sensor, sloc, lines, problems)
                if resolved is not None:
                    limits, basis = resolved
                    if limits is not None:  # the GB 50493 defaults are built per sensor
                        limits = sharer.model(limits)
                    sensors[(ent.code, sensor.tag)] = SensorInfo(
                        ent, hs, sensor, ent.region, limits, basis
                    )
            kinds = {s.tag: s.kind for s in hs.sensors}
            vote_names: set[str] = set()
            for vi, vote in enumerate(hs.voting):
                if vote.name in vote_names:
                    where = _where((*hloc, "voting", vi, "name"), lines)
                    problems.append(f"{where}: duplicate voting rule {vote.name}")
                vote_names.add(vote.name)
                for ti, vtag in enumerate(vote.tags):
                    where = _where((*hloc, "voting", vi, "tags", ti), lines)
                    if vtag not in kinds:
                        problems.append(
                            f"{where}: voting tag {vtag} is not a sensor of {hs.code}"
                        )
                    elif kinds[vtag] not in GAS_KINDS:
                        problems.append(
                            f"{where}: voting tag {vtag} is a {kinds[vtag]}, not a gas detector"
                        )

    if problems:
        raise RegistryError(source, problems)
    for w in warnings:
        log.warning("registry %s: %s", source, w)
    by_ent: dict[str, dict[str, SensorInfo]] = {}
    for (ent_code, tag), info in sensors.items():
        by_ent.setdefault(ent_code, {})[tag] = info
    return Registry(enterprises, hazard_sources, sensors, tuple(warnings), source, by_ent)


def _grade(
    hs: HazardSource,
    hloc: Loc,
    lines: Mapping[Loc, int],
    problems: list[str],
    warnings: list[str],
) -> tier.Grading | None:
    items: list[tuple[chemicals.Chemical, float]] = []
    for ii, item in enumerate(hs.inventory):
        chem = chemicals.find_chemical(item.chemical, item.cas)
        if item.critical_tonnes is not None or item.beta is not None:
            base = chem or chemicals.Chemical(
                key=item.chemical, name_cn=item.chemical, cas=item.cas,
                critical_tonnes=item.critical_tonnes or 1.0, beta=item.beta or 1.0,
                source="registry file",
            )
            chem = chemicals.Chemical(
                key=base.key, name_cn=base.name_cn, cas=base.cas,
                critical_tonnes=item.critical_tonnes or base.critical_tonnes,
                beta=item.beta or base.beta, source="registry file",
            )
        if chem is None:
            problems.append(
                f"{_where((*hloc, 'inventory', ii, 'chemical'), lines)}: unknown chemical "
                f"{item.chemical!r}: give a known name or CAS, or its critical_tonnes and beta"
            )
            continue
        items.append((chem, item.tonnes))
    if len(items) != len(hs.inventory):
        return None
    grading = tier.grade(items, hs.population_exposed)
    # The place only when there is a warning: looking it up builds the line index, a
    # second parse of the whole file.
    if not grading.is_major:
        warnings.append(
            f"{_where((*hloc, 'tier'), lines)}: {hs.code} is not a major hazard source "
            f"(Σq/Q = {grading.ratio_sum:.3g} < 1)"
        )
    if hs.tier is not None and hs.tier != grading.tier:
        warnings.append(
            f"{_where((*hloc, 'tier'), lines)}: declared tier {hs.tier} but GB 18218-2018 "
            f"gives tier {grading.tier} (R = {grading.r:.1f})"
        )
    return grading


def _sensor_limits(
    sensor: Sensor, sloc: Loc, lines: Mapping[Loc, int], problems: list[str]
) -> tuple[Limits | None, str] | None:
    if sensor.gas is None:
        return sensor.limits, "registry"
    gas = gases.find_gas(sensor.gas)
    if gas is None:
        problems.append(f"{_where((*sloc, 'gas'), lines)}: unknown gas {sensor.gas!r}")
        return None
    if sensor.limits is not None:
        return sensor.limits, "registry"
    try:
        sp = gases.default_setpoints(gas, sensor.unit)
    except ValueError as exc:
        problems.append(f"{_where((*sloc, 'unit'), lines)}: {exc}")
        return None
    return Limits(high=sp.first, high_high=sp.second), f"GB 50493-2019: {sp.basis}"


def iter_sensors(registry: Registry) -> Iterator[SensorInfo]:
    return iter(registry.sensors.values())
