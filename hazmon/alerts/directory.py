"""What the alarm service needs to know from the registry: an enterprise's region, a
hazard source's tier and the responsibility chain. A Protocol, so tests and the
composition root can pass any object that answers; `RegistryDirectory` adapts the
loaded registry (hazmon.domain.registry.Registry) structurally."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class ContactLike(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def phone(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ContactInfo:
    role: str  # principal | technical | operational
    name: str
    phone: str


class Directory(Protocol):
    def region_of(self, enterprise: str) -> str | None: ...
    def tier_of(self, enterprise: str, hazard_source: str) -> int | None: ...
    def contacts_of(self, enterprise: str) -> Sequence[ContactLike]: ...


class NotifyDirectory(Directory, Protocol):
    """What the notifier also asks: is the enterprise a simulated plant (a demo or drill
    feed), whose own HMI topic may hear simulated alarms."""

    def is_simulated(self, enterprise: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class StaticDirectory:
    """A directory from plain dicts (tests, tools)."""

    regions: Mapping[str, str] = field(default_factory=dict)
    tiers: Mapping[tuple[str, str], int] = field(default_factory=dict)
    contacts: Mapping[str, Sequence[ContactInfo]] = field(default_factory=dict)
    simulated: frozenset[str] = frozenset()

    def region_of(self, enterprise: str) -> str | None:
        return self.regions.get(enterprise)

    def tier_of(self, enterprise: str, hazard_source: str) -> int | None:
        return self.tiers.get((enterprise, hazard_source))

    def contacts_of(self, enterprise: str) -> Sequence[ContactLike]:
        return self.contacts.get(enterprise, ())

    def is_simulated(self, enterprise: str) -> bool:
        return enterprise in self.simulated


# The parts of hazmon.domain.registry this module reads, named structurally so the alarm
# package does not import the registry loader.
class _EnterpriseLike(Protocol):
    @property
    def region(self) -> str: ...
    @property
    def contacts(self) -> Sequence[ContactLike]: ...
    @property
    def simulated(self) -> bool: ...


class _GradingLike(Protocol):
    @property
    def tier(self) -> int | None: ...


class _HazardSourceInfoLike(Protocol):
    @property
    def grading(self) -> _GradingLike: ...


class RegistryLike(Protocol):
    @property
    def enterprises(self) -> Mapping[str, _EnterpriseLike]: ...
    @property
    def hazard_sources(self) -> Mapping[tuple[str, str], _HazardSourceInfoLike]: ...


@dataclass(frozen=True, slots=True)
class RegistryDirectory:
    registry: RegistryLike

    def region_of(self, enterprise: str) -> str | None:
        ent = self.registry.enterprises.get(enterprise)
        return ent.region if ent is not None else None

    def tier_of(self, enterprise: str, hazard_source: str) -> int | None:
        info = self.registry.hazard_sources.get((enterprise, hazard_source))
        return info.grading.tier if info is not None else None

    def contacts_of(self, enterprise: str) -> Sequence[ContactLike]:
        ent = self.registry.enterprises.get(enterprise)
        return ent.contacts if ent is not None else ()

    def is_simulated(self, enterprise: str) -> bool:
        ent = self.registry.enterprises.get(enterprise)
        return bool(ent is not None and ent.simulated)
