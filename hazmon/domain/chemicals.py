"""Critical quantities Q and correction factors β of GB 18218-2018.

GB 18218-2018 "Identification of major hazard installations for hazardous chemicals":

- Table 1: named chemicals and their critical quantity Q (tonnes), 85 rows.
- Table 2: Q by hazard class (symbols J1..J5 for acute toxicity, W1.1..W11 for physical
  hazards) for a chemical not named in Table 1.
- Table 3: β of named toxic gases.
- Table 4: β by hazard class, for everything not in Table 3.

Sources used to confirm the numbers (the standard itself is not freely published):

- [T] a transcription of Tables 1 to 6 taken from the standard's PDF, with page numbers
  (a public seed-data SQL file; Table 1 on pp. 4-7, Table 2 pp. 7-8, Tables 3/4 pp. 9-10,
  Tables 5/6 p. 11). Row numbers below ("No. n") count its Table 1 rows in order; a second,
  independent transcription (a JavaScript data file) gives the same numbering and Q values.
- [O40] Order No. 40 (2011) Annex 1, "分级方法", whose β table for toxic gases, α table and
  R bands GB 18218-2018 §4.3 took over unchanged (m.163wenku.com/p-1105879.html).

β of a Table-1 chemical that is not a Table-3 toxic gas follows Table 4 from its hazard
class. For flammable liquids this depends on the process, not only the substance: W5.1
(β 1.5) covers category 1 and categories 2/3 handled above their boiling point, W5.2-W5.4
(β 1) the rest. The β here assume ambient storage (a tank farm); a process unit running a
liquid above its boiling point should override β (``dataclasses.replace(chem, beta=1.5)``).
Where the class itself is our reading rather than a source's, the entry is ``verified=False``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

STANDARD: Final = "GB 18218-2018"

# Table 3 footnote / Table 4 J1 and J3: an unlisted toxic gas takes β 2, a highly toxic
# ("剧毒") one β 4 [T][O40].
UNLISTED_TOXIC_GAS_BETA: Final = 2.0
UNLISTED_HIGHLY_TOXIC_GAS_BETA: Final = 4.0


@dataclass(frozen=True, slots=True)
class Chemical:
    """One chemical with its critical quantity and β, as used for identification/grading."""

    key: str  # canonical lowercase English name, e.g. "chlorine"
    name_cn: str  # name as in the standard, e.g. "氯"
    cas: str | None
    critical_tonnes: float  # Q
    beta: float
    aliases: tuple[str, ...] = ()  # other English/Chinese names accepted in a registry
    verified: bool = True  # False when a number could not be confirmed from a source
    source: str = ""  # e.g. "GB 18218-2018 Table 1 No. 12"

    def __post_init__(self) -> None:
        # A zero or negative Q would divide by zero (or flip the sign) in Σ q/Q.
        if not self.critical_tonnes > 0:
            raise ValueError(f"{self.key}: critical quantity must be > 0 t")
        if not self.beta > 0:
            raise ValueError(f"{self.key}: beta must be > 0")


@dataclass(frozen=True, slots=True)
class HazardClass:
    """A Table 2 row (Q by hazard class) joined with its Table 4 β."""

    symbol: str  # "J1".."J5", "W1.1".."W11"
    category: str  # hazard class, Chinese as in the standard
    description: str
    critical_tonnes: float
    beta: float


def _hc(symbol: str, category: str, description: str, q: float, beta: float) -> HazardClass:
    return HazardClass(symbol, category, description, q, beta)


# Table 2 (Q) and Table 4 (β) [T pp. 7-10]. The acute-toxicity β agree with [O40]'s
# "unlisted toxic gas 2, highly toxic gas 4".
HAZARD_CLASSES: Final[Mapping[str, HazardClass]] = MappingProxyType(
    {
        h.symbol: h
        for h in (
            _hc("J1", "急性毒性", "类别1, 所有暴露途径, 气体", 5, 4),
            _hc("J2", "急性毒性", "类别1, 所有暴露途径, 固体、液体", 50, 1),
            _hc("J3", "急性毒性", "类别2、类别3, 所有暴露途径, 气体", 50, 2),
            _hc("J4", "急性毒性", "类别2、类别3, 吸入途径, 液体(沸点≤35℃)", 50, 2),
            _hc("J5", "急性毒性", "类别2, 所有暴露途径, 液体(除J4外)、固体", 500, 1),
            _hc("W1.1", "爆炸物", "不稳定爆炸物; 1.1项爆炸物", 1, 2),
            _hc("W1.2", "爆炸物", "1.2、1.3、1.5、1.6项爆炸物", 10, 2),
            _hc("W1.3", "爆炸物", "1.4项爆炸物", 50, 2),
            _hc("W2", "易燃气体", "类别1和类别2", 10, 1.5),
            _hc("W3", "气溶胶", "类别1和类别2 (净重)", 150, 1),
            _hc("W4", "氧化性气体", "类别1", 50, 1),
            _hc("W5.1", "易燃液体", "类别1; 类别2和3, 工作温度高于沸点", 10, 1.5),
            _hc("W5.2", "易燃液体", "类别2和3, 具有引发重大事故的特殊工艺条件", 50, 1),
            _hc("W5.3", "易燃液体", "不属于W5.1或W5.2的其他类别2", 1000, 1),
            _hc("W5.4", "易燃液体", "不属于W5.1或W5.2的其他类别3", 5000, 1),
            _hc("W6.1", "自反应物质和混合物", "A型和B型", 10, 1.5),
            _hc("W6.2", "自反应物质和混合物", "C型、D型、E型", 50, 1),
            _hc("W7.1", "有机过氧化物", "A型和B型", 10, 1.5),
            _hc("W7.2", "有机过氧化物", "C型、D型、E型、F型", 50, 1),
            _hc("W8", "自燃液体和自燃固体", "类别1自燃液体; 类别1自燃固体", 50, 1),
            _hc("W9.1", "氧化性固体和液体", "类别1", 50, 1),
            _hc("W9.2", "氧化性固体和液体", "类别2、类别3", 200, 1),
            _hc("W10", "易燃固体", "类别1易燃固体", 200, 1),
            _hc("W11", "遇水放出易燃气体的物质和混合物", "类别1和类别2", 200, 1),
        )
    }
)

_T1 = f"{STANDARD} Table 1"
_T3 = "β Table 3"
_FLAM_GAS = "β Table 4 W2 (flammable gas)"
_FLAM_LIQ = "β Table 4 W5.3/W5.4 (flammable liquid, ambient storage)"


def _c(
    key: str,
    name_cn: str,
    cas: str | None,
    q: float,
    beta: float,
    source: str,
    aliases: tuple[str, ...] = (),
    verified: bool = True,
) -> Chemical:
    return Chemical(key, name_cn, cas, q, beta, aliases, verified, source)


_CHEMICALS: Final = (
    # Toxic gases named in Table 3 (β confirmed by [T] and [O40]).
    _c("ammonia", "氨", "7664-41-7", 10, 2, f"{_T1} No. 1; {_T3}",
       ("液氨", "氨气", "NH3", "anhydrous ammonia", "liquid ammonia")),
    _c("nitrogen_dioxide", "二氧化氮", "10102-44-0", 1, 10, f"{_T1} No. 3; {_T3}", ("NO2",)),
    _c("sulphur_dioxide", "二氧化硫", "7446-09-5", 20, 2, f"{_T1} No. 4; {_T3}",
       ("sulfur dioxide", "亚硫酸酐", "SO2")),
    _c("phosgene", "碳酰氯", "75-44-5", 0.3, 20, f"{_T1} No. 6; {_T3}",
       ("光气", "carbonyl chloride", "COCl2")),
    _c("ethylene_oxide", "环氧乙烷", "75-21-8", 10, 2, f"{_T1} No. 7; {_T3}",
       ("氧化乙烯", "EO", "oxirane")),
    _c("phosphine", "磷化氢", "7803-51-2", 1, 20, f"{_T1} No. 9; {_T3}",
       ("磷化三氢", "膦", "PH3")),
    _c("hydrogen_sulphide", "硫化氢", "7783-06-4", 5, 5, f"{_T1} No. 10; {_T3}",
       ("hydrogen sulfide", "H2S")),
    _c("hydrogen_chloride", "氯化氢", "7647-01-0", 20, 3,
       f"{_T1} No. 11 (氯化氢(无水), anhydrous); {_T3}",
       ("氯化氢(无水)", "anhydrous hydrogen chloride", "HCl")),
    _c("chlorine", "氯", "7782-50-5", 5, 4, f"{_T1} No. 12; {_T3}", ("液氯", "氯气", "Cl2")),
    # No. 13 is "煤气(CO, CO和H2、CH4的混合物等)": carbon monoxide itself and CO-bearing gases.
    _c("carbon_monoxide", "一氧化碳", "630-08-0", 20, 2, f"{_T1} No. 13 (煤气, CO); {_T3}",
       ("CO",)),
    _c("coal_gas", "煤气", None, 20, 2,
       f"{_T1} No. 13 (煤气(CO, CO和H₂、CH₄的混合物等)); {_T3} (一氧化碳)",
       ("town gas", "syngas", "煤气(CO,CO和H2、CH4的混合物等)")),
    _c("methyl_bromide", "溴甲烷", "74-83-9", 10, 3, f"{_T1} No. 17; {_T3}",
       ("甲基溴", "bromomethane")),
    _c("hydrogen_fluoride", "氟化氢", "7664-39-3", 1, 5, f"{_T1} No. 20; {_T3}", ("HF",)),
    _c("hydrogen_cyanide", "氰化氢", "74-90-8", 1, 10, f"{_T1} No. 25; {_T3}",
       ("无水氢氰酸", "hydrocyanic acid", "HCN")),
    _c("methyl_isocyanate", "异氰酸甲酯", "624-83-9", 0.75, 20, f"{_T1} No. 30; {_T3}",
       ("甲基异氰酸酯", "MIC")),
    # Formaldehyde >90 % (a gas at ambient): β from Table 4 J3 (acute toxicity cat. 3, gas)
    # is our classification, not a source's.
    _c("formaldehyde", "甲醛", "50-00-0", 5, 2,
       f"{_T1} No. 8 (甲醛(含量>90%)); β Table 4 J3 (classification not confirmed)",
       ("甲醛(含量>90%)", "蚁醛", "methanal"), verified=False),
    # Flammable gases (β 1.5, Table 4 W2).
    _c("butadiene", "1,3-丁二烯", "106-99-0", 5, 1.5, f"{_T1} No. 47; {_FLAM_GAS}",
       ("1,3-butadiene", "联乙烯", "丁二烯")),
    _c("dimethyl_ether", "二甲醚", "115-10-6", 50, 1.5, f"{_T1} No. 48; {_FLAM_GAS}",
       ("甲醚", "DME")),
    _c("methane", "甲烷", "74-82-8", 50, 1.5, f"{_T1} No. 49 (甲烷, 天然气); {_FLAM_GAS}",
       ("CH4",)),
    _c("natural_gas", "天然气", "8006-14-2", 50, 1.5,
       f"{_T1} No. 49 (甲烷, 天然气); {_FLAM_GAS}", ("NG", "LNG", "液化天然气")),
    _c("vinyl_chloride", "氯乙烯", "75-01-4", 50, 1.5, f"{_T1} No. 50; {_FLAM_GAS}",
       ("乙烯基氯", "VCM", "chloroethylene")),
    _c("hydrogen", "氢", "1333-74-0", 5, 1.5, f"{_T1} No. 51; {_FLAM_GAS}", ("氢气", "H2")),
    # No. 52 names propane and butane by CAS as members of LPG.
    _c("liquefied_petroleum_gas", "液化石油气", "68476-85-7", 50, 1.5,
       f"{_T1} No. 52 (液化石油气(含丙烷、丁烷及其混合物)); {_FLAM_GAS}",
       ("LPG", "石油气(液化的)", "液化气", "petroleum gas, liquefied")),
    _c("propane", "丙烷", "74-98-6", 50, 1.5, f"{_T1} No. 52 (LPG, 丙烷); {_FLAM_GAS}"),
    _c("butane", "丁烷", "106-97-8", 50, 1.5, f"{_T1} No. 52 (LPG, 丁烷); {_FLAM_GAS}",
       ("n-butane", "正丁烷")),
    _c("methylamine", "一甲胺", "74-89-5", 5, 1.5, f"{_T1} No. 53; {_FLAM_GAS}",
       ("甲胺", "氨基甲烷", "monomethylamine")),
    _c("acetylene", "乙炔", "74-86-2", 1, 1.5, f"{_T1} No. 54; {_FLAM_GAS}", ("电石气", "C2H2")),
    _c("ethylene", "乙烯", "74-85-1", 50, 1.5, f"{_T1} No. 55; {_FLAM_GAS}", ("ethene", "C2H4")),
    # Propylene is not in Table 1: Table 2 W2 gives Q 10 t.
    _c("propylene", "丙烯", "115-07-1", 10, 1.5, f"{STANDARD} Table 2 W2; {_FLAM_GAS}",
       ("propene",)),
    # Oxidizing gas (Table 4 W4, β 1).
    _c("oxygen", "氧", "7782-44-7", 200, 1,
       f"{_T1} No. 56 (氧(压缩的或液化的)); β Table 4 W4 (oxidizing gas)",
       ("氧气", "液氧", "liquid oxygen", "O2", "LOX")),
    # Flammable liquids, β for ambient storage (see module docstring).
    _c("benzene", "苯", "71-43-2", 50, 1, f"{_T1} No. 57; {_FLAM_LIQ}", ("纯苯", "benzol")),
    _c("styrene", "苯乙烯", "100-42-5", 500, 1, f"{_T1} No. 58; {_FLAM_LIQ}",
       ("乙烯苯", "vinylbenzene")),
    _c("acetone", "丙酮", "67-64-1", 500, 1, f"{_T1} No. 59; {_FLAM_LIQ}", ("二甲基酮",)),
    _c("acrylonitrile", "丙烯腈", "107-13-1", 50, 1, f"{_T1} No. 60 (2-丙烯腈); {_FLAM_LIQ}",
       ("2-丙烯腈", "乙烯基氰", "氰基乙烯", "vinyl cyanide", "AN")),
    _c("carbon_disulphide", "二硫化碳", "75-15-0", 50, 1, f"{_T1} No. 61; {_FLAM_LIQ}",
       ("carbon disulfide", "CS2")),
    _c("cyclohexane", "环己烷", "110-82-7", 500, 1, f"{_T1} No. 62; {_FLAM_LIQ}", ("六氢化苯",)),
    # Propylene oxide boils at 34 °C: flammable liquid category 1, hence W5.1.
    _c("propylene_oxide", "1,2-环氧丙烷", "75-56-9", 10, 1.5,
       f"{_T1} No. 63; β Table 4 W5.1 (flammable liquid category 1)",
       ("环氧丙烷", "氧化丙烯", "甲基环氧乙烷", "PO")),
    _c("toluene", "甲苯", "108-88-3", 500, 1, f"{_T1} No. 64; {_FLAM_LIQ}",
       ("甲基苯", "苯基甲烷", "methylbenzene")),
    _c("methanol", "甲醇", "67-56-1", 500, 1, f"{_T1} No. 65; {_FLAM_LIQ}",
       ("木醇", "木精", "methyl alcohol")),
    # Gasoline: category 2 in China's hazardous-chemicals catalogue as we recall it (β 1);
    # a category-1 reading (initial boiling point ≤ 35 °C) would make it W5.1, β 1.5.
    _c("gasoline", "汽油", "86290-81-5", 200, 1,
       f"{_T1} No. 66 (汽油(乙醇汽油、甲醇汽油)); β Table 4 W5.3 (category not confirmed)",
       ("petrol", "乙醇汽油", "甲醇汽油", "ethanol gasoline", "methanol gasoline"),
       verified=False),
    _c("ethanol", "乙醇", "64-17-5", 500, 1, f"{_T1} No. 67; {_FLAM_LIQ}",
       ("酒精", "ethyl alcohol")),
    _c("ethyl_acetate", "乙酸乙酯", "141-78-6", 500, 1, f"{_T1} No. 69; {_FLAM_LIQ}",
       ("醋酸乙酯",)),
    _c("n_hexane", "正己烷", "110-54-3", 500, 1, f"{_T1} No. 70; {_FLAM_LIQ}",
       ("hexane", "己烷")),
    # Oxidizing liquid (Table 4 W9, β 1).
    _c("nitric_acid", "硝酸", "7697-37-2", 100, 1,
       f"{_T1} No. 81 (硝酸(发红烟的除外, 含硝酸>70%)); β Table 4 W9 (oxidizing liquid)",
       ("硝酸(发红烟的除外,含硝酸>70%)",)),
    _c("fuming_nitric_acid", "发烟硝酸", "52583-42-3", 20, 1,
       f"{_T1} No. 80; β Table 4 W9.1 (oxidizing liquid)", ("red fuming nitric acid",)),
)

CHEMICALS: Final[Mapping[str, Chemical]] = MappingProxyType({c.key: c for c in _CHEMICALS})

_SEPARATORS = re.compile(r"[\s_\-]+")


def _norm(name: str) -> str:
    # Spaces, underscores and hyphens are equivalent: "liquefied petroleum gas",
    # "liquefied-petroleum-gas" and "liquefied_petroleum_gas" are the same name.
    return _SEPARATORS.sub("_", name.strip().casefold()).strip("_")


def _build_indexes() -> tuple[Mapping[str, Chemical], Mapping[str, Chemical]]:
    by_cas: dict[str, Chemical] = {}
    by_name: dict[str, Chemical] = {}
    for chem in _CHEMICALS:
        if chem.cas is not None:
            if chem.cas in by_cas:
                raise ValueError(f"duplicate CAS {chem.cas} in chemical table")
            by_cas[chem.cas] = chem
        for name in (chem.key, chem.name_cn, *chem.aliases):
            n = _norm(name)
            other = by_name.get(n)
            # A name that led to two chemicals would make lookups order-dependent.
            if other is not None and other is not chem:
                raise ValueError(f"name {name!r} is used by {other.key} and {chem.key}")
            by_name[n] = chem
    return MappingProxyType(by_cas), MappingProxyType(by_name)


_BY_CAS, _BY_NAME = _build_indexes()


def find_chemical(name: str, cas: str | None = None) -> Chemical | None:
    """Look a chemical up: by CAS first (when given and known), then by key or alias.

    Names match case-insensitively, with spaces, underscores and hyphens equivalent. A
    name that is itself a known CAS number also matches.
    """
    if cas is not None:
        hit = _BY_CAS.get(cas.strip())
        if hit is not None:
            return hit
    return _BY_CAS.get(name.strip()) or _BY_NAME.get(_norm(name))


def chemical_for_class(
    key: str, symbol: str, *, name_cn: str | None = None, cas: str | None = None
) -> Chemical:
    """A chemical not named in Table 1, with Q from Table 2 and β from Table 4."""
    hc = HAZARD_CLASSES.get(symbol)
    if hc is None:
        raise ValueError(f"unknown hazard class {symbol!r}: one of {', '.join(HAZARD_CLASSES)}")
    return Chemical(
        key=key,
        name_cn=name_cn or key,
        cas=cas,
        critical_tonnes=hc.critical_tonnes,
        beta=hc.beta,
        source=f"{STANDARD} Table 2 {hc.symbol}; β Table 4 {hc.symbol}",
    )
