"""The physical limits: the broker and InfluxDB driven by tools that cost next to nothing."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Enterprise, SensorSpec, stop

INFLIGHT = "1000"


def mosquitto_pubs(port: int, topics_files: list[tuple[str, Path]], qos: int = 1,
                   name: str = "pub") -> list[subprocess.Popen[bytes]]:
    """One `mosquitto_pub -l` per (topic, file of payload lines), all started at once."""
    procs = []
    for i, (topic, path) in enumerate(topics_files):
        with path.open("rb") as f:
            procs.append(subprocess.Popen(
                ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", str(qos),
                 "-M", INFLIGHT, "-i", f"bench-{name}-{i}", "-t", topic, "-l"],
                stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
    return procs


def raw_broker(port: int, topics_files: list[tuple[str, Path]], messages: int,
               tag: str = "") -> dict[str, Any]:
    """Messages/s from several mosquitto_pub -l to one mosquitto_sub -C N, QoS 1 both ways."""
    sub = subprocess.Popen(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-i", f"bench-rawsub{tag}",
         "-t", "bench/raw/#", "-C", str(messages)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # subscribed (a QoS 1 subscription of a fresh client takes a few ms)
    t0 = time.monotonic()
    pubs = mosquitto_pubs(port, topics_files, name=f"raw{tag}")
    try:
        sub.wait(600)
    except subprocess.TimeoutExpired:
        stop(sub)
    elapsed = time.monotonic() - t0
    for p in pubs:
        p.wait(60)
    return {"messages": messages, "seconds": elapsed, "rate": messages / elapsed,
            "ok": sub.returncode == 0}


def line_protocol(sensors: list[tuple[Enterprise, SensorSpec]], points: int,
                  t0_ms: int) -> bytes:
    """Line protocol of the same schema and series as hazmon writes (tags sorted)."""
    lines = []
    n = len(sensors)
    for k in range(points):
        ent, s = sensors[k % n]
        lines.append(
            f"telemetry,enterprise={ent.code},hazard_source={s.hazard_source},kind={s.kind},"
            f"region={ent.region},"
            f'tag={s.tag} value={s.normal + (k % 7) * 0.01!r},quality="good" '
            f"{t0_ms + (k // n)}"
        )
    return ("\n".join(lines) + "\n").encode()


def raw_influx(url: str, db: str, bodies: list[bytes], points_per_body: int,
               writers: int) -> dict[str, Any]:
    """Points/s POSTing pre-built bodies with `writers` concurrent connections."""
    httpx.post(f"{url}/query", params={"q": f'CREATE DATABASE "{db}"'}, timeout=30)
    it = iter(bodies)
    lock = threading.Lock()
    errors: list[str] = []

    def work() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            while True:
                with lock:
                    body = next(it, None)
                if body is None:
                    return
                r = client.post("/write", params={"db": db, "precision": "ms"}, content=body)
                if r.status_code != 204:
                    errors.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=work) for _ in range(writers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    total = points_per_body * len(bodies)
    return {"points": total, "seconds": elapsed, "rate": total / elapsed,
            "writers": writers, "errors": errors[:3]}


def influx_count(url: str, db: str, measurement: str = "telemetry") -> int:
    r = httpx.get(f"{url}/query", params={"db": db, "q": f'SELECT count("value") FROM '
                                           f'"{measurement}"'}, timeout=300)
    res = r.json()["results"][0]
    series = res.get("series", [])
    return int(series[0]["values"][0][1]) if series else 0
