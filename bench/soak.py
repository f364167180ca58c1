"""A long run at a steady load: does hazmon stay flat?

    .venv/bin/python -m bench.soak                      # one hour at 0.2 x the batch-10 maximum
    .venv/bin/python -m bench.soak --minutes 5 --out -  # a short look

The batch-10 maximum is measured first in the same run (bench.e2e.throughput), then hazmon
runs as a subprocess for `--minutes` under paced batch-10 load on the benchmark registry
(every rule on), with malformed input mixed in: every `--malformed-every`-th message of
each publisher is a bad message (not JSON, wrong shape) and the batch after it carries two
bad readings beside its good ones. Sampled every `--sample-s`: RSS, open file descriptors,
spool bytes, alarm-store bytes (SQLite file and its WAL), alarms and history rows, readings
stored and rejected. At the end, every good reading published must be in InfluxDB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench import e2e
from bench.common import ROOT, Enterprise, build_registry, now_ms
from bench.e2e import Paced
from bench.raw import influx_count
from bench.service import ServiceProc

BAD_MESSAGES = (b"{not json", b'{"readings": 5}', b"[1, 2, 3]", b'{"seq": "x", "readings": []}')


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] soak: {msg}", file=sys.stderr, flush=True)


@dataclass
class Sample:
    t_s: float
    rss_kib: int
    fds: int
    spool_bytes: int
    store_bytes: int
    alarms: int
    history: int
    stored: int
    rejected_payloads: int
    rejected_readings: int


def _lines(ent: Enterprise, batch: int, step_ms: int, t0_ms: int, malformed_every: int,
           excursion: tuple[int, int] = (120, 20)) -> Iterator[tuple[bytes, int]]:
    """Endless (payload, good readings in it): round-robin over the plant's sensors, a
    sensor's n-th reading at t0 + n·step, bad input mixed in. Three sensors of the plant
    that can alarm go above their second level for `excursion[1]` of every
    `excursion[0]` readings, so alarms are raised and cleared all along."""
    sensors = ent.sensors
    n = len(sensors)
    period, span = excursion
    alarming = {s.tag for s in sensors if s.alarm is not None}
    alarming = set(sorted(alarming)[:3])
    k = 0
    seq = 0
    i = 0
    while True:
        i += 1
        if malformed_every and i % malformed_every == 0:
            yield BAD_MESSAGES[(i // malformed_every) % len(BAD_MESSAGES)], 0
            continue
        readings: list[dict[str, Any]] = []
        for _ in range(batch):
            s = sensors[k % n]
            value = s.normal + s.noise * ((k * 7919) % 997 / 498.5 - 1)
            if s.alarm is not None and s.tag in alarming and (k // n) % period < span:
                value = s.alarm
            readings.append({"tag": s.tag, "ts": t0_ms + (k // n) * step_ms,
                             "value": round(value, 4)})
            k += 1
        good = len(readings)
        if malformed_every and i % malformed_every == 1 and i > 1:
            # rejected alone; the good readings of the batch go on
            readings.append({"tag": f"{sensors[0].hazard_source}.XX99", "value": 1.0})
            readings.append({"tag": sensors[0].tag, "value": None})
        seq += 1
        yield orjson.dumps({"seq": seq, "readings": readings}), good


class Publisher(Paced):
    """A paced publisher fed lazily generated lines (an hour of batches would not fit in
    memory as a list), counting the good readings and the bad messages it sent."""

    def __init__(self, port: int, ent: Enterprise, batch: int, msg_rate: float, t0_ms: int,
                 malformed_every: int, name: str) -> None:
        step = max(1, round(len(ent.sensors) / (msg_rate * batch) * 1000))
        self.good = 0
        self.bad = 0
        super().__init__(port, ent.topic,
                         self._counted(_lines(ent, batch, step, t0_ms, malformed_every)),
                         msg_rate, name)

    def _counted(self, lines: Iterator[tuple[bytes, int]]) -> Iterator[bytes]:
        for line, good in lines:
            self.good += good
            self.bad += good == 0
            yield line

    def stop(self) -> None:
        super().stop()
        self.wait(120)


def _dir_bytes(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _store(data: Path) -> tuple[int, int, int]:
    """Bytes of the alarm store's files, rows of alarms and of their history."""
    db = data / "alarms.db"
    size = sum(p.stat().st_size for p in data.glob("alarms.db*") if p.is_file())
    if not db.exists():
        return size, 0, 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        alarms = con.execute("SELECT count(*) FROM alarms").fetchone()[0]
        history = con.execute("SELECT count(*) FROM alarm_history").fetchone()[0]
    finally:
        con.close()
    return size, int(alarms), int(history)


def sample(svc: ServiceProc, t0: float) -> Sample:
    data = svc.workdir / "data"
    c = svc.counters()
    size, alarms, history = _store(data)
    return Sample(round(time.monotonic() - t0, 1), svc.rss_kib(),
                  len(os.listdir(f"/proc/{svc.pid}/fd")), _dir_bytes(data / "spool"), size,
                  alarms, history, c["stored"], c["rejected_payloads"],
                  c["rejected_readings"])


def soak(work: Path, minutes: float, fraction: float, rate: float | None,
         malformed_every: int, sample_s: float, plants: int = 8, copies: int = 30,
         ) -> dict[str, Any]:
    reg = build_registry(plants, copies, 10)
    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                              "sensors": reg.sensors, "minutes": minutes,
                              "malformed_every": malformed_every}
    with e2e.servers(work, reg, log=log) as ctx:
        if rate is None:
            log("measuring the batch-10 maximum")
            best = e2e.throughput(ctx, 10, 20_000)
            result["batch10_max"] = best["rate"]
            rate = best["rate"] * fraction
            result["fraction"] = fraction
        result["rate"] = rate
        log(f"{rate:,.0f} readings/s for {minutes:g} min, every rule on, malformed input")
        svc = ctx.service("soak").start()
        samples: list[Sample] = []
        try:
            msg_rate = rate / 10 / len(reg.load)
            pubs = [Publisher(ctx.mqtt_port, e, 10, msg_rate, now_ms() + 1000,
                              malformed_every, f"soak-{i}")
                    for i, e in enumerate(reg.load)]
            for p in pubs:
                p.start()
            t0 = time.monotonic()
            end = t0 + minutes * 60
            while time.monotonic() < end:
                samples.append(sample(svc, t0))
                s = samples[-1]
                log(f"t={s.t_s:.0f}s rss {s.rss_kib / 1024:.0f} MiB fds {s.fds} "
                    f"stored {s.stored:,} alarms {s.alarms}")
                time.sleep(max(0.0, min(sample_s, end - time.monotonic())))
            for p in pubs:
                p.stop()
            published = sum(p.good for p in pubs)
            e2e._wait_stored(svc, published, stall_s=60)
            samples.append(sample(svc, t0))
        finally:
            svc.stop()
        in_influx = influx_count(ctx.influx.url, svc.database)
    mid = samples[len(samples) // 2]
    result.update({
        "published": published, "bad_messages": sum(p.bad for p in pubs),
        "in_influx": in_influx, "lost": published - in_influx,
        "start": samples[0].__dict__, "middle": mid.__dict__, "end": samples[-1].__dict__,
        "samples": [s.__dict__ for s in samples],
    })
    return result


def render(r: dict[str, Any]) -> str:
    cols = [("t_s", "time s"), ("rss_kib", "RSS KiB"), ("fds", "open fds"),
            ("spool_bytes", "spool B"), ("store_bytes", "alarm store B"),
            ("alarms", "alarms"), ("history", "history rows"), ("stored", "stored"),
            ("rejected_payloads", "rejected payloads"), ("rejected_readings", "rejected readings")]
    head = "| | " + " | ".join(c[1] for c in cols) + " |\n|---|" + "---|" * len(cols) + "\n"
    rows = "".join(f"| {name} | " + " | ".join(f"{r[name][k]:,}" for k, _ in cols) + " |\n"
                   for name in ("start", "middle", "end"))
    basis = (f"{r['fraction']} x the batch-10 maximum of {r['batch10_max']:,.0f} readings/s "
             "measured in the same run" if "batch10_max" in r else "a rate given by --rate")
    return (f"## Soak ({r['minutes']:g} min, started {r['started']})\n\n"
            f"{r['rate']:,.0f} readings/s ({basis}), batches of 10, {r['sensors']:,} sensors "
            f"with every rule on, a bad message every {r['malformed_every']} per publisher "
            "and two bad readings in the batch after it.\n\n"
            + head + rows +
            f"\nGood readings published {r['published']:,}, in InfluxDB {r['in_influx']:,}, "
            f"lost **{r['lost']:,}**; bad messages sent {r['bad_messages']:,}.\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--fraction", type=float, default=0.2,
                   help="of the batch-10 maximum measured first (default 0.2)")
    p.add_argument("--rate", type=float, help="readings/s instead (skips the measurement)")
    p.add_argument("--malformed-every", type=int, default=50)
    p.add_argument("--sample-s", type=float, default=30.0)
    p.add_argument("--plants", type=int, default=8)
    p.add_argument("--copies", type=int, default=30)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "SOAK.md",
                   help="report file ('-' = stdout)")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--workdir", type=Path)
    args = p.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="hazmon-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        r = soak(work, args.minutes, args.fraction, args.rate, args.malformed_every,
                 args.sample_s, args.plants, args.copies)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    text = ("# Soak\n\nWritten by `python -m bench.soak` (see bench/README.md).\n\n"
            + render(r))
    if args.json is not None:
        args.json.write_text(json.dumps(r, indent=2, default=str))
    if str(args.out) == "-":
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        log(f"report written to {args.out}")
    return 0 if r["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
