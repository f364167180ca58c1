"""The SMS gateway channel against a local fake gateway: the request rendered from the
configured template, its HMAC signature recomputed here from the documented canonical
string, the numbers, the length limit, the outcome classification and the key kept out
of logs and reasons."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from hazmon.alerts.notify import ChannelDeps, DeliveryError, NotifyConfig, build_channel
from hazmon.alerts.notify.channels.sms import SmsChannel, SmsChannelConfig
from hazmon.alerts.notify.channels.text import fit_chars, sms_segments
from tests.alerts.gateway_support import TEXT, WALL_S, FakeGateway, message, own_headers

KEY = "sms-hmac-key-2c9f1e7a4b6d8e0f"
SIGN_NAME = "响水县应急管理局"  # 8 characters: 【】 make 10 of the budget

ALIYUN_LIKE: dict[str, Any] = {
    "PhoneNumbers": "{phone}", "SignName": "{sign_name}", "TemplateCode": "{template_code}",
    "TemplateParam": "{template_params_json}", "OutId": "{message_id}",
    "AccessKeyId": "{key_id}",
}


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    g = FakeGateway(default=(200, {"Code": "OK", "Message": "OK"})).start()
    try:
        yield g
    finally:
        g.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture(autouse=True)
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAZMON_TEST_SMS_KEY", KEY)


def entry(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "sms-320921", "type": "sms", "url": url,
            "key": {"env": "HAZMON_TEST_SMS_KEY"}, "key_id": "hazmon-320921",
            "sign_name": SIGN_NAME, "template_code": "SMS_2024001",
            "template_params": {"content": "{text}"}, "body": ALIYUN_LIKE,
            "response": {"code_field": "Code", "ok": ["OK"],
                         "retry": ["isv.BUSINESS_LIMIT_CONTROL"]},
            **extra}


def config(url: str, **extra: Any) -> SmsChannelConfig:
    cfg = NotifyConfig.model_validate({"channels": [entry(url, **extra)],
                                       "routes": [{"to": ["sms-320921"]}]})
    entry_cfg = cfg.channel("sms-320921")
    assert isinstance(entry_cfg, SmsChannelConfig)
    return entry_cfg


def channel(url: str, http: httpx.AsyncClient, *, nonces: list[str] | None = None,
            **extra: Any) -> SmsChannel:
    pool = iter(nonces or [f"{i:032x}" for i in range(1, 100)])
    return SmsChannel(config(url, **extra), ChannelDeps(http, lambda: WALL_S),
                      nonce=lambda: next(pool))


def expected_signature(timestamp: str, nonce: str, body: bytes) -> str:
    """The documented canonical string, written out here rather than imported."""
    canonical = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(KEY.encode(), canonical, hashlib.sha256).hexdigest()


async def test_request_is_the_rendered_template_signed(gateway: FakeGateway,
                                                       http: httpx.AsyncClient) -> None:
    ch = channel(gateway.base + "/v1/send?region=js", http, nonces=["ab" * 16],
                 headers={"X-Vendor-App": "hazmon"})
    await ch.send(message(phone="+8613800000003", text="液位高高报警"))
    (req,) = gateway.seen
    assert (req.method, req.raw_path) == ("POST", "/v1/send?region=js")
    assert own_headers(req) == {
        "content-type": "application/json; charset=utf-8", "x-vendor-app": "hazmon",
        "x-timestamp": "1764633600", "x-nonce": "ab" * 16,
        "x-signature": expected_signature("1764633600", "ab" * 16, req.body),
    }
    assert req.json == {
        "PhoneNumbers": "13800000003", "SignName": SIGN_NAME, "TemplateCode": "SMS_2024001",
        "TemplateParam": json.dumps({"content": "液位高高报警"}, ensure_ascii=False,
                                    separators=(",", ":")),
        "OutId": "n7.3", "AccessKeyId": "hazmon-320921",
    }
    assert req.headers["x-signature"] == expected_signature("1764633600", "ab" * 16, req.body)


async def test_typed_placeholders_base64_signature_and_ms_timestamps(
    gateway: FakeGateway, http: httpx.AsyncClient
) -> None:
    import base64

    body = {"to": "{phones}", "params": "{template_params}", "msg": "【{sign_name}】{text}",
            "literal": "{{not a placeholder}}", "meta": {"id": "{message_id}", "n": 3,
                                                        "stamp": ["{timestamp}", "{nonce}"]}}
    ch = channel(gateway.base + "/send", http, nonces=["cd" * 16], body=body, method="PUT",
                 phones=["13900000009", "+8613900000008"], phone_format="e164",
                 template_params={"t": "{text}", "code": "{template_code}"},
                 signature_encoding="base64", signature_header="Authorization",
                 signature_prefix="HMAC-SHA256 ", timestamp_unit="ms",
                 timestamp_header="X-Ts", nonce_header="X-Once")
    await ch.send(message(text="短信"))  # the duty line: the channel's own phones
    (req,) = gateway.seen
    assert req.method == "PUT"
    assert req.json == {
        "to": ["+8613900000009", "+8613900000008"],
        "params": {"t": "短信", "code": "SMS_2024001"},
        "msg": f"【{SIGN_NAME}】短信", "literal": "{not a placeholder}",
        "meta": {"id": "n7.3", "n": 3, "stamp": ["1764633600250", "cd" * 16]},
    }
    canonical = b"1764633600250\n" + b"cd" * 16 + b"\n" + req.body
    mac = hmac.new(KEY.encode(), canonical, hashlib.sha256).digest()
    assert req.headers["authorization"] == "HMAC-SHA256 " + base64.b64encode(mac).decode()
    assert req.headers["x-ts"] == "1764633600250"


async def test_each_attempt_has_a_fresh_nonce_and_signature(gateway: FakeGateway,
                                                            http: httpx.AsyncClient) -> None:
    gateway.script.append((503, {}))
    ch = channel(gateway.base, http, phones=["13900000009"])
    with pytest.raises(DeliveryError):
        await ch.send(message())
    await ch.send(message())
    first, second = gateway.seen
    assert first.headers["x-nonce"] != second.headers["x-nonce"]
    assert first.body == second.body  # same message id, same text: the vendor may dedup
    for req in gateway.seen:
        assert req.headers["x-signature"] == expected_signature(
            req.headers["x-timestamp"], req.headers["x-nonce"], req.body)


async def test_text_with_the_sign_name_fits_max_chars(gateway: FakeGateway,
                                                      http: httpx.AsyncClient) -> None:
    await channel(gateway.base, http, phones=["13900000009"], max_chars=70).send(
        message(text=TEXT * 3, simulated=True))
    text = json.loads(gateway.seen[0].json["TemplateParam"])["content"]
    assert len(text) + len(f"【{SIGN_NAME}】") == 70  # one SMS segment, no more
    assert text.startswith("[演练] [high] 报警")
    assert text.endswith("…")


def test_segments_and_cutting() -> None:
    assert [sms_segments("液" * n) for n in (1, 70, 71, 134, 135)] == [1, 1, 2, 2, 3]
    assert fit_chars("液位" * 40, 70) == "液位" * 34 + "液…"
    assert fit_chars("短", 70) == "短"


async def test_no_number_is_a_permanent_failure(gateway: FakeGateway,
                                                http: httpx.AsyncClient) -> None:
    with pytest.raises(DeliveryError) as err:
        await channel(gateway.base, http).send(message())
    assert err.value.permanent
    assert "no mobile number: the recipient has none" in err.value.reason
    # a person with a landline is not texted the channel's numbers in their place
    with pytest.raises(DeliveryError) as landline:
        await channel(gateway.base, http, phones=["13900000009"]).send(
            message(phone="0515-86800000"))
    assert landline.value.permanent
    assert "the recipient's phone is not a mobile" in landline.value.reason
    assert gateway.seen == []


async def test_a_person_is_texted_on_their_own_number_only(gateway: FakeGateway,
                                                           http: httpx.AsyncClient) -> None:
    await channel(gateway.base, http, phones=["13900000009"]).send(
        message(phone="+86 138 0000 0003"))
    assert gateway.seen[0].json["PhoneNumbers"] == "13800000003"


@pytest.mark.parametrize(("answer", "permanent"), [
    ((200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控"}), False),
    ((200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}), True),
    ((200, {"Message": "no code"}), True),
    ((200, b"not json"), False),
    ((500, {}), False),
    ((408, {}), False),
    ((401, {"Code": "SignatureDoesNotMatch"}), True),
])
async def test_outcomes_are_classified(gateway: FakeGateway, http: httpx.AsyncClient,
                                       answer: tuple[int, Any], permanent: bool) -> None:
    gateway.script.append(answer)
    with pytest.raises(DeliveryError) as err:
        await channel(gateway.base, http, phones=["13900000009"]).send(message())
    assert err.value.permanent is permanent


async def test_without_a_response_check_any_2xx_is_sent(gateway: FakeGateway,
                                                        http: httpx.AsyncClient) -> None:
    gateway.script.append((202, b""))
    await channel(gateway.base, http, phones=["13900000009"], response=None).send(message())
    assert len(gateway.seen) == 1


@pytest.mark.parametrize(("change", "error"), [
    ({"body": {"to": "{phonez}"}}, "unknown placeholder {phonez}"),
    ({"body": {"to": "tel:{phones}"}}, "must be a whole string value"),
    ({"template_params": {"x": "{template_params_json}"}}, "unknown placeholder"),
    ({"key": KEY}, "never written in the config"),
    ({"phones": ["12345"]}, "phones.0"),
    ({"max_chars": 15}, "max_chars"),
    ({"sign_name": "签" * 20, "max_chars": 30}, "under 10 characters"),
    ({"signature_header": "X Sig"}, "signature_header"),
    ({"vendor": "aliyun"}, "vendor"),
])
def test_config_is_strict(change: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error.replace("{", r"\{").replace("}", r"\}")):
        config("http://sms.example/send", **change)


async def test_key_from_a_file_and_kept_out_of_logs_and_reasons(
    gateway: FakeGateway, http: httpx.AsyncClient, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    key_file = tmp_path / "sms.key"
    key_file.write_text(f"{KEY}\n", encoding="utf-8")
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    gateway.script.append((200, {"Code": "isv.DENIED", "Message": f"key {KEY} refused"}))
    ch = channel(gateway.base, http, key={"file": str(key_file)}, phones=["13900000009"])
    with pytest.raises(DeliveryError) as refused:
        await ch.send(message())
    (req,) = gateway.seen
    assert req.headers["x-signature"] == expected_signature(
        req.headers["x-timestamp"], req.headers["x-nonce"], req.body)
    assert KEY not in refused.value.reason
    assert "key *** refused" in refused.value.reason
    assert KEY not in caplog.text
    assert KEY.encode() not in req.body  # the key signs, it is never sent


def test_channel_is_built_by_the_registry(http: httpx.AsyncClient) -> None:
    cfg = config("http://sms.example/send")
    ch = build_channel(cfg, ChannelDeps(http, lambda: WALL_S))
    assert (ch.type, ch.name, ch.test) == ("sms", "sms-320921", False)
