"""Several instances (docs/ARCHITECTURE.md "Several instances"), measured:

- throughput: readings/s stored by one instance and by two (cluster mode, the same
  four partitions), everything published at once by one publisher per partition;
- failover: two instances under a steady feed, one killed with SIGKILL: time from the
  kill to the first reading of an orphaned partition stored by the taker, and how long
  the backlog queued meanwhile takes to drain.

    .venv/bin/python -m bench.failover [--readings 200000] [--lease 15] [--json FILE]

Prints one JSON object. Real Mosquitto, InfluxDB and PostgreSQL (hazmon.testing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson
import yaml

from hazmon.ingest.topics import Channel, topic_for
from hazmon.simulators.uscc import make_code
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from hazmon.testing.postgres import PostgresServer
from hazmon.testing.process import free_port

REGIONS = {"tinghu": "320902", "yandu": "320903", "xiangshui": "320921", "binhai": "320922"}
PER_REGION, SENSORS, BATCH = 4, 25, 100


def registry(path: Path) -> list[tuple[str, str]]:
    rng = random.Random(6)
    ents = [(make_code(rng, r), r) for r in REGIONS.values() for _ in range(PER_REGION)]
    path.write_text(yaml.safe_dump({"enterprises": [{
        "code": code, "name": f"基准化工{i}", "region": region,
        "hazard_sources": [{
            "code": "MHS-01", "name": "罐区", "kind": "tank_farm", "population_exposed": 10,
            "inventory": [{"chemical": "methanol", "cas": "67-56-1", "tonnes": 900}],
            "sensors": [{"tag": f"MHS-01.T{s:02}.LT01", "kind": "level", "unit": "m",
                         "range": [0, 12], "limits": {"high": 9.5, "high_high": 10.5}}
                        for s in range(SENSORS)],
        }]} for i, (code, region) in enumerate(ents)]}, allow_unicode=True))
    return ents


class Proc:
    def __init__(self, name: str, work: Path, base: dict[str, Any]) -> None:
        self.port = free_port()
        self.config = work / f"{name}.yaml"
        self.log = work / f"{name}.log"
        cfg = {**base, "data_dir": str(work / name),
               "http": {"host": "127.0.0.1", "port": self.port}}
        if "cluster" in base:
            cfg["cluster"] = {**base["cluster"], "instance": name}
        self.config.write_text(yaml.safe_dump(cfg))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hazmon.service.cli", "run", "--config",
                 str(self.config)], stdout=out, stderr=out,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def health(self) -> dict[str, Any]:
        try:
            body: dict[str, Any] = httpx.get(f"http://127.0.0.1:{self.port}/health",
                                             timeout=5).json()
            return body
        except httpx.HTTPError:
            return {}

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def count(influx: str, db: str, where: str = "") -> int:
    r = httpx.get(f"{influx}/query", params={
        "db": db, "q": f'SELECT count("value") FROM "telemetry" {where}'}).json()
    series = r["results"][0].get("series", [])
    return int(series[0]["values"][0][1]) if series else 0


def wait(check: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = check()
        if v:
            return v
        time.sleep(interval)
    raise RuntimeError(f"timed out: {what}")


async def publish(port: int, ents: list[tuple[str, str]], batches: int, t0: int,
                  rate_per_s: float | None, stop: asyncio.Event | None = None) -> int:
    """`batches` batches of BATCH readings per enterprise, round robin; paced at
    `rate_per_s` readings/s overall, or as fast as possible. Returns readings sent."""
    sent = 0
    async with aiomqtt.Client("127.0.0.1", port) as c:
        for b in range(batches):
            for ei, (code, region) in enumerate(ents):
                if stop is not None and stop.is_set():
                    return sent
                base = t0 + (b * len(ents) + ei) * BATCH
                body = orjson.dumps({"seq": b + 1, "readings": [
                    {"tag": f"MHS-01.T{i % SENSORS:02}.LT01", "value": 5.0,
                     "ts": base + i} for i in range(BATCH)]})
                await c.publish(topic_for(region, code, Channel.TELEMETRY), body, qos=1)
                sent += BATCH
                if rate_per_s:
                    await asyncio.sleep(BATCH / rate_per_s)
    return sent


def base_settings(work: Path, mqtt: int, influx: str, db_url: str, db: str,
                  lease: float, cluster: bool) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "registry": str(work / "registry.yaml"), "registry_poll_s": 0, "log_level": "WARNING",
        "mqtt": {"port": mqtt, "client_id": f"hz-{db}", "reconnect_min_s": 0.1},
        "influx": {"url": influx, "database": db},
        "alarms": {"db_url": db_url},
    }
    if cluster:
        cfg["cluster"] = {"partitions": {p: [r] for p, r in REGIONS.items()},
                          "lease_s": lease, "renew_s": lease / 5, "save_s": 5}
    return cfg


def throughput(work: Path, servers: tuple[Mosquitto, InfluxDB, PostgresServer],
               ents: list[tuple[str, str]], n: int, readings: int, lease: float) -> float:
    mq, influx, pg = servers
    db = f"tp{n}"
    base = base_settings(work, mq.port, influx.url, pg.create_database(db), db, lease,
                         cluster=True)
    procs = [Proc(f"{db}-{i}", work, base) for i in range(n)]
    for p in procs:
        p.start()
    try:
        wait(lambda: sum(len(p.health().get("cluster", {}).get("held", []))
                         for p in procs) == 4 and all(
            len(p.health().get("cluster", {}).get("held", [])) == 4 // n for p in procs),
            90, "balanced")
        batches = max(1, readings // (BATCH * len(ents)))
        t0 = time.monotonic()
        sent = asyncio.run(publish(mq.port, ents, batches, 1_795_312_800_000, None))
        wait(lambda: count(influx.url, db) >= sent, 600, "all stored", 0.2)
        return sent / (time.monotonic() - t0)
    finally:
        for p in procs:
            p.stop()


def failover(work: Path, servers: tuple[Mosquitto, InfluxDB, PostgresServer],
             ents: list[tuple[str, str]], lease: float, rate: float) -> dict[str, Any]:
    mq, influx, pg = servers
    db = "failover"
    base = base_settings(work, mq.port, influx.url, pg.create_database(db), db, lease,
                         cluster=True)
    a, b = Proc("fa", work, base), Proc("fb", work, base)
    a.start()
    b.start()
    try:
        wait(lambda: len(a.health().get("cluster", {}).get("held", [])) == 2
             and len(b.health().get("cluster", {}).get("held", [])) == 2, 90, "balanced")
        orphaned = a.health()["cluster"]["held"]
        codes = [c for c, r in ents if r in {REGIONS[p] for p in orphaned}]
        where_orphaned = "WHERE (" + " OR ".join(f"enterprise = '{c}'" for c in codes) + ")"
        stop = asyncio.Event()
        t_start = int(time.time() * 1000)
        out: dict[str, Any] = {"lease_s": lease, "rate_readings_s": rate}

        async def run() -> int:
            feed = asyncio.create_task(publish(mq.port, ents, 10**6, t_start, rate, stop))
            await asyncio.sleep(5)
            before = await asyncio.to_thread(count, influx.url, db, where_orphaned)
            out["kill_ms"] = int(time.time() * 1000)
            a.stop(signal.SIGKILL)
            kill = time.monotonic()
            await asyncio.to_thread(wait, lambda: count(influx.url, db, where_orphaned)
                                    > before, lease * 4, "first orphaned reading", 0.02)
            out["first_orphaned_reading_s"] = round(time.monotonic() - kill, 2)
            await asyncio.sleep(5)
            stop.set()
            sent = await feed
            stop_t = time.monotonic()
            await asyncio.to_thread(wait, lambda: count(influx.url, db) >= sent, 300,
                                    "all stored", 0.05)
            out["drained_after_feed_stopped_s"] = round(time.monotonic() - stop_t, 2)
            return sent

        sent = asyncio.run(run())
        taken = b.health()["cluster"]["taken"]
        out["takeover_after_kill_s"] = {
            t["partition"]: round((t["at_ms"] - out["kill_ms"]) / 1000, 2) for t in taken
            if t["partition"] in orphaned and t["at_ms"] >= out["kill_ms"]}
        out["readings_sent"] = sent
        out["readings_stored"] = count(influx.url, db)
        return out
    finally:
        a.stop()
        b.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--readings", type=int, default=200_000)
    p.add_argument("--lease", type=float, default=15.0)
    p.add_argument("--rate", type=float, default=2000.0)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="hazmon-failover-"))
    (work / "pg").mkdir()
    ents = registry(work / "registry.yaml")
    with Mosquitto(work / "mq") as mq, InfluxDB(work / "influx") as influx, \
            PostgresServer(work / "pg") as pg:
        servers = (mq, influx, pg)
        result: dict[str, Any] = {
            "enterprises": len(ents), "sensors": len(ents) * SENSORS, "batch": BATCH,
            "cpus": os.cpu_count(),
            "throughput_one": round(throughput(work, servers, ents, 1, args.readings,
                                               args.lease)),
            "throughput_two": round(throughput(work, servers, ents, 2, args.readings,
                                               args.lease)),
            "failover": failover(work, servers, ents, args.lease, args.rate),
        }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
