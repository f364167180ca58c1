"""Per-hazard-source contacts (the 包保 chain of the 2021 rules): optional, strict, with
the enterprise's contacts as the fallback of each role."""

from __future__ import annotations

import pytest

from hazmon.domain.registry import RegistryError, load_registry, parse_registry
from hazmon.warnings.chain import ChainRole, ChainSource, resolve_chain
from tests.support import ENT, REGISTRY_FILE

HEAD = """\
enterprises:
  - code: 91320921MA1XXXXX0Q
    name: 某化工
    region: "320921"
    contacts:
      - {role: principal, name: 张三, phone: "13800000001"}
      - {role: technical, name: 李四, phone: "13800000002"}
    hazard_sources:
      - code: MHS-01
        name: 罐区一
        kind: tank_farm
        population_exposed: 120
        inventory:
          - {chemical: chlorine, tonnes: 20}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(RegistryError) as info:
        parse_registry(text, source="test.yaml")
    return info.value.problems


def test_a_registry_without_source_contacts_still_loads() -> None:
    reg = load_registry(REGISTRY_FILE)
    hs = reg.hazard_sources[(ENT, "MHS-01")].hazard_source
    assert hs.contacts == []


def test_source_contacts_override_the_enterprise_role_by_role() -> None:
    reg = parse_registry(HEAD + """\
        contacts:
          - {role: technical, name: 钱七, phone: "13800000007", email: qian@plant.example.cn}
          - {role: operational, name: 孙八, phone: "0515-86800001"}
""")
    info = reg.hazard_sources[(ENT, "MHS-01")]
    chain = resolve_chain(info.enterprise.contacts, info.hazard_source.contacts)
    assert [(m.role, m.contact.name, m.source) for m in chain.members] == [
        (ChainRole.PRINCIPAL, "张三", ChainSource.ENTERPRISE),
        (ChainRole.TECHNICAL, "钱七", ChainSource.HAZARD_SOURCE),
        (ChainRole.OPERATIONAL, "孙八", ChainSource.HAZARD_SOURCE),
    ]
    assert chain.of(ChainRole.TECHNICAL) is not None
    assert chain.of(ChainRole.TECHNICAL).contact.email == "qian@plant.example.cn"  # type: ignore[union-attr]
    assert chain.complete


def test_bad_source_contacts_are_reported_with_their_lines() -> None:
    problems = problems_of(HEAD + """\
        contacts:
          - {role: boss, name: 钱七, phone: "13800000007"}
          - {role: technical, name: "", phone: "call me"}
          - {role: technical, name: 孙八, phone: "13800000008", mobile: "1"}
""")
    assert problems == [
        "enterprises[0].hazard_sources[0].contacts[0].role (line 16): Input should be "
        "'principal', 'technical' or 'operational'",
        "enterprises[0].hazard_sources[0].contacts[1].name (line 17): String should have "
        "at least 1 character",
        "enterprises[0].hazard_sources[0].contacts[1].phone (line 17): String should match "
        "pattern '^\\+?[0-9 -]{5,20}$'",
        "enterprises[0].hazard_sources[0].contacts[2].mobile (line 18): unknown key",
    ]


def test_a_role_named_twice_at_one_source_is_an_error() -> None:
    problems = problems_of(HEAD + """\
        contacts:
          - {role: technical, name: 钱七, phone: "13800000007"}
          - {role: technical, name: 孙八, phone: "13800000008"}
""")
    assert problems == [
        "enterprises[0].hazard_sources[0].contacts[1].role (line 17): duplicate contact "
        "role technical of hazard source MHS-01",
    ]
