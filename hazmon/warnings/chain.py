"""The 包保 chain of a hazard source: its 主要负责人, 技术负责人 and 操作负责人 (2021 rules).

Each role is the hazard source's own contact when it names one (the registry's
``hazard_sources[].contacts``, optional so older registries still load), else the
enterprise's contact of that role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hazmon.domain.registry import Contact


class ChainRole(StrEnum):
    PRINCIPAL = "principal"  # 主要负责人
    TECHNICAL = "technical"  # 技术负责人
    OPERATIONAL = "operational"  # 操作负责人

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    ChainRole.PRINCIPAL: "主要负责人",
    ChainRole.TECHNICAL: "技术负责人",
    ChainRole.OPERATIONAL: "操作负责人",
}


class ChainSource(StrEnum):
    HAZARD_SOURCE = "hazard_source"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True, slots=True)
class ChainMember:
    role: ChainRole
    contact: Contact
    source: ChainSource  # where it came from: the hazard source's own or the fallback


@dataclass(frozen=True, slots=True)
class Chain:
    members: tuple[ChainMember, ...]
    missing: tuple[ChainRole, ...]  # roles nobody holds, neither at the source nor above

    def of(self, role: ChainRole) -> ChainMember | None:
        return next((m for m in self.members if m.role is role), None)

    @property
    def complete(self) -> bool:
        return not self.missing


def resolve_chain(
    enterprise_contacts: Sequence[Contact],
    hazard_source_contacts: Sequence[Contact] = (),
    roles: Sequence[ChainRole] = tuple(ChainRole),
) -> Chain:
    """The chain for `roles`: per role the first hazard-source contact of that role, else
    the first enterprise contact of it; a role held by nobody is listed as missing."""
    members: list[ChainMember] = []
    missing: list[ChainRole] = []
    for role in roles:
        own = next((c for c in hazard_source_contacts if c.role == role.value), None)
        if own is not None:
            members.append(ChainMember(role, own, ChainSource.HAZARD_SOURCE))
            continue
        fallback = next((c for c in enterprise_contacts if c.role == role.value), None)
        if fallback is not None:
            members.append(ChainMember(role, fallback, ChainSource.ENTERPRISE))
        else:
            missing.append(role)
    return Chain(tuple(members), tuple(missing))
