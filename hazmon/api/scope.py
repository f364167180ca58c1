"""Who a caller is and what it may see (docs/CONTRACT.md §5.1: a caller sees only its own scope).

    province   scope = 2-digit region prefix ("32"): every enterprise whose region starts so
    city       scope = 4-digit region prefix ("3209")
    county     scope = 6-digit county code of GB/T 2260 ("320921")
    enterprise scope = one enterprise code: that plant only
    simulator  scope = a region prefix (2-6 digits): only the enterprises flagged as
               simulated there, only their simulated alarms and the simulated telemetry
               measurement; never real data

Everything is decided here, in pure functions, so every router applies the same rule and
out-of-scope things are answered exactly like things that do not exist (404).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, replace
from enum import StrEnum
from typing import Any, ClassVar, Protocol, TypeVar

from hazmon.alerts.lifecycle import Alarm
from hazmon.alerts.store import AlarmFilter
from hazmon.domain.ids import is_enterprise


class Role(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    ENTERPRISE = "enterprise"
    SIMULATOR = "simulator"


class ScopeError(ValueError):
    pass


def check_scope(role: Role, scope: str) -> str:
    """The scope normalised for `role`, or ScopeError saying what is expected."""
    scope = scope.strip().upper()
    if role is Role.PROVINCE and not (len(scope) == 2 and scope.isdigit()):
        raise ScopeError("a province scope is a 2-digit region prefix, e.g. 32")
    if role is Role.CITY and not (len(scope) == 4 and scope.isdigit()):
        raise ScopeError("a city scope is a 4-digit region prefix, e.g. 3209")
    if role is Role.COUNTY and not (len(scope) == 6 and scope.isdigit()):
        raise ScopeError("a county scope is a 6-digit county code (GB/T 2260), e.g. 320921")
    if role is Role.ENTERPRISE and not is_enterprise(scope):
        raise ScopeError("an enterprise scope is an 18-character unified social credit code")
    if role is Role.SIMULATOR and not (2 <= len(scope) <= 6 and scope.isdigit()):
        raise ScopeError("a simulator scope is a region prefix of 2 to 6 digits")
    return scope


def narrow_region(scope_prefix: str | None, requested: str | None) -> tuple[bool, str | None]:
    """Intersect the caller's region prefix with a requested one: (possible, prefix).
    "32" and "3209" give "3209"; "3209" and "3210" cannot both hold."""
    if requested is None:
        return True, scope_prefix
    if scope_prefix is None:
        return True, requested
    if requested.startswith(scope_prefix):
        return True, requested
    if scope_prefix.startswith(requested):
        return True, scope_prefix
    return False, None


class Scoped(Protocol):
    """A request's scope fields: a dataclass with these three (AlarmFilter, WarningFilter,
    Scope)."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def region_prefix(self) -> str | None: ...

    @property
    def enterprise(self) -> str | None: ...

    @property
    def simulated(self) -> bool | None: ...


S = TypeVar("S", bound=Scoped)


@dataclass(frozen=True, slots=True)
class Scope:
    """Only the scope fields, for a request that has no filter of its own (a registry
    list): what `Principal.narrow` leaves of its region and enterprise."""

    region_prefix: str | None = None
    enterprise: str | None = None
    simulated: bool | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    token_id: str
    name: str
    role: Role
    scope: str
    # Simulator only: the enterprises flagged as simulated when the request came in.
    simulated_enterprises: frozenset[str] = frozenset()

    @property
    def actor(self) -> str:
        """How the caller appears in alarm history and the audit log."""
        return f"{self.role.value}:{self.name}"

    @property
    def region_prefix(self) -> str | None:
        return None if self.role is Role.ENTERPRISE else self.scope

    @property
    def enterprise(self) -> str | None:
        return self.scope if self.role is Role.ENTERPRISE else None

    @property
    def simulated_only(self) -> bool:
        return self.role is Role.SIMULATOR

    def sees_enterprise(self, code: str, region: str) -> bool:
        if self.role is Role.ENTERPRISE:
            return code == self.scope
        if not region.startswith(self.scope):
            return False
        return not self.simulated_only or code in self.simulated_enterprises

    def narrow(self, request: S) -> S | None:
        """`request` narrowed to this caller's scope: its region prefix inside the
        caller's, the caller's enterprise, simulated data only for the simulator. None when
        nothing in scope can match (another region or enterprise, real data asked of the
        simulator). The simulator's own list of enterprises is checked per item
        (`sees_*`): a filter cannot carry it."""
        possible, region = narrow_region(self.region_prefix, request.region_prefix)
        if not possible:
            return None
        enterprise = request.enterprise
        if self.enterprise is not None:
            if enterprise not in (None, self.enterprise):
                return None
            enterprise = self.enterprise
        simulated = request.simulated
        if self.simulated_only:
            if simulated is False:
                return None
            simulated = True
        return replace(request, region_prefix=region, enterprise=enterprise,
                       simulated=simulated)

    def alarm_filter(self, flt: AlarmFilter | None = None) -> AlarmFilter | None:
        """`flt` (everything when None) narrowed to this caller's scope (`narrow`)."""
        return self.narrow(flt or AlarmFilter())

    def sees_alarm(self, alarm: Alarm) -> bool:
        return self._sees(alarm.enterprise, alarm.region, alarm.simulated)

    def sees_event(self, event: Mapping[str, Any]) -> bool:
        return self._sees(str(event.get("enterprise", "")), str(event.get("region") or ""),
                          bool(event.get("simulated")))

    def _sees(self, enterprise: str, region: str, simulated: bool) -> bool:
        if self.role is Role.ENTERPRISE:
            return enterprise == self.scope
        if self.simulated_only and not (simulated and enterprise in self.simulated_enterprises):
            return False
        return region.startswith(self.scope)
