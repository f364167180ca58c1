"""The channel registry: every channel type hazmon can deliver on, keyed by its `type`
in the notify config. A new channel is one module in this package (its config model,
its channel class and its `ChannelType`) plus one entry in `_TYPES` below."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from hazmon.alerts.errors import AlertsError
from hazmon.alerts.notify.channels.base import (
    ChannelConfig,
    ChannelDeps,
    ChannelType,
    Publish,
)
from hazmon.alerts.notify.channels.dingtalk import DINGTALK
from hazmon.alerts.notify.channels.email import EMAIL
from hazmon.alerts.notify.channels.mqtt import MQTT
from hazmon.alerts.notify.channels.secrets import ChannelSecretError, SecretRef
from hazmon.alerts.notify.channels.sms import SMS
from hazmon.alerts.notify.channels.webhook import WEBHOOK
from hazmon.alerts.notify.channels.wecom import WECOM
from hazmon.alerts.notify.message import Channel

# The order is the order of the tags in config errors ("expected tags: ...").
_TYPES: tuple[ChannelType[Any], ...] = (MQTT, WEBHOOK, EMAIL, SMS, WECOM, DINGTALK)


class UnknownChannelTypeError(AlertsError):
    def __init__(self, type_: str, known: Iterable[str]) -> None:
        self.type = type_
        super().__init__(f"unknown channel type {type_!r} (known: {', '.join(known)})")


def registry(types: Iterable[ChannelType[Any]]) -> Mapping[str, ChannelType[Any]]:
    """Channel types by their `type` tag; two types with one tag is a programming error."""
    out: dict[str, ChannelType[Any]] = {}
    for t in types:
        if t.type in out:
            raise ValueError(f"channel type {t.type!r} registered twice")
        out[t.type] = t
    return MappingProxyType(out)


CHANNEL_TYPES = registry(_TYPES)


def channel_type(type_: str) -> ChannelType[Any]:
    try:
        return CHANNEL_TYPES[type_]
    except KeyError:
        raise UnknownChannelTypeError(type_, CHANNEL_TYPES) from None


def build_channel(config: ChannelConfig, deps: ChannelDeps) -> Channel:
    """The channel of one configured entry, built by its registered type."""
    kind = channel_type(config.type)
    if not isinstance(config, kind.config):
        raise TypeError(f"channel {config.name}: a {type(config).__name__} is not a "
                        f"{kind.config.__name__}")
    return kind.build(config, deps)


__all__ = [
    "CHANNEL_TYPES",
    "ChannelConfig",
    "ChannelDeps",
    "ChannelSecretError",
    "ChannelType",
    "Publish",
    "SecretRef",
    "UnknownChannelTypeError",
    "build_channel",
    "channel_type",
    "registry",
]
