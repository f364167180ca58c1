"""The long fuzz run: N payloads, good and fuzzed mixed, through a real Mosquitto into
hazmon as a subprocess. Reports crashes (must be 0: the process alive, no internal
errors), good readings stored (must be all) and RSS growth.

    python -m bench.fuzz --payloads 100000     # one JSON line out

Good batches carry readings timed after `good_t0` and unique per series, fuzzed ones are
mutations of batches timed a day earlier, so the good readings can be counted in InfluxDB
apart from fuzzed readings that happen to stay valid.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson

from bench.common import build_registry, now_ms
from bench.e2e import servers
from bench.service import ServiceProc

GOOD_SHARE = 0.3
BATCH = 5
ODD: list[Any] = ["7", None, True, [], {}, 10**30, 10**400, 1e308, "七", "\ud800", "😀" * 40,
                  "2026-13-01T00:00:00Z", -1, "NaN"]
INSERTS = [b"\xff", b"[" * 3000, b"1" * 5000, b"NaN", b"-Infinity", "值".encode(), b"\\u0000"]


def _reading(tag: str, ts: int, rng: random.Random) -> dict[str, Any]:
    return {"tag": tag, "ts": ts, "value": round(rng.uniform(0, 100), 3)}


def _fuzz(batch: dict[str, Any], rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 600))
    if kind == 1:  # change types and magnitudes inside readings
        for r in batch["readings"]:
            if rng.random() < 0.5:
                r[rng.choice(["value", "ts", "quality", "tag"])] = rng.choice(ODD)
        if rng.random() < 0.2:
            batch[rng.choice(["seq", "ts", "simulated"])] = rng.choice(ODD)
        return json.dumps(batch).encode()
    data = bytearray(json.dumps(batch).encode())
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(3)
        if op == 0 and data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif op == 1:
            del data[rng.randrange(len(data) + 1):]
        else:
            at = rng.randrange(len(data) + 1)
            data[at:at] = rng.choice(INSERTS)
    return bytes(data)


def make_payloads(topics: list[tuple[str, list[str]]], n: int, seed: int
                  ) -> tuple[list[tuple[str, bytes]], int, int]:
    """(topic, payload) pairs, the number of good readings and the good readings' first ts."""
    rng = random.Random(seed)
    good_t0 = now_ms() - n * 10 - 60_000
    fuzz_t0 = good_t0 - 86_400_000
    counters = [0] * len(topics)
    out: list[tuple[str, bytes]] = []
    good = 0
    for _ in range(n):
        e = rng.randrange(len(topics))
        topic, tags = topics[e]
        if rng.random() < GOOD_SHARE:
            readings = []
            for _ in range(BATCH):
                k = counters[e]
                counters[e] += 1
                # unique per series: the k-th reading of a plant, round-robin over its tags
                readings.append(_reading(tags[k % len(tags)], good_t0 + k // len(tags), rng))
            out.append((topic, orjson.dumps({"readings": readings})))
            good += BATCH
            continue
        batch = {"readings": [_reading(rng.choice(tags), fuzz_t0 + rng.randrange(10**7), rng)
                              for _ in range(rng.randrange(1, 8))]}
        if rng.random() < 0.05:  # and some at topics that are not the plant's
            topic = rng.choice([topic.replace("/telemetry", "/telemtry"),
                                "hazmon/v1/999999/" + topic.split("/")[3] + "/telemetry",
                                "hazmon/v1/320000/91000000MA0000000X/telemetry"])
        out.append((topic, _fuzz(batch, rng)))
    return out, good, good_t0


async def publish(port: int, messages: list[tuple[str, bytes]]) -> None:
    quiet = logging.getLogger("bench.fuzz.mqtt")  # aiomqtt warns of every pending publish
    quiet.setLevel(logging.ERROR)
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-fuzz", logger=quiet,
                              max_inflight_messages=500) as client:
        for start in range(0, len(messages), 500):
            await asyncio.gather(*(client.publish(t, p, qos=1)
                                   for t, p in messages[start:start + 500]))


def count_since(url: str, db: str, t0_ms: int) -> int:
    r = httpx.get(f"{url}/query", params={
        "db": db, "q": f'SELECT count("value") FROM "telemetry" WHERE time >= {t0_ms}ms'},
        timeout=300)
    series = r.json()["results"][0].get("series", [])
    return int(series[0]["values"][0][1]) if series else 0


def settle(svc: ServiceProc, messages: int, stall_s: float = 60.0) -> None:
    """Until hazmon has taken every message and written what it accepted."""
    last, since = None, time.monotonic()
    while time.monotonic() - since < stall_s:
        c = svc.counters()
        now = (c["mqtt_messages"], c["stored"], c["pending"])
        if c["mqtt_messages"] >= messages and c["pending"] == 0 and now == last:
            return
        if now != last:
            last, since = now, time.monotonic()
        time.sleep(1.0)


def run(n: int, seed: int, work: Path) -> dict[str, Any]:
    registry = build_registry(load_enterprises=4, copies=1, probes=1)
    topics = [(e.topic, [s.tag for s in e.sensors]) for e in registry.load]
    messages, good, good_t0 = make_payloads(topics, n, seed)
    with servers(work, registry, log=lambda *a: None) as ctx:
        svc = ctx.service("fuzz").start()
        try:
            rss0 = svc.rss_kib()
            t0 = time.monotonic()
            asyncio.run(publish(ctx.mqtt_port, messages))
            settle(svc, len(messages))
            seconds = time.monotonic() - t0
            alive = svc.proc is not None and svc.proc.poll() is None
            rss1 = svc.rss_kib() if alive else 0
            c = svc.counters() if alive else {}
            metrics = httpx.get(f"{svc.ops_url}/metrics", timeout=10).text if alive else ""
        finally:
            svc.stop()
        stored_good = count_since(ctx.influx.url, svc.database, good_t0)
    internal = sum(float(line.split()[-1]) for line in metrics.splitlines()
                   if line.startswith("hazmon_ingest_internal_errors_total"))
    return {"payloads": n, "fuzzed": n - good // BATCH, "seconds": round(seconds, 1),
            "alive": alive, "crashes": (0 if alive else 1) + int(internal),
            "internal_errors": int(internal), "good_readings": good,
            "good_stored": stored_good, "good_lost": good - stored_good,
            "rejected_payloads": c.get("rejected_payloads"),
            "rejected_readings": c.get("rejected_readings"),
            "rss_kib_start": rss0, "rss_kib_end": rss1, "rss_growth_kib": rss1 - rss0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--payloads", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", type=Path, help="default: a temporary directory")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hazmon-fuzz-") as tmp:
        result = run(args.payloads, args.seed, args.workdir or Path(tmp))
    print(json.dumps(result))
    ok = result["crashes"] == 0 and result["good_lost"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
