"""Push plans: the 包保 chain and the grid's officials for a level and tier, each once."""

from __future__ import annotations

from pathlib import Path

from hazmon.domain.regions import Level, load_regions
from hazmon.domain.registry import Contact
from hazmon.warnings.chain import resolve_chain
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.policy import WarningPolicy, parse_policy
from hazmon.warnings.targets import PushPlan, RecipientKind, escalation_plan, push_plan
from tests.support import ENT, ENT2

REGIONS = load_regions(Path(__file__).resolve().parents[2] / "deploy" / "regions.example.yaml")
POLICY = WarningPolicy()
CHAIN = resolve_chain([
    Contact(role="principal", name="总经理", phone="13800000010"),
    Contact(role="technical", name="总工", phone="13800000011"),
    Contact(role="operational", name="值班长", phone="13800000012"),
])


def who(plan: PushPlan) -> list[tuple[str, str]]:
    return [(r.role, r.name) for r in plan.recipients]


def test_red_goes_to_the_whole_chain_and_every_level_from_the_park_to_the_province() -> None:
    plan = push_plan(POLICY, WarningLevel.RED, 3, chain=CHAIN,
                     place=REGIONS.enterprise_place(ENT, "320921"))
    assert who(plan) == [
        ("principal", "总经理"), ("technical", "总工"), ("operational", "值班长"),
        ("cell", "吴军"), ("county", "李海峰"), ("county", "孙宏"), ("city", "陈立新"),
        ("province", "周建国"), ("province", "省厅值班室"),
    ]
    assert plan.unreached == ()
    assert plan.recipients[3].kind is RecipientKind.REGULATOR
    assert plan.recipients[3].unit == "320921401"


def test_blue_goes_to_the_operational_person_and_the_county() -> None:
    plan = push_plan(POLICY, WarningLevel.BLUE, 1, chain=CHAIN,
                     place=REGIONS.enterprise_place(ENT, "320921"))
    assert who(plan) == [("operational", "值班长"), ("county", "李海峰"), ("county", "孙宏")]


def test_orange_by_tier_and_a_missing_cell_is_listed_unreached() -> None:
    place = REGIONS.enterprise_place(ENT2, "320902")  # in no cell
    high = push_plan(POLICY, WarningLevel.ORANGE, 1, chain=resolve_chain([]), place=place)
    assert who(high) == [("county", "钱伟"), ("city", "陈立新")]
    assert high.unreached == ("principal", "technical", "operational", "cell")
    low = push_plan(POLICY, WarningLevel.ORANGE, 4, chain=CHAIN, place=place)
    assert [r for r, _ in who(low)] == ["principal", "technical", "operational", "county"]


def test_a_person_in_two_roles_is_told_once() -> None:
    chain = resolve_chain([Contact(role="principal", name="老板", phone="13800000010"),
                           Contact(role="technical", name="老板", phone="13800000010")])
    plan = push_plan(POLICY, WarningLevel.RED, 1, chain=chain, place=None)
    assert who(plan) == [("principal", "老板")]


def test_simulated_enterprises_are_pushed_to_nobody_unless_the_policy_allows() -> None:
    place = REGIONS.enterprise_place(ENT, "320921")
    plan = push_plan(POLICY, WarningLevel.RED, 1, chain=CHAIN, place=place, simulated=True)
    assert (plan.recipients, plan.held_back) == ((), "simulated")
    drill = parse_policy("push_simulated: true\n")
    assert push_plan(drill, WarningLevel.RED, 1, chain=CHAIN, place=place,
                     simulated=True).recipients
    assert escalation_plan(POLICY, WarningLevel.RED, Level.CITY, place,
                           simulated=True).held_back == "simulated"


def test_an_escalation_goes_to_the_new_reviewer() -> None:
    place = REGIONS.enterprise_place(ENT, "320921")
    plan = escalation_plan(POLICY, WarningLevel.ORANGE, Level.CITY, place)
    assert who(plan) == [("city", "陈立新")]
    assert escalation_plan(POLICY, WarningLevel.ORANGE, Level.CITY, None).unreached == ("city",)
