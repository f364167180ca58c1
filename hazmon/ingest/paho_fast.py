"""A hot-path relief for paho-mqtt under MQTT 5, measured by bench/ (docs/PERFORMANCE.md).

paho builds a `Properties` object for every PUBLISH it decodes, and each one rebuilds
three lookup tables (a list and two dicts of ~40 entries) in `__init__`: about a third of
hazmon's CPU per 1-reading message. The tables are constants, only ever read, so here they
are built once and shared. Installed only when a fresh `Properties` holds exactly those
tables and nothing else; otherwise (another paho version) paho is left as it is.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from paho.mqtt import _packet
from paho.mqtt import client as paho_client
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)

_TABLES = ("types", "names", "properties")


class SharedTableProperties(Properties):
    """`Properties` whose lookup tables are shared by every instance (read-only)."""

    _shared: ClassVar[tuple[Any, Any, Any]]

    def __init__(self, packetType: int) -> None:  # noqa: N803 - paho's name
        types, names, props = self._shared
        object.__setattr__(self, "packetType", packetType)
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "properties", props)


def install() -> bool:
    """Make paho decode with shared tables; True when installed (idempotent)."""
    users = (_packet, paho_client)  # the modules that build Properties per packet
    current = [getattr(m, "Properties", None) for m in users]
    if all(c is SharedTableProperties for c in current):
        return True
    if any(c is not Properties for c in current):
        return False
    probe = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if set(vars(probe)) != {"packetType", *_TABLES}:
        log.info("paho Properties layout changed; not sharing its tables")
        return False
    SharedTableProperties._shared = (probe.types, probe.names, probe.properties)
    for m in users:
        setattr(m, "Properties", SharedTableProperties)  # noqa: B010 - a private name
    return True
