"""`Principal.narrow`, the one scope narrowing behind the alarm, warning and duty routers:
for every role, what it leaves of a request (region prefix, enterprise, simulated), the
same for an AlarmFilter, a WarningFilter and a bare Scope; and, over a small world, that
it never lets through what the caller may not see nor loses what it may."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import pytest

from hazmon.alerts.store import AlarmFilter
from hazmon.api.scope import Principal, Role, Scope
from hazmon.warnings.store import WarningFilter
from tests.api.support import ROLES, SIMULATED
from tests.support import ENT, ENT2

OTHER = "91321002MA3ZZZZZ2T"  # region 321002, outside every scope but the province's


def principal(role: str) -> Principal:
    kind, scope = ROLES[role]
    sim = SIMULATED if kind == "simulator" else frozenset()
    return Principal("0123456789abcdef", role, Role(kind), scope, sim)


# request (region, enterprise, simulated) -> what each role leaves of it, None: nothing
REQUESTS: list[tuple[str | None, str | None, bool | None]] = [
    (None, None, None), ("3209", None, None), ("320921", None, None), ("3210", None, None),
    (None, ENT, None), (None, OTHER, None), (None, None, False), (None, None, True),
]
N = None
EXPECTED: dict[str, list[tuple[str | None, str | None, bool | None] | None]] = {
    "province": [("32", N, N), ("3209", N, N), ("320921", N, N), ("3210", N, N),
                 ("32", ENT, N), ("32", OTHER, N), ("32", N, False), ("32", N, True)],
    "city": [("3209", N, N), ("3209", N, N), ("320921", N, N), None,
             ("3209", ENT, N), ("3209", OTHER, N), ("3209", N, False), ("3209", N, True)],
    "other_city": [("3210", N, N), None, None, ("3210", N, N),
                   ("3210", ENT, N), ("3210", OTHER, N), ("3210", N, False),
                   ("3210", N, True)],
    "county": [("320921", N, N), ("320921", N, N), ("320921", N, N), None,
               ("320921", ENT, N), ("320921", OTHER, N), ("320921", N, False),
               ("320921", N, True)],
    "enterprise": [(N, ENT, N), ("3209", ENT, N), ("320921", ENT, N), ("3210", ENT, N),
                   (N, ENT, N), None, (N, ENT, False), (N, ENT, True)],
    "simulator": [("32", N, True), ("3209", N, True), ("320921", N, True), ("3210", N, True),
                  ("32", ENT, True), ("32", OTHER, True), None, ("32", N, True)],
}


def test_every_role_is_in_the_table() -> None:
    assert set(EXPECTED) == set(ROLES)
    assert {Role(kind) for kind, _ in ROLES.values()} == set(Role)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_what_each_role_leaves_of_a_request(role: str) -> None:
    p = principal(role)
    for (region, enterprise, simulated), want in zip(REQUESTS, EXPECTED[role], strict=True):
        got = p.narrow(Scope(region, enterprise, simulated))
        assert (None if got is None else (got.region_prefix, got.enterprise, got.simulated)
                ) == want, (role, region, enterprise, simulated)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_alarm_and_warning_filters_narrow_alike_and_keep_their_other_fields(role: str) -> None:
    p = principal(role)
    for region, enterprise, simulated in REQUESTS:
        scope = p.narrow(Scope(region, enterprise, simulated))
        alarm = p.narrow(AlarmFilter(region_prefix=region, enterprise=enterprise,
                                     simulated=simulated, hazard_source="T01", open=True))
        warning = p.narrow(WarningFilter(region_prefix=region, enterprise=enterprise,
                                         simulated=simulated, hazard_source="T01",
                                         overdue=True))
        assert p.alarm_filter(AlarmFilter(region_prefix=region, enterprise=enterprise,
                                          simulated=simulated, hazard_source="T01",
                                          open=True)) == alarm
        if scope is None:
            assert alarm is None
            assert warning is None
            continue
        assert alarm == AlarmFilter(region_prefix=scope.region_prefix,
                                    enterprise=scope.enterprise, simulated=scope.simulated,
                                    hazard_source="T01", open=True)
        assert warning == WarningFilter(region_prefix=scope.region_prefix,
                                        enterprise=scope.enterprise,
                                        simulated=scope.simulated, hazard_source="T01",
                                        overdue=True)
    assert p.alarm_filter() == p.narrow(AlarmFilter())


@dataclass(frozen=True)
class Item:
    enterprise: str
    region: str
    simulated: bool


WORLD = [Item(e, r, s) for (e, r), s in product(
    [(ENT, "320921"), (ENT2, "320902"), (OTHER, "321002")], [False, True])]


def _matches(f: Scope, item: Item) -> bool:
    return ((f.region_prefix is None or item.region.startswith(f.region_prefix))
            and (f.enterprise is None or item.enterprise == f.enterprise)
            and (f.simulated is None or item.simulated == f.simulated))


@pytest.mark.parametrize("role", sorted(ROLES))
def test_narrowing_never_widens_and_never_loses_what_the_caller_sees(role: str) -> None:
    p = principal(role)
    for request in (Scope(*r) for r in REQUESTS):
        narrowed = p.narrow(request)
        for item in WORLD:
            sees = p.sees_event({"enterprise": item.enterprise, "region": item.region,
                                 "simulated": item.simulated})
            wanted = _matches(request, item) and sees
            if narrowed is None:
                assert not wanted, (role, request, item)
                continue
            assert not _matches(narrowed, item) or _matches(request, item), (role, item)
            if sees:  # what the caller sees, the narrowed request matches as the request
                assert _matches(narrowed, item) == _matches(request, item), (role, item)
            elif _matches(narrowed, item):  # left to the per-item check: the simulator's
                assert p.simulated_only  # own list of simulated enterprises
                assert item.enterprise not in SIMULATED
