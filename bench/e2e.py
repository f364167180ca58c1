"""hazmon end to end: MQTT in → decode → rules → InfluxDB stored, plus alarm latency and
catch-up after an InfluxDB outage. hazmon runs as a subprocess (bench.service)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import statistics
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson

from bench.common import BenchRegistry, Enterprise, cpu_seconds, now_ms, payloads, rounds
from bench.raw import INFLIGHT, influx_count, mosquitto_pubs
from bench.service import ServiceProc
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto


@dataclass
class Ctx:
    work: Path
    mqtt_port: int
    influx: InfluxDB
    registry: BenchRegistry
    registry_path: Path
    log: Any = print

    def service(self, name: str, **influx: Any) -> ServiceProc:
        return ServiceProc(self.work / name, self.registry_path, self.mqtt_port,
                           self.influx.url, name, **influx)


@contextlib.contextmanager
def servers(work: Path, registry: BenchRegistry, log: Any = print) -> Iterator[Ctx]:
    """Mosquitto and InfluxDB started under `work`, the registry written beside them."""
    path = registry.write(work / "registry.yaml")
    with Mosquitto(work / "mosquitto") as broker, InfluxDB(work / "influxdb") as influx:
        yield Ctx(work, broker.port, influx, registry, path, log=log)


def write_files(ctx: Ctx, name: str, batch: int, messages: int) -> tuple[list[tuple[str, Path]],
                                                                          int]:
    """Payload files, one per load plant, timed in the recent past (1 s apart per sensor,
    less when a sensor gets more than 250 readings)."""
    ents = ctx.registry.load
    per = max(1, messages // len(ents))
    r = max(rounds(e, batch, per) for e in ents)
    step = max(1, min(1000, 250_000 // max(1, r)))
    t0 = now_ms() - r * step - 5000
    files = []
    for i, e in enumerate(ents):
        path = ctx.work / f"{name}-{i}.txt"
        path.write_bytes(b"\n".join(payloads(e, batch, per, t0, step, seed=i)) + b"\n")
        files.append((e.topic, path))
    return files, per * len(ents) * batch


def _wait_stored(svc: ServiceProc, total: int, stall_s: float = 90.0,
                 samples: list[tuple[float, int, int]] | None = None) -> float:
    """Poll /health until `stored` reaches total; monotonic time it did (or stalled)."""
    last, last_change = -1, time.monotonic()
    while True:
        stored = svc.counters()["stored"]
        t = time.monotonic()
        if samples is not None:
            samples.append((t, stored, svc.rss_kib()))
        if stored >= total:
            return t
        if stored != last:
            last, last_change = stored, t
        elif t - last_change > stall_s:
            return t
        time.sleep(0.1)


def throughput(ctx: Ctx, batch: int, messages: int, tag: str = "") -> dict[str, Any]:
    name = f"e2e_b{batch}{tag}"
    files, total = write_files(ctx, name, batch, messages)
    svc = ctx.service(name).start()
    try:
        cpu0 = cpu_seconds(svc.pid)
        samples: list[tuple[float, int, int]] = []
        t0 = time.monotonic()
        pubs = mosquitto_pubs(ctx.mqtt_port, files, name=name)
        t_end = _wait_stored(svc, total, samples=samples)
        for p in pubs:
            p.wait(60)
        elapsed = t_end - t0
        cpu = cpu_seconds(svc.pid) - cpu0
        c = svc.counters()
        rss = max(s[2] for s in samples)
    finally:
        svc.stop()
    count = influx_count(ctx.influx.url, svc.database)
    # steady part: from 10 % to 90 % of the readings stored
    lo = next((s for s in samples if s[1] >= total * 0.1), samples[0])
    hi = next((s for s in samples if s[1] >= total * 0.9), samples[-1])
    steady = (hi[1] - lo[1]) / (hi[0] - lo[0]) if hi[0] > lo[0] else 0.0
    return {"batch": batch, "messages": total // batch, "readings": total,
            "seconds": elapsed, "rate": total / elapsed, "steady_rate": steady,
            "msg_rate": total / batch / elapsed, "stored": c["stored"], "in_influx": count,
            "lost": total - count, "rejected": c["rejected_readings"],
            "cpu_s": cpu, "cpu_per_reading_us": cpu / total * 1e6, "rss_kib": rss}


class Paced:
    """mosquitto_pub -l fed lines at a fixed message rate from a thread."""

    def __init__(self, port: int, topic: str, lines: Iterable[bytes], msg_rate: float,
                 name: str) -> None:
        self.lines = lines
        self.rate = msg_rate
        self.sent = 0
        self._stop = threading.Event()
        self.proc = subprocess.Popen(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-M", INFLIGHT,
             "-i", name, "-t", topic, "-l"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Paced:
        self.thread.start()
        return self

    def _run(self) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        t0 = time.monotonic()
        lines = iter(self.lines)  # a list, or a generator too long to hold (bench.soak)
        while not self._stop.is_set():
            want = int((time.monotonic() - t0) * self.rate) + 1 - self.sent
            if want > 0:
                chunk = list(itertools.islice(lines, want))
                if chunk:
                    stdin.write(b"\n".join(chunk) + b"\n")
                    stdin.flush()
                    self.sent += len(chunk)
                if len(chunk) < want:
                    break  # all sent
            else:
                time.sleep(0.005)
        stdin.close()

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float = 120) -> None:
        self.thread.join(timeout)
        self.proc.wait(timeout)


def paced_load(ctx: Ctx, name: str, batch: int, rate: float, seconds: float,
               t0_ms: int) -> list[Paced]:
    """Publishers for `rate` readings/s over all load plants for `seconds`, reading times
    from t0_ms on at the pace they are sent."""
    ents = ctx.registry.load
    msg_rate = rate / batch / len(ents)
    per = max(1, int(msg_rate * seconds))
    out = []
    for i, e in enumerate(ents):
        step = max(1, round(len(e.sensors) / (msg_rate * batch) * 1000))
        lines = payloads(e, batch, per, t0_ms, step, seed=100 + i)
        out.append(Paced(ctx.mqtt_port, e.topic, lines, msg_rate, f"bench-{name}-{i}"))
    return out


async def _sse(url: str, token: str, events: list[tuple[int, dict[str, Any]]],
               connected: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=None) as client, \
            client.stream("GET", "/api/v1/alarms/stream", headers=headers) as r:
        r.raise_for_status()
        kind = ""
        async for line in r.aiter_lines():
            if line.startswith(": connected"):
                connected.set()
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "alarm":
                events.append((now_ms(), json.loads(line[6:])))


async def _api_reader(url: str, token: str, stop: asyncio.Event,
                      times_ms: list[float], errors: list[str]) -> None:
    """A duty officer's page polling the API while ingest runs at load: the alarm list and
    the hazard sources, every 250 ms (the stream is the alarm probe above)."""
    headers = {"Authorization": f"Bearer {token}"}
    paths = ["/api/v1/alarms?limit=50", "/api/v1/hazard-sources?limit=50"]
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:
        i = 0
        while not stop.is_set():
            t = time.perf_counter()
            try:
                r = await client.get(paths[i % len(paths)])
                if r.status_code != 200:
                    errors.append(f"HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                errors.append(repr(exc))
            times_ms.append((time.perf_counter() - t) * 1000)
            i += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.25)


async def _probe(ctx: Ctx, svc: ServiceProc, token: str, seconds: float,
                 per_s: float, api_ms: list[float], api_errors: list[str],
                 ) -> tuple[dict[str, int], list[tuple[int, dict[str, Any]]]]:
    events: list[tuple[int, dict[str, Any]]] = []
    connected = asyncio.Event()
    reader = asyncio.create_task(_sse(svc.url, token, events, connected))
    await asyncio.wait_for(connected.wait(), 30)
    stop_api = asyncio.Event()
    api = asyncio.create_task(_api_reader(svc.url, token, stop_api, api_ms, api_errors))
    probe: Enterprise = ctx.registry.probe
    sensors = [s for s in probe.sensors if s.alarm is not None]
    sent: dict[str, int] = {}
    n = min(len(sensors), int(seconds * per_s))
    async with aiomqtt.Client("127.0.0.1", ctx.mqtt_port, identifier="bench-probe") as client:
        t0 = time.monotonic()
        for i in range(n):
            await asyncio.sleep(max(0.0, t0 + i / per_s - time.monotonic()))
            s = sensors[i]
            ts = now_ms()
            body = orjson.dumps({"readings": [{"tag": s.tag, "ts": ts, "value": s.alarm}]})
            sent[s.tag] = ts
            await client.publish(probe.topic, body, qos=1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        seen = {e.get("tag") for _, e in events}
        if all(t in seen for t in sent):
            break
        await asyncio.sleep(0.1)
    stop_api.set()
    await api
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
        await reader
    return sent, events


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, round(q / 100 * len(xs) + 0.5) - 1))
    return xs[k]


def latency(ctx: Ctx, batch: int, rate: float, seconds: float, per_s: float) -> dict[str, Any]:
    name = "latency"
    svc = ctx.service(name).start()
    try:
        token = svc.token()
        pubs = paced_load(ctx, name, batch, rate, seconds + 15, now_ms() + 1000)
        c0 = svc.counters()["stored"]
        t0 = time.monotonic()
        for p in pubs:
            p.start()
        time.sleep(3.0)  # load settled
        api_ms: list[float] = []
        api_errors: list[str] = []
        sent, events = asyncio.run(_probe(ctx, svc, token, seconds, per_s, api_ms, api_errors))
        stored = svc.counters()["stored"] - c0
        achieved = stored / (time.monotonic() - t0)
        for p in pubs:
            p.stop()
        for p in pubs:
            p.wait()
        rss = svc.rss_kib()
    finally:
        svc.stop()
    first: dict[str, int] = {}
    for t, e in events:
        tag = e.get("tag")
        if tag in sent and tag not in first:
            first[tag] = t
    lat = [float(first[t] - sent[t]) for t in sent if t in first]
    return {"batch": batch, "target_rate": rate, "achieved_rate": achieved,
            "probes": len(sent), "events": len(first), "missing": len(sent) - len(first),
            "p50_ms": _pct(lat, 50), "p99_ms": _pct(lat, 99), "max_ms": max(lat, default=0.0),
            "mean_ms": statistics.fmean(lat) if lat else float("nan"), "rss_kib": rss,
            "api_requests": len(api_ms), "api_errors": len(api_errors),
            "api_p50_ms": _pct(api_ms, 50), "api_p99_ms": _pct(api_ms, 99),
            "sample_event": events[0][1] if events else None}


def catchup(ctx: Ctx, batch: int, rate: float, outage_s: float, warm_s: float = 10.0,
            restart: Any = None) -> dict[str, Any]:
    """Steady `rate`; InfluxDB stopped for `outage_s`; then how fast the spool drains."""
    name = "catchup"
    svc = ctx.service(name).start()
    try:
        # enough load to cover warm-up, outage and a drain at 1x (publishing stops earlier
        # if the spool has drained and a few seconds have passed)
        seconds = warm_s + outage_s * 2 + 30
        pubs = paced_load(ctx, name, batch, rate, seconds, now_ms() + 1000)
        for p in pubs:
            p.start()
        time.sleep(warm_s)
        ctx.log(f"  catch-up: stopping InfluxDB for {outage_s:.0f} s")
        ctx.influx.stop()
        t_down = time.monotonic()
        time.sleep(outage_s)
        h = svc.health()
        spooled_at_restart = h["spool"]["readings"]
        ctx.influx.start(timeout=120)
        t_up = time.monotonic()
        drained0 = svc.counters()["drained"]
        t_first = t_empty = None
        peak = spooled_at_restart
        drained_first = drained0
        t_before = t_up  # last poll that saw nothing drained: the drain began after it
        while True:
            h = svc.health()
            t = time.monotonic()
            drained = h["counters"]["drained"]
            peak = max(peak, h["spool"]["readings"])
            if t_first is None:
                if drained > drained0:
                    t_first, drained_first = t_before, drained0
                else:
                    t_before = t
            if t_first is not None and h["spool"]["state"] == "empty":
                t_empty = t
                break
            if t - t_up > outage_s * 5 + 120:
                break
            time.sleep(0.1)
        drained_end = svc.counters()["drained"]
        time.sleep(2.0)
        for p in pubs:
            p.stop()
        for p in pubs:
            p.wait()
        published = sum(p.sent for p in pubs) * batch
        _wait_stored(svc, published, stall_s=60)
        c = svc.counters()
    finally:
        svc.stop()
    count = influx_count(ctx.influx.url, svc.database)
    drain_s = (t_empty - t_first) if (t_empty is not None and t_first is not None) else None
    drained = drained_end - drained_first
    drain_rate = drained / drain_s if drain_s else 0.0
    return {"batch": batch, "rate": rate, "outage_s": outage_s,
            "outage_measured_s": t_up - t_down, "spooled_at_restart": spooled_at_restart,
            "spool_peak": peak,
            "retry_wait_s": (t_first - t_up) if t_first is not None else None,
            "drain_s": drain_s, "drained": drained, "drain_rate": drain_rate,
            "published": published, "stored": c["stored"], "in_influx": count,
            "lost": published - count, "spooled": c["spooled"]}
