"""The 包保 chain: each role from the hazard source, else from the enterprise."""

from __future__ import annotations

from hazmon.domain.registry import Contact
from hazmon.warnings.chain import ChainRole, ChainSource, resolve_chain


def person(role: str, name: str) -> Contact:
    return Contact(role=role, name=name, phone="13800000000")


ENTERPRISE = [person("principal", "总经理"), person("technical", "总工"),
              person("operational", "值班长")]


def test_the_enterprises_contacts_when_the_source_names_nobody() -> None:
    chain = resolve_chain(ENTERPRISE)
    assert [(m.role, m.contact.name, m.source) for m in chain.members] == [
        (ChainRole.PRINCIPAL, "总经理", ChainSource.ENTERPRISE),
        (ChainRole.TECHNICAL, "总工", ChainSource.ENTERPRISE),
        (ChainRole.OPERATIONAL, "值班长", ChainSource.ENTERPRISE),
    ]
    assert chain.complete


def test_the_sources_own_contact_wins_per_role() -> None:
    chain = resolve_chain(ENTERPRISE, [person("operational", "罐区班长"),
                                       person("operational", "第二个")])
    op = chain.of(ChainRole.OPERATIONAL)
    assert op is not None
    assert (op.contact.name, op.source) == ("罐区班长", ChainSource.HAZARD_SOURCE)
    principal = chain.of(ChainRole.PRINCIPAL)
    assert principal is not None
    assert principal.source is ChainSource.ENTERPRISE


def test_a_role_nobody_holds_is_missing_and_roles_can_be_chosen() -> None:
    chain = resolve_chain([person("principal", "总经理")])
    assert chain.missing == (ChainRole.TECHNICAL, ChainRole.OPERATIONAL)
    assert not chain.complete
    assert chain.of(ChainRole.TECHNICAL) is None
    only = resolve_chain(ENTERPRISE, roles=(ChainRole.OPERATIONAL,))
    assert [m.role for m in only.members] == [ChainRole.OPERATIONAL]
    assert [r.label for r in ChainRole] == ["主要负责人", "技术负责人", "操作负责人"]
