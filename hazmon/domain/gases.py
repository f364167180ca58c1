"""Default gas-detector alarm setpoints of GB/T 50493-2019.

GB/T 50493-2019 "Standard for design of combustible gas and toxic gas detection and alarm
for petrochemical industry", alarm setpoints (confirmed, www.cdbihui.com article quoting
the clause):

- combustible gas: first-level alarm ≤ 25 %LEL, second-level ≤ 50 %LEL;
- toxic gas: first-level ≤ 100 %OEL, second-level ≤ 200 %OEL; where the detector's range
  cannot reach that, first-level ≤ 5 %IDLH and second-level ≤ 10 %IDLH.

The standard leaves open which occupational exposure limit (GBZ 2.1) is "the" OEL. We
default to MAC where the substance has one, else PC-STEL, else PC-TWA (the strictest
reading a short alarm window supports); the caller can choose another basis per gas.
Open-path detectors read LEL·m: 1 LEL·m and 2 LEL·m.

Sources of the per-gas numbers:

- [A] the OEL/IDLH list (mg/m³) reproduced from GB/T 50493-2019 in a detector vendor's
  article (www.bjime.com/jsshow-464492.html): MAC / PC-TWA / PC-STEL from GBZ 2.1-2019,
  IDLH.
- [N] NIOSH IDLH documentation (www.cdc.gov/niosh/idlh/<CAS>.html): LEL of methanol,
  benzene, toluene.
- [R] a Russian gas-safety rule's LEL table (consultant.ru, Приложение 1): methane 5.0,
  hydrogen 4.0, propane 2.1, ammonia 15.0, hydrogen sulphide 4.3, carbon monoxide 12.5.

A gas with any number we could not confirm is ``verified=False``; its ``source`` says which.
Flammable toxic gases whose LEL we could not confirm (hydrogen cyanide, acrylonitrile) are
modelled as toxic only: their toxic alarm governs anyway, by three orders of magnitude.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

# Reference conditions for ppm <-> mg/m³ (20 °C, 101.3 kPa, as Chinese workplace air
# sampling normalises to). 24.04 L/mol is 22.4 L/mol × 293/273, the figure in use in
# Chinese practice; the ideal-gas value at 20 °C and 101.3 kPa is 24.06 L/mol (0.1 %
# apart). Not confirmed from GBZ text: kept as the project's documented constant.
MOLAR_VOLUME_L_PER_MOL: Final = 24.04

# Normal-oxygen band for O2 detectors (%VOL): widely used, not confirmed from the text of
# GB/T 50493-2019.
OXYGEN_LOW_PCT_VOL: Final = 19.5
OXYGEN_HIGH_PCT_VOL: Final = 23.5
OXYGEN_SETPOINTS_VERIFIED: Final = False

COMBUSTIBLE_FIRST_PCT_LEL: Final = 25.0
COMBUSTIBLE_SECOND_PCT_LEL: Final = 50.0
OPEN_PATH_FIRST_LEL_M: Final = 1.0
OPEN_PATH_SECOND_LEL_M: Final = 2.0
TOXIC_FIRST_PCT_OEL: Final = 100.0
TOXIC_SECOND_PCT_OEL: Final = 200.0
TOXIC_FIRST_PCT_IDLH: Final = 5.0
TOXIC_SECOND_PCT_IDLH: Final = 10.0


class GasHazard(StrEnum):
    COMBUSTIBLE = "combustible"
    TOXIC = "toxic"


class OelBasis(StrEnum):
    MAC = "MAC"
    PC_STEL = "PC-STEL"
    PC_TWA = "PC-TWA"


_DEFAULT_BASIS_ORDER: Final = (OelBasis.MAC, OelBasis.PC_STEL, OelBasis.PC_TWA)


@dataclass(frozen=True, slots=True)
class Gas:
    key: str  # same key as hazmon.domain.chemicals where the same substance is meant
    name_cn: str
    cas: str | None
    molar_mass: float  # g/mol
    lel_pct_vol: float | None  # None when not (modelled as) combustible
    # GBZ 2.1 values that exist for this gas, mg/m³. Excluded from hashing: a mapping
    # cannot be hashed, and key identifies a gas anyway.
    oel_mg_m3: Mapping[OelBasis, float] = field(hash=False)
    idlh_mg_m3: float | None = None
    aliases: tuple[str, ...] = ()
    verified: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        if not self.molar_mass > 0:
            raise ValueError(f"{self.key}: molar mass must be > 0")
        if self.lel_pct_vol is not None and not 0 < self.lel_pct_vol < 100:
            raise ValueError(f"{self.key}: LEL must be within (0, 100) %VOL")
        if any(not v > 0 for v in self.oel_mg_m3.values()):
            raise ValueError(f"{self.key}: OEL values must be > 0 mg/m³")
        # Freeze the mapping so a shared table entry cannot be edited by a caller.
        object.__setattr__(self, "oel_mg_m3", MappingProxyType(dict(self.oel_mg_m3)))

    @property
    def hazards(self) -> frozenset[GasHazard]:
        found: set[GasHazard] = set()
        if self.lel_pct_vol is not None:
            found.add(GasHazard.COMBUSTIBLE)
        if self.oel_mg_m3:
            found.add(GasHazard.TOXIC)
        return frozenset(found)


@dataclass(frozen=True, slots=True)
class GasSetpoints:
    first: float  # 一级报警 (first-level), maps to the sensor's "high" limit
    second: float  # 二级报警 (second-level), maps to "high_high"
    unit: str  # the detector's unit (canonical spelling)
    hazard: GasHazard  # which hazard the setpoints are for
    basis: str  # human-readable, e.g. "25 %LEL / 50 %LEL"


_MAC, _STEL, _TWA = OelBasis.MAC, OelBasis.PC_STEL, OelBasis.PC_TWA
_A, _N, _R = "[A] GB/T 50493-2019 list", "[N] NIOSH", "[R] LEL table"


def _g(
    key: str,
    name_cn: str,
    cas: str | None,
    molar_mass: float,
    lel: float | None,
    oel: Mapping[OelBasis, float],
    idlh: float | None,
    source: str,
    aliases: tuple[str, ...] = (),
    verified: bool = True,
) -> Gas:
    return Gas(key, name_cn, cas, molar_mass, lel, oel, idlh, aliases, verified, source)


_GASES: Final = (
    # Combustible only.
    _g("methane", "甲烷", "74-82-8", 16.04, 5.0, {}, None, f"LEL {_R}",
       ("CH4", "natural gas", "natural_gas", "天然气", "NG")),
    _g("hydrogen", "氢", "1333-74-0", 2.016, 4.0, {}, None, f"LEL {_R}", ("氢气", "H2")),
    _g("propane", "丙烷", "74-98-6", 44.10, 2.1, {}, None, f"LEL {_R}", ("C3H8",)),
    _g("ethylene", "乙烯", "74-85-1", 28.05, 2.7, {}, None, "LEL 2.7 not confirmed",
       ("ethene", "C2H4"), verified=False),
    _g("propylene", "丙烯", "115-07-1", 42.08, 2.0, {}, None, "LEL 2.0 not confirmed",
       ("propene", "C3H6"), verified=False),
    # LPG is a propane/butane mixture: molar mass and LEL depend on the blend (commercial
    # LPG LEL 1.5-2.1 %VOL); %LEL detectors need neither.
    _g("liquefied_petroleum_gas", "液化石油气", "68476-85-7", 50.0, 1.5, {}, None,
       "LEL 1.5 and molar mass 50 (propane/butane blend) not confirmed",
       ("LPG", "液化气", "石油气(液化的)"), verified=False),
    # Combustible and toxic.
    _g("ammonia", "氨", "7664-41-7", 17.03, 15.0, {_TWA: 20, _STEL: 30}, 360,
       f"OEL/IDLH {_A}; LEL {_R}", ("NH3", "氨气", "液氨")),
    _g("hydrogen_sulphide", "硫化氢", "7783-06-4", 34.08, 4.3, {_MAC: 10}, 430,
       f"OEL/IDLH {_A}; LEL {_R}", ("hydrogen sulfide", "H2S")),
    _g("carbon_monoxide", "一氧化碳", "630-08-0", 28.01, 12.5, {_TWA: 20, _STEL: 30}, 1700,
       f"OEL/IDLH {_A}; LEL {_R}", ("CO",)),
    _g("methanol", "甲醇", "67-56-1", 32.04, 6.0, {_TWA: 25, _STEL: 50}, 33000,
       f"OEL/IDLH {_A}; LEL {_N} 67-56-1", ("methyl alcohol", "CH3OH", "木醇")),
    # GBZ 2.1-2019 as published; a later amendment is reported to lower benzene to
    # PC-TWA 3 / PC-STEL 6 mg/m³ (not confirmed from its text).
    _g("benzene", "苯", "71-43-2", 78.11, 1.2, {_TWA: 6, _STEL: 10}, 9800,
       f"OEL/IDLH {_A} (GBZ 2.1-2019 before amendment); LEL {_N} 71-43-2",
       ("C6H6", "纯苯")),
    _g("toluene", "甲苯", "108-88-3", 92.14, 1.1, {_TWA: 50, _STEL: 100}, 7700,
       f"OEL/IDLH {_A}; LEL {_N} 108-88-3", ("C7H8", "methylbenzene")),
    _g("vinyl_chloride", "氯乙烯", "75-01-4", 62.50, 3.6, {_TWA: 10, _STEL: 25}, None,
       f"OEL {_A}; LEL 3.6 not confirmed", ("VCM", "chloroethylene", "C2H3Cl"),
       verified=False),
    _g("ethylene_oxide", "环氧乙烷", "75-21-8", 44.05, 3.0, {_TWA: 2}, None,
       "PC-TWA 2 and LEL 3.0 not confirmed ([A]'s row is ambiguous)",
       ("EO", "oxirane", "C2H4O"), verified=False),
    # Toxic only (or modelled so).
    _g("chlorine", "氯", "7782-50-5", 70.90, None, {_MAC: 1}, 88, f"OEL/IDLH {_A}",
       ("Cl2", "氯气", "液氯")),
    _g("hydrogen_cyanide", "氰化氢", "74-90-8", 27.03, None, {_MAC: 1}, 56, f"OEL/IDLH {_A}",
       ("HCN", "hydrocyanic acid", "氢氰酸")),
    _g("phosgene", "碳酰氯", "75-44-5", 98.92, None, {_MAC: 0.5}, 8, f"OEL/IDLH {_A}",
       ("COCl2", "光气", "carbonyl chloride")),
    _g("hydrogen_chloride", "氯化氢", "7647-01-0", 36.46, None, {_MAC: 7.5}, 150,
       f"OEL/IDLH {_A}", ("HCl",)),
    _g("sulphur_dioxide", "二氧化硫", "7446-09-5", 64.07, None, {_TWA: 5, _STEL: 10}, 270,
       f"OEL/IDLH {_A}", ("sulfur dioxide", "SO2")),
    _g("nitrogen_dioxide", "二氧化氮", "10102-44-0", 46.01, None, {_TWA: 5, _STEL: 10}, 96,
       f"OEL/IDLH {_A}", ("NO2",)),
    _g("hydrogen_fluoride", "氟化氢", "7664-39-3", 20.01, None, {_MAC: 2}, None,
       f"OEL {_A} (its IDLH figure looked wrong and is left out)", ("HF",)),
    _g("acrylonitrile", "丙烯腈", "107-13-1", 53.06, None, {_TWA: 1, _STEL: 2}, 1100,
       f"OEL/IDLH {_A}", ("vinyl cyanide", "2-丙烯腈", "C3H3N")),
)

GASES: Final[Mapping[str, Gas]] = MappingProxyType({g.key: g for g in _GASES})

_SEPARATORS = re.compile(r"[\s_\-]+")


def _norm(name: str) -> str:
    return _SEPARATORS.sub("_", name.strip().casefold()).strip("_")


def _build_index() -> Mapping[str, Gas]:
    index: dict[str, Gas] = {}
    for gas in _GASES:
        for name in (gas.key, gas.name_cn, *gas.aliases, *((gas.cas,) if gas.cas else ())):
            n = _norm(name)
            other = index.get(n)
            if other is not None and other is not gas:
                raise ValueError(f"gas name {name!r} is used by {other.key} and {gas.key}")
            index[n] = gas
    return MappingProxyType(index)


_BY_NAME: Final = _build_index()


def find_gas(name: str) -> Gas | None:
    """Look a gas up by key, Chinese name, alias or CAS; case-insensitive, with spaces,
    underscores and hyphens equivalent."""
    return _BY_NAME.get(_norm(name))


# Units a detector may report, canonical spelling first.
_PCT_LEL, _LEL_M, _PPM, _MG_M3, _PCT_VOL = "%LEL", "LEL·m", "ppm", "mg/m3", "%VOL"
_UNIT_ALIASES: Final = {
    "%lel": _PCT_LEL, "lel%": _PCT_LEL, "%_lel": _PCT_LEL,
    "lel·m": _LEL_M, "lel.m": _LEL_M, "lel*m": _LEL_M, "lelm": _LEL_M, "lel_m": _LEL_M,
    "ppm": _PPM,
    "mg/m3": _MG_M3, "mg/m³": _MG_M3, "mg/m^3": _MG_M3,
    "%vol": _PCT_VOL, "%v/v": _PCT_VOL, "vol%": _PCT_VOL, "%_vol": _PCT_VOL,
}
_COMBUSTIBLE_ONLY_UNITS: Final = frozenset({_PCT_LEL, _LEL_M, _PCT_VOL})


def _canonical_unit(unit: str) -> str:
    canonical = _UNIT_ALIASES.get(_norm(unit))
    if canonical is None:
        raise ValueError(
            f"unknown detector unit {unit!r}: use one of %LEL, LEL·m, ppm, mg/m3, %VOL"
        )
    return canonical


def mg_m3_to_ppm(mg_m3: float, molar_mass: float) -> float:
    """mg/m³ → ppm (by volume) at 20 °C, 101.3 kPa: ppm = mg/m³ × 24.04 / M."""
    return mg_m3 * MOLAR_VOLUME_L_PER_MOL / molar_mass


def ppm_to_mg_m3(ppm: float, molar_mass: float) -> float:
    """ppm (by volume) → mg/m³ at 20 °C, 101.3 kPa: mg/m³ = ppm × M / 24.04."""
    return ppm * molar_mass / MOLAR_VOLUME_L_PER_MOL


def _oel(gas: Gas, basis: OelBasis | None) -> tuple[OelBasis, float]:
    if basis is not None:
        value = gas.oel_mg_m3.get(basis)
        if value is None:
            have = ", ".join(gas.oel_mg_m3) or "none"
            raise ValueError(f"{gas.key} has no {basis} in GBZ 2.1 (has: {have})")
        return basis, value
    for candidate in _DEFAULT_BASIS_ORDER:
        value = gas.oel_mg_m3.get(candidate)
        if value is not None:
            return candidate, value
    raise ValueError(f"{gas.key} has no occupational exposure limit: it is not toxic")


def _alarm_hazard(gas: Gas, unit: str, basis: OelBasis | None) -> GasHazard:
    hazards = gas.hazards
    if unit in _COMBUSTIBLE_ONLY_UNITS:
        if GasHazard.COMBUSTIBLE not in hazards:
            raise ValueError(
                f"{gas.key} is not combustible: a {unit} detector cannot alarm on it; "
                "use ppm or mg/m3"
            )
        return GasHazard.COMBUSTIBLE
    if GasHazard.TOXIC not in hazards:
        return GasHazard.COMBUSTIBLE
    if GasHazard.COMBUSTIBLE not in hazards:
        return GasHazard.TOXIC
    # Both: alarm on whichever first-level threshold is reached first, compared in ppm.
    assert gas.lel_pct_vol is not None
    toxic_ppm = mg_m3_to_ppm(_oel(gas, basis)[1], gas.molar_mass)
    combustible_ppm = gas.lel_pct_vol * 1e4 * COMBUSTIBLE_FIRST_PCT_LEL / 100
    return GasHazard.TOXIC if toxic_ppm < combustible_ppm else GasHazard.COMBUSTIBLE


def alarm_hazard(gas: Gas, unit: str) -> GasHazard:
    """Which hazard a detector reading `unit` should alarm on for `gas`.

    %LEL, LEL·m and %VOL detectors measure flammability: combustible (ValueError for a gas
    that is not combustible). A ppm or mg/m³ detector on a gas that is both combustible and
    toxic alarms on the toxic hazard when its first-level toxic threshold (default OEL
    basis) is lower than 25 %LEL, compared in ppm at the reference conditions.
    """
    return _alarm_hazard(gas, _canonical_unit(unit), None)


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def default_setpoints(
    gas: Gas, unit: str, oel_basis: OelBasis | None = None
) -> GasSetpoints:
    """First- and second-level setpoints of GB/T 50493-2019 for `gas` read in `unit`.

    `oel_basis` picks the GBZ 2.1 limit for a toxic alarm (default MAC, else PC-STEL, else
    PC-TWA); it is ignored when the alarm is a combustible one.
    """
    u = _canonical_unit(unit)
    hazard = _alarm_hazard(gas, u, oel_basis)
    if hazard is GasHazard.COMBUSTIBLE:
        assert gas.lel_pct_vol is not None
        lel = gas.lel_pct_vol
        f_pct, s_pct = COMBUSTIBLE_FIRST_PCT_LEL, COMBUSTIBLE_SECOND_PCT_LEL
        basis = f"{_fmt(f_pct)} %LEL / {_fmt(s_pct)} %LEL"
        if u == _PCT_LEL:
            return GasSetpoints(f_pct, s_pct, u, hazard, basis)
        if u == _LEL_M:
            return GasSetpoints(
                OPEN_PATH_FIRST_LEL_M, OPEN_PATH_SECOND_LEL_M, u, hazard,
                f"{_fmt(OPEN_PATH_FIRST_LEL_M)} LEL·m / {_fmt(OPEN_PATH_SECOND_LEL_M)} LEL·m"
                " (open path)",
            )
        first_vol, second_vol = lel * f_pct / 100, lel * s_pct / 100
        basis += f" of LEL {_fmt(lel)} %VOL"
        if u == _PCT_VOL:
            return GasSetpoints(first_vol, second_vol, u, hazard, basis)
        first_ppm, second_ppm = first_vol * 1e4, second_vol * 1e4
        if u == _PPM:
            return GasSetpoints(first_ppm, second_ppm, u, hazard, basis)
        return GasSetpoints(
            ppm_to_mg_m3(first_ppm, gas.molar_mass), ppm_to_mg_m3(second_ppm, gas.molar_mass),
            u, hazard, basis + " at 20 °C, 101.3 kPa",
        )
    chosen, oel = _oel(gas, oel_basis)
    first_mg, second_mg = oel * TOXIC_FIRST_PCT_OEL / 100, oel * TOXIC_SECOND_PCT_OEL / 100
    basis = f"100 %/200 % of {chosen} {_fmt(oel)} mg/m³"
    if u == _MG_M3:
        return GasSetpoints(first_mg, second_mg, u, hazard, basis)
    ppm = mg_m3_to_ppm(oel, gas.molar_mass)
    return GasSetpoints(
        mg_m3_to_ppm(first_mg, gas.molar_mass), mg_m3_to_ppm(second_mg, gas.molar_mass),
        u, hazard, f"{basis} (= {_fmt(ppm)} ppm at 20 °C, 101.3 kPa)",
    )


def idlh_setpoints(gas: Gas, unit: str) -> GasSetpoints:
    """The fallback of GB/T 50493-2019 for a toxic gas whose detector range cannot reach
    100 %/200 % OEL: 5 % and 10 % of IDLH."""
    u = _canonical_unit(unit)
    if u not in (_PPM, _MG_M3):
        raise ValueError(f"IDLH setpoints are toxic ones: use ppm or mg/m3, not {unit!r}")
    if gas.idlh_mg_m3 is None:
        raise ValueError(f"{gas.key} has no IDLH in the table")
    idlh = gas.idlh_mg_m3
    first, second = idlh * TOXIC_FIRST_PCT_IDLH / 100, idlh * TOXIC_SECOND_PCT_IDLH / 100
    if u == _PPM:
        first, second = mg_m3_to_ppm(first, gas.molar_mass), mg_m3_to_ppm(second, gas.molar_mass)
    return GasSetpoints(first, second, u, GasHazard.TOXIC,
                        f"5 %/10 % of IDLH {_fmt(idlh)} mg/m³")
