"""Roll call over MQTT through the real service and broker: the call reaches the plant on
its alarms topic, the answer on its `rollcall` topic is recorded; an answer to another
enterprise's call, or unreadable, is ignored and counted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson

from hazmon.duties.rollcall import CallStatus, status
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import make_settings, publish_raw, running, wait_for
from tests.support import ENT, ENT2


async def _first_call(port: int, topic: str, ready: asyncio.Event) -> dict[str, Any]:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(topic, qos=1)
        ready.set()
        async for msg in client.messages:
            assert isinstance(msg.payload, bytes)
            body: dict[str, Any] = orjson.loads(msg.payload)
            if body.get("type") == "roll_call":
                return body
    raise AssertionError("no roll call")


async def test_a_roll_call_is_answered_over_mqtt(
        tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique)
    async with running(settings) as svc:
        token, _ = await svc.tokens.create("county", "320921", "响水县", svc.clock())
        ready = asyncio.Event()
        got = asyncio.create_task(_first_call(mosquitto.port,
                                              f"hazmon/v1/320921/{ENT}/alarms", ready))
        await ready.wait()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.http_port}",
                                     headers={"Authorization": f"Bearer {token}"}) as http:
            r = await http.post("/api/v1/roll-calls", json={"enterprise": ENT})
            assert r.status_code == 201, r.text
        [made] = r.json()["calls"]
        call = await asyncio.wait_for(got, 20)
        assert (call["id"], call["deadline"]) == (made["id"], made["deadline"])
        # another enterprise answering it, and rubbish, are ignored
        await publish_raw(mosquitto.port, f"hazmon/v1/320902/{ENT2}/rollcall",
                          orjson.dumps({"id": call["id"]}))
        await publish_raw(mosquitto.port, f"hazmon/v1/320921/{ENT}/rollcall", b"{not json")
        await wait_for(lambda: svc.roll_calls.ignored, expect=lambda n: n == 2,
                       what="two ignored answers")
        await publish_raw(mosquitto.port, f"hazmon/v1/320921/{ENT}/rollcall",
                          orjson.dumps({"id": call["id"], "by": "值班员王五"}))

        async def answered() -> Any:
            return await svc.duties.store.roll_call(call["id"])

        rc = await wait_for(answered, expect=lambda c: c.answered_at_ms is not None,
                            what="the answer recorded")
        assert rc.answered_by == f"mqtt:{ENT}:值班员王五"
        assert status(rc, svc.clock()) is CallStatus.ANSWERED
