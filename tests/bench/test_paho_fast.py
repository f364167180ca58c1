"""hazmon.ingest.paho_fast (a fix found by the benchmark): paho's MQTT 5 properties decode
the same with shared lookup tables, and values stay per instance."""

from __future__ import annotations

from paho.mqtt import _packet
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hazmon.ingest import paho_fast


def test_shared_tables_decode_like_paho() -> None:
    assert paho_fast.install()
    assert paho_fast.install()  # idempotent
    original = Properties(PacketTypes.PUBLISH)
    original.MessageExpiryInterval = 60
    original.ContentType = "application/json"
    original.UserProperty = ("site", "320921")
    packed = original.pack()

    decoded = _packet.Properties(PacketTypes.PUBLISH)
    assert isinstance(decoded, paho_fast.SharedTableProperties)
    decoded.unpack(packed)
    assert decoded.MessageExpiryInterval == 60
    assert decoded.ContentType == "application/json"
    assert decoded.UserProperty == [("site", "320921")]
    assert decoded.pack() == packed

    other = _packet.Properties(PacketTypes.PUBLISH)
    assert other.names is decoded.names  # the tables are shared ...
    assert other.isEmpty()  # ... the values are not
    assert not hasattr(other, "MessageExpiryInterval")
