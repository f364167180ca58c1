"""Generate a docs/CONTRACT.md §4 registry of simulated enterprises, deterministic under a seed.

The generated plants look like real ones to every part of hazmon: valid credit codes in
real county regions, hazard sources of each kind whose inventories grade to each
GB 18218 tier, and the sensors AQ 3035 asks for, with ranges and limits. The enterprise
codes come back as a set (`GeneratedRegistry.simulated`) so the caller can flag them as
simulated: alarms from a drill must never page real people.

Tiers are computed here from a small built-in table. Only the toxic gases whose critical
quantity and β the project has confirmed (chlorine, ammonia, hydrogen sulphide) set the
tier; the flammables, whose values are still to verify, add a few R points at most and
each target R sits mid-band, so a different value elsewhere cannot move a tier.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import yaml

from hazmon.domain import chemicals
from hazmon.domain import tier as gb18218
from hazmon.simulators import uscc

# --- tables -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str  # county / district, used in enterprise names
    lat: float
    lon: float


REGIONS: Final[dict[str, Region]] = {
    r.code: r
    for r in (
        Region("320921", "响水", 34.20, 119.57),  # Yancheng Xiangshui (Chenjiagang park)
        Region("320902", "亭湖", 33.39, 120.16),  # Yancheng Tinghu
        Region("321002", "广陵", 32.39, 119.43),  # Yangzhou Guangling
        Region("320707", "赣榆", 34.84, 119.13),  # Lianyungang Ganyu
        Region("320412", "武进", 31.70, 119.94),  # Changzhou Wujin
    )
}
DEFAULT_REGIONS: Final = ("320921", "320902", "321002")


@dataclass(frozen=True, slots=True)
class ChemicalSpec:
    key: str  # the name written to the registry (known to hazmon.domain.chemicals)
    cas: str
    name_cn: str
    critical_tonnes: float  # GB 18218 Q
    beta: float  # GB 18218 β
    pressurised: bool  # stored as a liquefied gas (pressure vessel) or a gas
    gas: str  # the gas a detector for this chemical is set for


# Q and β for chlorine, ammonia and hydrogen sulphide are confirmed from GB 18218-2018
# Tables 1/2 (docs/STANDARDS.md §2.4); the rest are recalled values, used only in small quantities.
CHEMICALS: Final[dict[str, ChemicalSpec]] = {
    c.key: c
    for c in (
        ChemicalSpec("chlorine", "7782-50-5", "液氯", 5, 4, True, "chlorine"),
        ChemicalSpec("ammonia", "7664-41-7", "液氨", 10, 2, True, "ammonia"),
        ChemicalSpec("hydrogen sulphide", "7783-06-4", "硫化氢", 5, 5, True, "hydrogen sulphide"),
        ChemicalSpec("methanol", "67-56-1", "甲醇", 500, 1, False, "methanol"),
        ChemicalSpec("toluene", "108-88-3", "甲苯", 500, 1, False, "toluene"),
        ChemicalSpec("benzene", "71-43-2", "苯", 50, 1, False, "benzene"),
        ChemicalSpec("LPG", "68476-85-7", "液化石油气", 50, 1.5, True, "LPG"),
        ChemicalSpec("methane", "74-82-8", "甲烷", 50, 1.5, True, "methane"),
        ChemicalSpec("hydrogen", "1333-74-0", "氢气", 5, 1.5, True, "hydrogen"),
    )
}
PRIMARY: Final = ("chlorine", "ammonia")  # confirmed Q and β: these set the tier


@dataclass(frozen=True, slots=True)
class GasSpec:
    kind: str  # gas_toxic | gas_combustible
    unit: str
    range_hi: float
    first: float  # GB 50493 first-level setpoint in `unit`
    second: float


# Toxic setpoints: 100 % / 200 % of the OEL (MAC, else PC-STEL; GBZ 2.1) converted to ppm
# at 20 °C, 101.3 kPa (ppm = mg/m³ × 24.04 / M) as hazmon.domain.gases does, rounded down
# (GB 50493 sets upper bounds). Methanol, benzene and toluene reach their OEL long before
# 25 %LEL, so GB 50493 puts toxic detectors on them.
GASES: Final[dict[str, GasSpec]] = {
    "chlorine": GasSpec("gas_toxic", "ppm", 10, 0.33, 0.67),  # MAC 1 mg/m³, M 70.9
    "ammonia": GasSpec("gas_toxic", "ppm", 200, 42, 84),  # PC-STEL 30, M 17.03
    "hydrogen sulphide": GasSpec("gas_toxic", "ppm", 50, 7.0, 14),  # MAC 10, M 34.08
    "methanol": GasSpec("gas_toxic", "ppm", 200, 37, 75),  # PC-STEL 50, M 32.04
    "benzene": GasSpec("gas_toxic", "ppm", 20, 3.0, 6.1),  # PC-STEL 10, M 78.11
    "toluene": GasSpec("gas_toxic", "ppm", 200, 26, 52),  # PC-STEL 100, M 92.14
    "LPG": GasSpec("gas_combustible", "%LEL", 100, 25, 50),
    "methane": GasSpec("gas_combustible", "%LEL", 100, 25, 50),
    "hydrogen": GasSpec("gas_combustible", "%LEL", 100, 25, 50),
}

KINDS: Final = ("tank_farm", "production_unit", "warehouse")
# Target R per tier, mid-band (tier 1: R ≥ 100, 2: 50-100, 3: 10-50, 4: < 10).
_TARGET_R: Final = {1: 160.0, 2: 72.0, 3: 26.0, 4: 4.5}

_SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN: Final = ("伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰",
                 "涛", "明", "超", "秀英", "建国", "志强", "海燕", "晓东")
_FIRM_WORDS: Final = ("华泰", "天成", "苏化", "恒信", "金海", "联盛", "瑞祥", "东方",
                      "新阳", "博远", "宏达", "中盐")
_FIRM_KINDS: Final = ("化工有限公司", "化学有限公司", "石化有限公司", "新材料有限公司")


def grade(inventory: Sequence[tuple[str, float]], population: int) -> tuple[float, int]:
    """(R, tier) by hazmon's own GB 18218 grading, so the generator and the service agree."""
    items = []
    for name, tonnes in inventory:
        chem = chemicals.find_chemical(name, CHEMICALS[name].cas)
        if chem is None:
            raise KeyError(f"chemical {name!r} unknown to hazmon.domain.chemicals")
        items.append((chem, tonnes))
    g = gb18218.grade(items, population)
    return g.r, g.tier if g.tier is not None else 4


# --- output -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GeneratedRegistry:
    yaml_text: str  # docs/CONTRACT.md §4 YAML, ready for hazmon.domain.registry.parse_registry
    data: dict[str, Any]  # the same document as Python data
    simulated: frozenset[str]  # enterprise codes to flag as simulated
    tiers: dict[tuple[str, str], int]  # (enterprise, hazard source) -> expected tier
    seed: int


# --- generation ---------------------------------------------------------------------------


def generate_registry(
    enterprises: int,
    seed: int = 0,
    regions: Sequence[str] = DEFAULT_REGIONS,
    *,
    gas_default_limits: bool = False,
) -> GeneratedRegistry:
    """Generate `enterprises` simulated enterprises spread over `regions`.

    The first enterprise always has four hazard sources covering tiers 1-4 and all three
    kinds, so even a one-enterprise registry exercises every grade; the others have one
    to three. With `gas_default_limits` the gas detectors carry no `limits:` and take the
    GB 50493 defaults at load (exercising that path; the values then depend on
    hazmon.domain.gases).
    """
    if enterprises < 1:
        raise ValueError("need at least one enterprise")
    unknown = [r for r in regions if r not in REGIONS]
    if unknown or not regions:
        raise ValueError(f"unknown regions {unknown}; known: {sorted(REGIONS)}")
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    tiers: dict[tuple[str, str], int] = {}
    codes: set[str] = set()
    names: set[str] = set()
    counter = 0  # global hazard-source counter: cycles tiers and kinds across the registry
    for ei in range(enterprises):
        region = REGIONS[regions[ei % len(regions)]]
        code = uscc.make_code(rng, region.code)
        while code in codes:
            code = uscc.make_code(rng, region.code)
        codes.add(code)
        name = _firm_name(rng, region, names)
        n_sources = 4 if ei == 0 else rng.randint(1, 3)
        sources = []
        for hi in range(n_sources):
            tier = counter % 4 + 1
            kind = KINDS[hi % 3] if ei == 0 else KINDS[(counter + hi) % 3]
            counter += 1
            hs = _hazard_source(rng, f"MHS-{hi + 1:02d}", kind, tier, gas_default_limits)
            sources.append(hs)
            tiers[(code, hs["code"])] = tier
        docs.append(
            {
                "code": code,
                "name": name,
                "region": region.code,
                "simulated": True,
                "location": {
                    "lat": round(region.lat + rng.uniform(-0.05, 0.05), 4),
                    "lon": round(region.lon + rng.uniform(-0.05, 0.05), 4),
                },
                "contacts": _contacts(rng),
                "hazard_sources": sources,
            }
        )
    data: dict[str, Any] = {"enterprises": docs}
    header = (
        f"# Simulated registry: generated by hazmon.simulators (seed={seed}).\n"
        "# Every enterprise below is simulated; its alarms must not page real people.\n"
    )
    text = header + yaml.dump(
        data, Dumper=_CompactDumper, allow_unicode=True, sort_keys=False, width=100
    )
    return GeneratedRegistry(text, data, frozenset(codes), tiers, seed)


class _CompactDumper(yaml.SafeDumper):
    """Flow style for small leaves (ranges, limits, contacts) as in docs/CONTRACT.md §4."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(v, dict | list) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = len(data) <= 4 and all(not isinstance(v, dict | list) for v in data.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)


_CompactDumper.add_representer(list, _represent_list)
_CompactDumper.add_representer(dict, _represent_dict)


def _firm_name(rng: random.Random, region: Region, taken: set[str]) -> str:
    while True:
        name = f"[模拟]{region.name}{rng.choice(_FIRM_WORDS)}{rng.choice(_FIRM_KINDS)}"
        if name not in taken:
            taken.add(name)
            return name
        # Names repeat once the word list is exhausted: number them.
        name = f"{name}{len(taken) + 1}"
        if name not in taken:
            taken.add(name)
            return name


def _contacts(rng: random.Random) -> list[dict[str, str]]:
    out = []
    for role in ("principal", "technical", "operational"):
        person = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        phone = "+86" + rng.choice(("138", "139", "151", "187")) + f"{rng.randrange(10**8):08d}"
        out.append({"role": role, "name": person, "phone": phone})
    return out


def _population(rng: random.Random, tier: int) -> int:
    return {
        1: rng.randint(100, 400),
        2: rng.randint(50, 99),
        3: rng.randint(1, 29),
        4: 0,
    }[tier]


def _inventory(
    rng: random.Random, kind: str, tier: int, population: int
) -> list[tuple[str, float]]:
    """Chemicals and tonnes so that R lands on the tier's target."""
    primary = rng.choice(PRIMARY)
    if kind == "production_unit":
        secondary = ["hydrogen", "methane"] if primary == "ammonia" else ["hydrogen"]
    elif kind == "warehouse":
        secondary = [rng.choice(("methanol", "toluene"))]
    else:
        secondary = [rng.choice(("methanol", "toluene", "benzene", "LPG"))]
    items: list[tuple[str, float]] = []
    sec_sum = 0.0
    for chem in secondary:
        spec = CHEMICALS[chem]
        ratio = rng.uniform(0.2, 0.6)  # a few R points at most: see the module docstring
        tonnes = round(ratio * spec.critical_tonnes, 1)
        items.append((chem, tonnes))
        sec_sum += spec.beta * tonnes / spec.critical_tonnes
    p = CHEMICALS[primary]
    need = _TARGET_R[tier] / gb18218.alpha(population) - sec_sum
    tonnes = max(round(need / p.beta * p.critical_tonnes * 2) / 2, 0.5)
    return [(primary, tonnes), *items]


_HS_NAMES: Final = {
    "tank_farm": "{cn}罐区",
    "production_unit": "{cn}装置",
    "warehouse": "{cn}仓库",
}


def _hazard_source(
    rng: random.Random, code: str, kind: str, tier: int, gas_default_limits: bool
) -> dict[str, Any]:
    population = _population(rng, tier)
    inventory = _inventory(rng, kind, tier, population)
    _, computed = grade(inventory, population)
    if computed != tier:  # the targets are mid-band, so this means a table was edited badly
        raise RuntimeError(f"inventory {inventory} grades to tier {computed}, not {tier}")
    primary = CHEMICALS[inventory[0][0]]
    if kind == "tank_farm":
        sensors = _tank_farm_sensors(rng, code, inventory)
    elif kind == "production_unit":
        sensors = _production_sensors(rng, code, inventory)
    else:
        sensors = _warehouse_sensors(code, inventory)
    sensors += _gas_detectors(code, inventory, gas_default_limits)
    return {
        "code": code,
        "name": _HS_NAMES[kind].format(cn=primary.name_cn),
        "kind": kind,
        "population_exposed": population,
        "tier": tier,
        "inventory": [
            {"chemical": c, "cas": CHEMICALS[c].cas, "tonnes": t} for c, t in inventory
        ],
        "sensors": sensors,
    }


def _sensor(
    tag: str,
    kind: str,
    unit: str,
    lo: float,
    hi: float,
    name: str,
    **limits: float,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"tag": tag, "kind": kind, "unit": unit, "range": [lo, hi]}
    if limits:
        order = ("low_low", "low", "high", "high_high")
        doc["limits"] = {k: limits[k] for k in order if k in limits}
    doc["name"] = name
    return doc


def _tank_farm_sensors(
    rng: random.Random, code: str, inventory: list[tuple[str, float]]
) -> list[dict[str, Any]]:
    out = []
    for i, (chem, _) in enumerate(inventory):
        spec = CHEMICALS[chem]
        eq = f"T{101 + i}"
        p = f"{code}.{eq}"
        height = rng.choice((10.0, 12.0, 15.0, 16.0))
        out.append(_sensor(
            f"{p}.LT01", "level", "m", 0, height, f"{eq} 液位",
            low_low=round(height * 0.10, 2), low=round(height * 0.15, 2),
            high=round(height * 0.80, 2), high_high=round(height * 0.875, 2),
        ))
        if spec.pressurised:
            # Liquefied gas: vapour pressure, well below the design pressure (~2 MPa).
            high = 1.0 if chem == "chlorine" else 1.4
            out.append(_sensor(f"{p}.PT01", "pressure", "MPa", 0, 2.5, f"{eq} 压力",
                               high=high, high_high=round(high + 0.2, 2)))
            out.append(_sensor(f"{p}.TT01", "temperature", "°C", -40, 80, f"{eq} 温度",
                               high=40, high_high=50))
        else:
            # Atmospheric tank under a nitrogen blanket: breather valve and vacuum limits.
            out.append(_sensor(f"{p}.PT01", "pressure", "kPa", -2, 6, f"{eq} 压力",
                               low_low=-0.5, low=-0.3, high=2.0, high_high=3.0))
            out.append(_sensor(f"{p}.TT01", "temperature", "°C", -40, 80, f"{eq} 温度",
                               high=35, high_high=45))
        if i == 0:
            out.append(_sensor(f"{p}.FT01", "flow", "m3/h", 0, 120, f"{eq} 进料流量",
                               high=100, high_high=110))
    return out


def _production_sensors(
    rng: random.Random, code: str, inventory: list[tuple[str, float]]
) -> list[dict[str, Any]]:
    r, v = f"{code}.R101", f"{code}.V101"
    t_high = float(rng.choice((100, 120, 150)))
    return [
        _sensor(f"{r}.TT01", "temperature", "°C", 0, 250, "R101 反应温度",
                high=t_high, high_high=t_high + 10),
        _sensor(f"{r}.PT01", "pressure", "MPa", 0, 4, "R101 反应压力",
                high=2.2, high_high=2.5),
        _sensor(f"{r}.LT01", "level", "%", 0, 100, "R101 液位",
                low_low=10, low=20, high=80, high_high=90),
        _sensor(f"{r}.FT01", "flow", "m3/h", 0, 50, "R101 进料流量",
                low_low=5, low=10, high=40, high_high=45),
        _sensor(f"{v}.PT01", "pressure", "MPa", 0, 4, "V101 分离器压力",
                high=2.0, high_high=2.3),
        _sensor(f"{v}.LT01", "level", "%", 0, 100, "V101 液位",
                low_low=10, low=20, high=80, high_high=90),
        _sensor(f"{code}.OX01", "oxygen", "%VOL", 0, 25, "分析小屋 氧含量",
                low=19.5, high=23.5),
    ]


def _warehouse_sensors(code: str, inventory: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [
        _sensor(f"{code}.TT01", "temperature", "°C", -20, 60, "库房温度", high=30, high_high=35),
        _sensor(f"{code}.HT01", "humidity", "%RH", 0, 100, "库房湿度", high=80, high_high=90),
    ]


def _gas_detectors(
    code: str, inventory: list[tuple[str, float]], default_limits: bool
) -> list[dict[str, Any]]:
    """Four detectors for the primary chemical (a leak spreads across them), one more per
    other chemical with a different gas."""
    gases_: list[str] = [CHEMICALS[inventory[0][0]].gas] * 4
    for chem, _ in inventory[1:]:
        gas = CHEMICALS[chem].gas
        if gas not in gases_:
            gases_.append(gas)
    out = []
    for i, gas in enumerate(gases_):
        g = GASES[gas]
        doc = _sensor(f"{code}.GD{i + 1:02d}", g.kind, g.unit, 0, g.range_hi,
                      f"{CHEMICALS_BY_GAS[gas]}探测器 GD{i + 1:02d}",
                      **({} if default_limits else {"high": g.first, "high_high": g.second}))
        doc["gas"] = gas
        out.append(doc)
    return out


CHEMICALS_BY_GAS: Final = {c.gas: c.name_cn for c in CHEMICALS.values()}
