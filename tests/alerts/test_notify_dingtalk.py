"""The DingTalk robot channel against a local fake robot: the exact request (path, query,
signature recomputed here, body), the errcode classification, and its secrets kept out
of logs and delivery reasons."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from pydantic import ValidationError

from hazmon.alerts.notify import ChannelDeps, DeliveryError, NotifyConfig, build_channel
from hazmon.alerts.notify.channels import ChannelSecretError
from hazmon.alerts.notify.channels.dingtalk import DingtalkChannelConfig
from hazmon.alerts.notify.message import Channel
from tests.alerts.gateway_support import (
    SUBJECT,
    TEXT,
    WALL_S,
    FakeGateway,
    message,
    own_headers,
)

TOKEN = "b9f8e7d6c5a4b3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8"
SECRET = "SEC3a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
T_MS = 1_764_633_600_250


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    g = FakeGateway().start()
    try:
        yield g
    finally:
        g.stop()


@pytest.fixture
async def deps() -> AsyncIterator[ChannelDeps]:
    async with httpx.AsyncClient() as http:
        yield ChannelDeps(http, lambda: WALL_S)


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAZMON_TEST_DING_TOKEN", TOKEN)
    monkeypatch.setenv("HAZMON_TEST_DING_SECRET", SECRET)


def entry(base: str, **extra: Any) -> dict[str, Any]:
    return {"name": "ding-city", "type": "dingtalk", "base_url": base,
            "access_token": {"env": "HAZMON_TEST_DING_TOKEN"},
            "secret": {"env": "HAZMON_TEST_DING_SECRET"}, **extra}


def channel(base: str, deps: ChannelDeps, **extra: Any) -> Channel:
    cfg = NotifyConfig.model_validate({"channels": [entry(base, **extra)],
                                       "routes": [{"to": ["ding-city"]}]})
    return build_channel(cfg.channel("ding-city"), deps)


def expected_sign(ts: int) -> str:
    """DingTalk's documented recipe, written out here rather than imported."""
    digest = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


async def test_markdown_request_is_exactly_dingtalks(gateway: FakeGateway,
                                                     deps: ChannelDeps) -> None:
    ch = channel(gateway.base, deps, mention_mobiles=["13900000009"])
    await ch.send(message(phone="+8613800000003"))
    (req,) = gateway.seen
    assert req.method == "POST"
    assert req.raw_path == (f"/robot/send?access_token={TOKEN}&timestamp={T_MS}"
                            f"&sign={quote_plus(expected_sign(T_MS))}")
    assert req.query["sign"] == [expected_sign(T_MS)]  # encoded once, decodes to base64
    assert own_headers(req) == {"content-type": "application/json; charset=utf-8"}
    assert req.headers["content-length"] == str(len(req.body))
    assert req.json == {
        "msgtype": "markdown",
        "markdown": {
            "title": SUBJECT,
            "text": (f"#### {SUBJECT}\n\n> {TEXT}\n\n###### 消息编号 n7.3"
                     "\n\n@13900000009 @13800000003"),
        },
        "at": {"atMobiles": ["13900000009", "13800000003"], "isAtAll": False},
    }
    assert req.body.decode("utf-8").count("罐区一") == 1  # UTF-8, not \u escapes


async def test_text_message_and_no_mention_without_a_mobile(gateway: FakeGateway,
                                                            deps: ChannelDeps) -> None:
    ch = channel(gateway.base, deps, msgtype="text", at_all=True)
    await ch.send(message(simulated=True, text="第一行\n<font>第二行</font>"))
    (req,) = gateway.seen
    assert req.json == {
        "msgtype": "text",
        "text": {"content": f"[演练] {SUBJECT}\n第一行\n<font>第二行</font>"},
        "at": {"atMobiles": [], "isAtAll": True},
    }


async def test_markdown_cannot_be_hijacked_by_the_alarm_text(gateway: FakeGateway,
                                                             deps: ChannelDeps) -> None:
    ch = channel(gateway.base, deps)
    await ch.send(message(text="a <font color=red>b</font>\n第二行"))
    text = gateway.seen[0].json["markdown"]["text"]
    assert "> a ＜font color=red＞b＜/font＞\n> 第二行" in text
    assert "<font" not in text


async def test_each_attempt_is_signed_with_its_own_time(gateway: FakeGateway) -> None:
    times = iter([100.0, 200.5])
    async with httpx.AsyncClient() as http:
        ch = channel(gateway.base, ChannelDeps(http, lambda: next(times)))
        await ch.send(message())
        await ch.send(message())
    first, second = (r.query for r in gateway.seen)
    assert (first["timestamp"], second["timestamp"]) == (["100000"], ["200500"])
    assert first["sign"] == [expected_sign(100000)]
    assert second["sign"] == [expected_sign(200500)]


async def test_long_text_is_cut_with_an_ellipsis(gateway: FakeGateway,
                                                 deps: ChannelDeps) -> None:
    ch = channel(gateway.base, deps, msgtype="text")
    await ch.send(message(text="液" * 5000, phone="13800000003"))
    content = gateway.seen[0].json["text"]["content"]
    assert len(content) == 4000
    assert content.endswith("…\n@13800000003")


@pytest.mark.parametrize(("answer", "permanent"), [
    ((200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}), False),
    ((200, {"errcode": -1, "errmsg": "系统繁忙"}), False),
    ((200, {"errcode": 310000, "errmsg": "sign not match"}), True),
    ((200, {"errcode": 300001, "errmsg": "token is not exist"}), True),
    ((200, b"<html>proxy</html>"), False),
    ((503, {"errcode": 0}), False),
    ((429, {}), False),
    ((400, {}), True),
    ((404, {}), True),
])
async def test_failures_are_classified(gateway: FakeGateway, deps: ChannelDeps,
                                       answer: tuple[int, Any], permanent: bool) -> None:
    gateway.script.append(answer)
    with pytest.raises(DeliveryError) as err:
        await channel(gateway.base, deps).send(message())
    assert err.value.permanent is permanent
    assert err.value.channel == "ding-city"
    if isinstance(answer[1], dict) and answer[1].get("errcode"):
        assert f"errcode {answer[1]['errcode']}" in err.value.reason


async def test_secrets_stay_out_of_logs_and_reasons(
    gateway: FakeGateway, deps: ChannelDeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    gateway.script.append((200, {"errcode": 310000, "errmsg": f"bad token {TOKEN}"}))
    ch = channel(gateway.base, deps)
    with pytest.raises(DeliveryError) as refused:
        await ch.send(message())
    dead = channel("http://127.0.0.1:9", deps)  # nothing listens: a transport error
    with pytest.raises(DeliveryError) as unreachable:
        await dead.send(message())
    assert "HTTP Request: POST" in caplog.text  # httpx did log the request URL ...
    assert "access_token=***" in caplog.text  # ... with the token masked
    for text in (caplog.text, refused.value.reason, unreachable.value.reason):
        assert TOKEN not in text
        assert SECRET not in text
    assert refused.value.reason == "errcode 310000: bad token ***"
    assert unreachable.value.permanent is False


def test_secrets_are_never_inline() -> None:
    with pytest.raises(ValidationError, match="never written in the config"):
        DingtalkChannelConfig.model_validate(
            {**entry("http://x"), "access_token": TOKEN})
    with pytest.raises(ValidationError, match="exactly one of env and file"):
        DingtalkChannelConfig.model_validate(
            {**entry("http://x"), "secret": {"env": "A", "file": "/tmp/x"}})
    with pytest.raises(ValidationError, match="extra"):
        DingtalkChannelConfig.model_validate({**entry("http://x"), "webhook": "http://y"})


async def test_a_missing_secret_stops_the_start_naming_where_it_was_looked_for(
    deps: ChannelDeps, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.delenv("HAZMON_TEST_DING_SECRET")
    with pytest.raises(ChannelSecretError, match="HAZMON_TEST_DING_SECRET"):
        channel("http://x", deps)
    with pytest.raises(ChannelSecretError, match=r"file .*absent\.key"):
        channel("http://x", deps, secret={"file": str(tmp_path / "absent.key")})
    key = tmp_path / "ding.key"
    key.write_text(SECRET + "\n", encoding="utf-8")
    assert channel("http://x", deps, secret={"file": str(key)}).name == "ding-city"
