"""The action-rights table: defaults, a site's overrides, strict settings, the 403 answer."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from hazmon.api.deps import requires
from hazmon.api.errors import Forbidden, install_error_handlers
from hazmon.api.rights import DEFAULT_RIGHTS, Action, Rights
from hazmon.api.scope import Principal, Role, ScopeError, check_scope
from hazmon.api.settings import HttpSettings
from tests.support import ENT


def _principal(role: Role, scope: str) -> Principal:
    return Principal("0123456789abcdef", "t", role, scope)


def test_every_action_has_a_default_and_plant_alarms_are_the_operators() -> None:
    assert set(DEFAULT_RIGHTS) == set(Action)
    rights = Rights()
    assert rights.may(Role.ENTERPRISE, Action.ALARM_ACK)
    assert rights.may(Role.ENTERPRISE, Action.ALARM_SHELVE)
    for regulator in (Role.COUNTY, Role.CITY, Role.PROVINCE):
        assert not rights.may(regulator, Action.ALARM_ACK)
        assert not rights.may(regulator, Action.WARNING_FEEDBACK)
        assert rights.may(regulator, Action.ALARM_COMMENT)
        assert rights.may(regulator, Action.WARNING_REVIEW)
    assert not rights.may(Role.ENTERPRISE, Action.WARNING_REVIEW)


def test_an_override_replaces_the_default_of_that_action_only() -> None:
    settings = HttpSettings.model_validate({"rights": {"alarm.ack": ["enterprise", "county"]}})
    rights = Rights(settings.rights)
    assert rights.roles(Action.ALARM_ACK) == {Role.ENTERPRISE, Role.COUNTY}
    assert not rights.may(Role.SIMULATOR, Action.ALARM_ACK)
    assert rights.roles(Action.ALARM_SHELVE) == DEFAULT_RIGHTS[Action.ALARM_SHELVE]


@pytest.mark.parametrize("rights", [{"alarm.acknowledge": ["enterprise"]},
                                    {"alarm.ack": ["operator"]}, {"alarm.ack": "enterprise"}])
def test_unknown_actions_and_roles_are_refused(rights: object) -> None:
    with pytest.raises(ValidationError):
        HttpSettings.model_validate({"rights": rights})


def test_check_names_the_action_and_who_may() -> None:
    with pytest.raises(Forbidden, match=r"a province token may not alarm\.ack "
                                        r"\(allowed: enterprise, simulator"):
        Rights().check(_principal(Role.PROVINCE, "32"), Action.ALARM_ACK)
    Rights().check(_principal(Role.ENTERPRISE, ENT), Action.ALARM_ACK)  # no error


def test_county_scope_is_a_six_digit_code() -> None:
    assert check_scope(Role.COUNTY, " 320921 ") == "320921"
    for bad in ("3209", "32092A", "3209210"):
        with pytest.raises(ScopeError, match="6-digit county code"):
            check_scope(Role.COUNTY, bad)
    county = _principal(Role.COUNTY, "320921")
    assert county.region_prefix == "320921"
    assert county.sees_enterprise(ENT, "320921")
    assert not county.sees_enterprise(ENT, "320902")


async def test_requires_answers_403_with_the_json_error_body() -> None:
    app = FastAPI()
    install_error_handlers(app)
    principal = _principal(Role.CITY, "3209")

    class _Ctx:
        rights = Rights()

    from hazmon.api import deps

    app.dependency_overrides[deps.authenticate] = lambda: principal
    app.dependency_overrides[deps.get_context] = lambda: _Ctx()

    @app.post("/ack")
    async def ack(who: Annotated[Principal, requires(Action.ALARM_ACK)]) -> dict[str, str]:
        return {"by": who.actor}

    @app.post("/comment")
    async def comment(who: Annotated[Principal, requires(Action.ALARM_COMMENT)]) -> dict[str, str]:
        return {"by": who.actor}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        refused = await client.post("/ack")
        assert refused.status_code == 403
        assert refused.json()["error"] == "forbidden"
        assert refused.json()["action"] == "alarm.ack"
        allowed = await client.post("/comment")
        assert allowed.status_code == 200
        assert allowed.json() == {"by": "city:t"}
