"""The channel registry: every registered channel type is accepted by the strict notify
config and built by the factory; an unknown type is refused, naming the known ones."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import pytest
from pydantic import ValidationError

from hazmon.alerts.notify import (
    CHANNEL_TYPES,
    ChannelConfig,
    ChannelDeps,
    ChannelType,
    NotifyConfig,
    UnknownChannelTypeError,
    build_channel,
)
from hazmon.alerts.notify.channels import registry
from hazmon.alerts.notify.channels.mqtt import MQTT, MqttChannel

# The smallest valid entry of each channel type. A type registered without a sample
# here fails `test_every_type_has_a_sample` (and its cases below with a KeyError).
SAMPLES: dict[str, dict[str, Any]] = {
    "mqtt": {"type": "mqtt"},
    "webhook": {"type": "webhook", "url": "https://gw.example/hook",
                "secret": "0123456789abcdef"},
    "email": {"type": "email", "smtp": {"host": "smtp.example", "sender": "hazmon@example",
                                        "to": ["duty@example"]}},
    "sms": {"type": "sms", "url": "https://sms.example/send",
            "key": {"env": "HAZMON_SAMPLE_SECRET"}, "body": {"to": "{phone}", "text": "{text}"}},
    "wecom": {"type": "wecom", "key": {"env": "HAZMON_SAMPLE_SECRET"}},
    "dingtalk": {"type": "dingtalk", "access_token": {"env": "HAZMON_SAMPLE_SECRET"},
                 "secret": {"env": "HAZMON_SAMPLE_SECRET"}},
}


@pytest.fixture(autouse=True)
def sample_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    # the push channels read their secrets from the environment when they are built
    monkeypatch.setenv("HAZMON_SAMPLE_SECRET", "sample-secret-0123456789")


@pytest.fixture
async def deps() -> AsyncIterator[ChannelDeps]:
    async with httpx.AsyncClient() as http:
        yield ChannelDeps(http, time.time)


def _config(*channels: dict[str, Any]) -> NotifyConfig:
    return NotifyConfig.model_validate({
        "channels": list(channels),
        "routes": [{"to": [c["name"] for c in channels]}],
    })


def test_every_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(CHANNEL_TYPES)


@pytest.mark.parametrize("type_", sorted(CHANNEL_TYPES))
async def test_registered_type_is_validated_and_built(type_: str, deps: ChannelDeps) -> None:
    cfg = _config({"name": f"a-{type_}", **SAMPLES[type_]})
    entry = cfg.channel(f"a-{type_}")
    assert type(entry) is CHANNEL_TYPES[type_].config  # its own model, not the base
    channel = build_channel(entry, deps)
    assert (channel.type, channel.name, channel.test) == (type_, f"a-{type_}", False)


@pytest.mark.parametrize("type_", sorted(CHANNEL_TYPES))
def test_each_type_keeps_its_keys_strict(type_: str) -> None:
    with pytest.raises(ValidationError) as err:
        _config({"name": "x", **SAMPLES[type_], "recipients": ["a"]})
    assert f"channels.0.{type_}.recipients" in str(err.value)


def test_all_types_together_in_one_config() -> None:
    cfg = _config(*({"name": t, **s} for t, s in SAMPLES.items()))
    assert [c.type for c in cfg.channels] == list(SAMPLES)


def test_unknown_type_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValidationError) as err:
        _config({"name": "pager", "type": "fax", "number": "110"})
    text = str(err.value)
    assert "channels.0" in text
    assert "'fax'" in text
    assert all(f"'{t}'" in text for t in CHANNEL_TYPES)


class FaxConfig(ChannelConfig):
    type: Literal["fax"]


def test_factory_refuses_an_unregistered_type(deps: ChannelDeps) -> None:
    with pytest.raises(UnknownChannelTypeError) as err:
        build_channel(FaxConfig(name="pager", type="fax"), deps)
    assert str(err.value) == f"unknown channel type 'fax' (known: {', '.join(CHANNEL_TYPES)})"


def test_factory_refuses_a_config_of_another_type(deps: ChannelDeps) -> None:
    class Fake(ChannelConfig):
        type: Literal["mqtt"]  # claims the tag without being the mqtt model

    with pytest.raises(TypeError, match="not a MqttChannelConfig"):
        build_channel(Fake(name="p", type="mqtt"), deps)


def test_one_tag_is_one_type() -> None:
    with pytest.raises(ValueError, match="'mqtt' registered twice"):
        registry([MQTT, ChannelType(MQTT.config, MqttChannel)])


def test_a_type_is_keyed_by_its_config_literal() -> None:
    assert ChannelType(FaxConfig, MqttChannel).type == "fax"  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Literal of one string"):
        ChannelType(ChannelConfig, MqttChannel)  # type: ignore[arg-type]
