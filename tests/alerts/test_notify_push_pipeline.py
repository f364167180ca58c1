"""The SMS, WeCom and DingTalk channels inside the real notifier (store, outbox, records,
audit) against a local fake endpoint: an alarm is delivered once and recorded; a refusal
is given up at once, a rate limit retried; no secret reaches the delivery records, the
audit or the outbox."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from hazmon.alerts import AlarmService, AlarmStore
from hazmon.alerts.notify import DeliveryStatus, Notifier, NotifyConfig
from tests.alerts.gateway_support import WALL_S, FakeGateway
from tests.alerts.notify_support import NDIR
from tests.alerts.support import MINUTE, T0, FakeClock, make_signal

SECRET = "push-secret-7d1c0b9a8f6e5d4c3b2a"
TYPES = ("sms", "wecom", "dingtalk")
# (refusal, rate limit) answers of each endpoint
ANSWERS: dict[str, tuple[tuple[int, Any], tuple[int, Any]]] = {
    "sms": ((200, {"Code": "isv.DENIED"}), (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL"})),
    "wecom": ((200, {"errcode": 93000, "errmsg": "invalid webhook url"}),
              (200, {"errcode": 45009, "errmsg": "api freq out of limit"})),
    "dingtalk": ((200, {"errcode": 310000, "errmsg": "sign not match"}),
                 (200, {"errcode": 130101, "errmsg": "send too fast"})),
}


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    g = FakeGateway(default=(200, {"errcode": 0, "errmsg": "ok", "Code": "OK"})).start()
    try:
        yield g
    finally:
        g.stop()


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAZMON_TEST_PUSH_SECRET", SECRET)


def entry(type_: str, base: str) -> dict[str, Any]:
    ref = {"env": "HAZMON_TEST_PUSH_SECRET"}
    match type_:
        case "sms":
            return {"type": "sms", "url": base + "/sms", "key": ref,
                    "phones": ["13900000009"], "body": {"to": "{phone}", "text": "{text}"},
                    "response": {"code_field": "Code", "ok": ["OK"],
                                 "retry": ["isv.BUSINESS_LIMIT_CONTROL"]}}
        case "wecom":
            return {"type": "wecom", "base_url": base, "key": ref}
        case _:
            return {"type": "dingtalk", "base_url": base, "access_token": ref, "secret": ref}


def notifier(store: AlarmStore, type_: str, gateway: FakeGateway, clock: FakeClock) -> Notifier:
    cfg = NotifyConfig.model_validate({
        "channels": [{"name": "push", **entry(type_, gateway.base)}],
        "routes": [{"to": ["push"]}],
    })
    return Notifier(store, cfg, NDIR, None, clock, rng=random.Random(3), wall_s=lambda: WALL_S)


async def stored_text(store: AlarmStore) -> str:
    rows: list[Any] = []
    for table in ("notify_deliveries", "audit_log", "outbox"):
        rows.extend(await store.db.fetchall(f"SELECT * FROM {table}"))
    return repr(rows)


@pytest.mark.parametrize("type_", TYPES)
async def test_an_alarm_is_delivered_once_and_recorded(
    type_: str, nservice: AlarmService, store: AlarmStore, gateway: FakeGateway,
    clock: FakeClock,
) -> None:
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    async with notifier(store, type_, gateway, clock) as n:
        assert (await n.run_once(T0))["sent"] == 1
        assert (await n.run_once(T0 + 60 * MINUTE))["seen"] == 0
        (row,) = await n.deliveries_of(alarm.id)
    assert row.status is DeliveryStatus.SENT
    (req,) = gateway.seen
    assert "罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m" in req.body.decode("utf-8")
    assert SECRET not in await stored_text(store)


@pytest.mark.parametrize("type_", TYPES)
async def test_a_refusal_is_given_up_at_once_without_the_secret(
    type_: str, nservice: AlarmService, store: AlarmStore, gateway: FakeGateway,
    clock: FakeClock,
) -> None:
    gateway.script.append(ANSWERS[type_][0])
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    async with notifier(store, type_, gateway, clock) as n:
        assert (await n.run_once(T0))["dead"] == 1
        assert (await n.run_once(T0 + 60 * MINUTE))["seen"] == 0
        (row,) = await n.deliveries_of(alarm.id)
    assert row.status is DeliveryStatus.DEAD
    assert row.reason is not None
    assert SECRET not in row.reason
    assert len(gateway.seen) == 1
    assert SECRET not in await stored_text(store)


@pytest.mark.parametrize("type_", TYPES)
async def test_a_rate_limit_is_retried_then_delivered(
    type_: str, nservice: AlarmService, store: AlarmStore, gateway: FakeGateway,
    clock: FakeClock,
) -> None:
    gateway.script.append(ANSWERS[type_][1])
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    async with notifier(store, type_, gateway, clock) as n:
        assert (await n.run_once(T0))["failed"] == 1
        assert (await n.run_once(T0 + 10 * MINUTE))["sent"] == 1
        (row,) = await n.deliveries_of(alarm.id)
    assert row.status is DeliveryStatus.SENT
    assert len(gateway.seen) == 2
