"""The InfluxQL the API runs against the `telemetry` measurements (schema in
hazmon.ingest.lineproto), with every value quoted here, in one place.

Identifiers are double-quoted (`tag` is an InfluxQL keyword), string literals
single-quoted with backslash escapes; times are integer epoch milliseconds (`123ms`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hazmon.domain.registry import Enterprise
from hazmon.ingest.influx import InfluxClient, InfluxRejected
from hazmon.ingest.lineproto import MEASUREMENT, MEASUREMENT_SIM

_DURATION_RE = re.compile(r"([1-9][0-9]{0,8})(ms|s|m|h|d)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def measurement(simulated: bool) -> str:
    return MEASUREMENT_SIM if simulated else MEASUREMENT


def stored_simulated(enterprise: Enterprise, simulator: bool) -> bool:
    """Whether a plant's readings are read from the simulated measurement: a simulated
    plant's readings are all stored there (the decoder marks them), whoever asks, and a
    simulator token reads nothing else."""
    return simulator or enterprise.simulated


def parse_duration_ms(text: str) -> int:
    """"90s", "5m", "1h" → milliseconds; ValueError otherwise."""
    m = _DURATION_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a duration like 500ms, 10s, 5m, 1h or 1d")
    return int(m.group(1)) * _UNIT_MS[m.group(2)]


def _any_of(tag_key: str, values: Iterable[str]) -> str:
    return "(" + " OR ".join(f"{ident(tag_key)} = {literal(v)}" for v in values) + ")"


async def run(client: InfluxClient, db: str, q: str) -> list[dict[str, Any]]:
    """The series of a one-statement query; a database not created yet holds nothing."""
    try:
        body = await client.query(q, db=db)
    except InfluxRejected as exc:
        if "database not found" in str(exc):
            return []
        raise
    results = body.get("results") or [{}]
    series: list[dict[str, Any]] = results[0].get("series") or []
    return series


def _rows(series: dict[str, Any]) -> list[dict[str, Any]]:
    cols: list[str] = series.get("columns", [])
    return [dict(zip(cols, row, strict=False)) for row in series.get("values", [])]


@dataclass(frozen=True, slots=True)
class LastReading:
    ts_ms: int
    value: float | None
    quality: str | None


async def last_readings(client: InfluxClient, db: str, enterprises: Sequence[str],
                        since_ms: int, until_ms: int, simulated: bool = False
                        ) -> dict[tuple[str, str], LastReading]:
    """(enterprise, tag) → the newest reading between since and until."""
    if not enterprises:
        return {}
    q = (f'SELECT last("value") AS "value", "quality" FROM {ident(measurement(simulated))}'
         f" WHERE {_any_of('enterprise', enterprises)}"
         f" AND time >= {since_ms}ms AND time <= {until_ms}ms"
         ' GROUP BY "enterprise", "tag"')
    out: dict[tuple[str, str], LastReading] = {}
    for s in await run(client, db, q):
        tags = s.get("tags") or {}
        for row in _rows(s):
            out[(tags.get("enterprise", ""), tags.get("tag", ""))] = LastReading(
                int(row["time"]), row.get("value"), row.get("quality"))
    return out


async def raw_points(client: InfluxClient, db: str, enterprise: str, tags: Sequence[str],
                     from_ms: int, to_ms: int, limit: int, simulated: bool = False
                     ) -> dict[str, list[dict[str, Any]]]:
    """tag → up to `limit` + 1 readings, oldest first (the extra one says "truncated")."""
    q = (f'SELECT "value", "quality" FROM {ident(measurement(simulated))}'
         f" WHERE {ident('enterprise')} = {literal(enterprise)} AND {_any_of('tag', tags)}"
         f" AND time >= {from_ms}ms AND time < {to_ms}ms"
         f' GROUP BY "tag" ORDER BY time ASC LIMIT {limit + 1}')
    return {(s.get("tags") or {}).get("tag", ""): _rows(s) for s in await run(client, db, q)}


async def buckets(client: InfluxClient, db: str, enterprise: str, tags: Sequence[str],
                  from_ms: int, to_ms: int, every_ms: int, simulated: bool = False
                  ) -> dict[str, list[dict[str, Any]]]:
    """tag → mean/min/max/count per `every` bucket (aligned to the epoch), empty ones left
    out."""
    q = ('SELECT mean("value") AS "mean", min("value") AS "min", max("value") AS "max",'
         f' count("value") AS "count" FROM {ident(measurement(simulated))}'
         f" WHERE {ident('enterprise')} = {literal(enterprise)} AND {_any_of('tag', tags)}"
         f" AND time >= {from_ms}ms AND time < {to_ms}ms"
         f' GROUP BY time({every_ms}ms), "tag" fill(none)')
    return {(s.get("tags") or {}).get("tag", ""): _rows(s) for s in await run(client, db, q)}
