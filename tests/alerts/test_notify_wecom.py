"""The WeCom group robot channel against a local fake robot: the exact request, the
errcode classification, the byte limits, and the key kept out of logs and reasons."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from hazmon.alerts.notify import ChannelDeps, DeliveryError, NotifyConfig, build_channel
from hazmon.alerts.notify.message import Channel
from tests.alerts.gateway_support import (
    SUBJECT,
    TEXT,
    WALL_S,
    FakeGateway,
    message,
    own_headers,
)

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


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
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAZMON_TEST_WECOM_KEY", KEY)


def entry(base: str, **extra: Any) -> dict[str, Any]:
    return {"name": "wecom-county", "type": "wecom", "base_url": base,
            "key": {"env": "HAZMON_TEST_WECOM_KEY"}, **extra}


def channel(base: str, deps: ChannelDeps, **extra: Any) -> Channel:
    cfg = NotifyConfig.model_validate({"channels": [entry(base, **extra)],
                                       "routes": [{"to": ["wecom-county"]}]})
    return build_channel(cfg.channel("wecom-county"), deps)


async def test_markdown_request_is_exactly_wecoms(gateway: FakeGateway,
                                                  deps: ChannelDeps) -> None:
    await channel(gateway.base, deps).send(message(phone="+8613800000003"))
    (req,) = gateway.seen
    assert req.method == "POST"
    assert req.raw_path == f"/cgi-bin/webhook/send?key={KEY}"
    assert own_headers(req) == {"content-type": "application/json; charset=utf-8"}
    assert req.json == {
        "msgtype": "markdown",
        "markdown": {"content": (f"### {SUBJECT}\n> {TEXT}\n"
                                 "<font color=\"comment\">消息编号 n7.3</font>")},
    }


async def test_a_base_url_with_a_path_prefix_is_kept(gateway: FakeGateway,
                                                     deps: ChannelDeps) -> None:
    await channel(gateway.base + "/wecom-proxy/", deps).send(message())
    assert gateway.seen[0].raw_path == f"/wecom-proxy/cgi-bin/webhook/send?key={KEY}"


async def test_text_mentions_the_recipient_and_the_configured_mobiles(
    gateway: FakeGateway, deps: ChannelDeps
) -> None:
    ch = channel(gateway.base, deps, msgtype="text", mention_mobiles=["13900000009"])
    await ch.send(message(phone="+86 138-0000-0003", simulated=True))
    await ch.send(message())  # the duty line: no mobile of its own
    first, second = (r.json for r in gateway.seen)
    assert first == {"msgtype": "text", "text": {
        "content": f"[演练] {SUBJECT}\n{TEXT}",
        "mentioned_mobile_list": ["13900000009", "13800000003"]}}
    assert second["text"]["mentioned_mobile_list"] == ["13900000009"]


async def test_a_landline_is_not_mentioned(gateway: FakeGateway, deps: ChannelDeps) -> None:
    await channel(gateway.base, deps, msgtype="text").send(message(phone="0515-86800000"))
    assert gateway.seen[0].json == {"msgtype": "text",
                                    "text": {"content": f"{SUBJECT}\n{TEXT}"}}


@pytest.mark.parametrize(("msgtype", "limit"), [("markdown", 4096), ("text", 2048)])
async def test_content_is_cut_to_wecoms_byte_limits(
    gateway: FakeGateway, deps: ChannelDeps, msgtype: str, limit: int
) -> None:
    await channel(gateway.base, deps, msgtype=msgtype).send(message(text="液位" * 3000))
    content = gateway.seen[0].json[msgtype]["content"]
    assert limit - 3 < len(content.encode("utf-8")) <= limit  # 3: one Chinese character
    assert content.endswith("…")


def test_markdown_cannot_mention_by_mobile() -> None:
    with pytest.raises(ValidationError, match="mention_mobiles needs msgtype text"):
        NotifyConfig.model_validate({
            "channels": [entry("http://x", mention_mobiles=["13900000009"])],
            "routes": [{"to": ["wecom-county"]}]})
    with pytest.raises(ValidationError, match="never written in the config"):
        NotifyConfig.model_validate({"channels": [entry("http://x", key=KEY)],
                                     "routes": [{"to": ["wecom-county"]}]})


@pytest.mark.parametrize(("answer", "permanent"), [
    ((200, {"errcode": 45009, "errmsg": "api freq out of limit"}), False),
    ((200, {"errcode": -1, "errmsg": "system busy"}), False),
    ((200, {"errcode": 93000, "errmsg": "invalid webhook url"}), True),
    ((200, {"errcode": 40008, "errmsg": "invalid message type"}), True),
    ((200, {"errmsg": "no code"}), False),
    ((502, b"bad gateway"), False),
    ((403, {}), True),
])
async def test_failures_are_classified(gateway: FakeGateway, deps: ChannelDeps,
                                       answer: tuple[int, Any], permanent: bool) -> None:
    gateway.script.append(answer)
    with pytest.raises(DeliveryError) as err:
        await channel(gateway.base, deps).send(message())
    assert err.value.permanent is permanent


async def test_a_retried_message_goes_through(gateway: FakeGateway, deps: ChannelDeps) -> None:
    gateway.script.append((200, {"errcode": 45009, "errmsg": "api freq out of limit"}))
    ch = channel(gateway.base, deps)
    with pytest.raises(DeliveryError):
        await ch.send(message())
    await ch.send(message())  # the notifier's retry: errcode 0 now
    assert len(gateway.seen) == 2
    assert gateway.seen[0].body == gateway.seen[1].body  # the same message, unchanged


async def test_the_key_stays_out_of_logs_and_reasons(
    gateway: FakeGateway, deps: ChannelDeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    gateway.script.append((200, {"errcode": 93000, "errmsg": f"invalid webhook url, key={KEY}"}))
    with pytest.raises(DeliveryError) as refused:
        await channel(gateway.base, deps).send(message())
    with pytest.raises(DeliveryError) as unreachable:
        await channel("http://127.0.0.1:9", deps).send(message())
    assert "key=***" in caplog.text
    for text in (caplog.text, refused.value.reason, unreachable.value.reason):
        assert KEY not in text
    assert refused.value.reason == "errcode 93000: invalid webhook url, key=***"
