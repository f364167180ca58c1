"""Stored readings read back from InfluxDB as `Reading`s (schema in `lineproto`).

The rules' startup replay uses it: what a crashed process stored and acknowledged after
its last rules snapshot is in InfluxDB (a reading is written before its message is
acknowledged), so the next process can evaluate it again. Readings are read in windows
of data time, both measurements (real and simulated) merged, oldest first; a point whose
sensor the registry does not hold (any more) is left out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import Any, Final

from hazmon.domain.reading import Quality, Reading
from hazmon.domain.registry import Registry
from hazmon.ingest.influx import InfluxClient, InfluxRejected
from hazmon.ingest.lineproto import MEASUREMENT, MEASUREMENT_SIM

WINDOW_MS: Final = 60_000  # one query per minute of data time: a bounded answer each
_QUALITY: Final = {q.value: q for q in Quality}


def _ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _where(start_ms: int, end_ms: int, regions: Collection[str] | None) -> str:
    cond = f"time >= {start_ms}ms AND time < {end_ms}ms"
    if regions is not None:
        cond += " AND (" + " OR ".join(
            f"{_ident('region')} = {_literal(r)}" for r in sorted(regions)) + ")"
    return cond


async def _series(client: InfluxClient, q: str) -> list[dict[str, Any]]:
    try:
        body = await client.query(q)
    except InfluxRejected as exc:
        if "database not found" in str(exc):
            return []  # nothing was ever stored
        raise
    results = body.get("results") or [{}]
    series: list[dict[str, Any]] = results[0].get("series") or []
    return series


async def count_stored(client: InfluxClient, since_ms: int, until_ms: int,
                       regions: Collection[str] | None = None) -> int:
    """How many readings (both measurements) lie in [since, until)."""
    total = 0
    for m in (MEASUREMENT, MEASUREMENT_SIM):
        q = (f'SELECT count("value") FROM {_ident(m)}'
             f" WHERE {_where(since_ms, until_ms, regions)}")
        for s in await _series(client, q):
            for row in s.get("values", []):
                total += int(row[1])
    return total


async def stored_readings(client: InfluxClient, registry: Registry, since_ms: int,
                          until_ms: int, regions: Collection[str] | None = None,
                          window_ms: int = WINDOW_MS) -> AsyncIterator[list[Reading]]:
    """The readings in [since, until) of the given registry regions (None: all), one
    window of data time at a time, each window in time order."""
    sensor = registry.sensor
    for start in range(since_ms, until_ms, window_ms):
        end = min(start + window_ms, until_ms)
        out: list[Reading] = []
        for m, simulated in ((MEASUREMENT, False), (MEASUREMENT_SIM, True)):
            q = (f'SELECT "value", "quality", "enterprise", "tag" FROM {_ident(m)}'
                 f" WHERE {_where(start, end, regions)}")
            for s in await _series(client, q):
                cols: list[str] = s.get("columns", [])
                at = {c: i for i, c in enumerate(cols)}
                it, iv, iq = at["time"], at["value"], at["quality"]
                ie, ig = at["enterprise"], at["tag"]
                for row in s.get("values", []):
                    info = sensor(row[ie], row[ig])
                    if info is None or row[iv] is None:
                        continue
                    out.append(Reading(info, int(row[it]), float(row[iv]),
                                       _QUALITY.get(row[iq], Quality.GOOD), simulated))
        out.sort(key=lambda r: r.ts_ms)
        yield out
