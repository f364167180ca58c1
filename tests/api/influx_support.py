"""Write readings into the session's real InfluxDB the way the ingest sink does."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from hazmon.domain.registry import Registry
from hazmon.ingest.influx import InfluxClient
from hazmon.ingest.settings import InfluxSettings


async def create_db(url: str, db: str) -> None:
    async with httpx.AsyncClient(base_url=url) as c:
        r = await c.post("/query", params={"q": f'CREATE DATABASE "{db}"'})
        r.raise_for_status()


async def write(url: str, db: str, registry: Registry, enterprise: str,
                points: Iterable[tuple[str, int, float]], *, simulated: bool = False,
                quality: str = "good") -> None:
    """points: (tag, epoch ms, value)."""
    lines = []
    for tag, ts, value in points:
        info = registry.sensors[(enterprise, tag)]
        m = "telemetry_sim" if simulated else "telemetry"
        lines.append(
            f"{m},enterprise={enterprise},hazard_source={info.hazard_source.code},"
            f"kind={info.sensor.kind.value},region={info.region},tag={tag}"
            f' value={value},quality="{quality}" {ts}'
        )
    async with httpx.AsyncClient(base_url=url) as c:
        r = await c.post("/write", params={"db": db, "precision": "ms"},
                         content="\n".join(lines).encode())
        assert r.status_code == 204, r.text


def client(url: str, db: str) -> InfluxClient:
    return InfluxClient(InfluxSettings(url=url, database=db))
