"""RSS per sensor: registry + rules engine with every sample window filled.

Run in its own process (`python -m bench.memory --sensors N`, one JSON line out) so the
figure is that process's RSS and nothing else's.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.common import ROOT, build_registry, rss_kib
from hazmon.domain.reading import Reading
from hazmon.domain.registry import Registry, load_registry
from hazmon.rules import RulesEngine
from hazmon.rules.window import CAPACITY

SPACING_MS = 10_000  # trend window 600 s / 60 slots: each reading takes a new slot


def _write(sensors: int, path: Path) -> Path:
    """A registry file of about `sensors` sensors, every rule on, written by a process of
    its own: building it here would leave this process's heap bigger (and full of reusable
    holes) before the base is taken."""
    subprocess.run([sys.executable, "-m", "bench.memory", "--sensors", str(sensors),
                    "--write", str(path)], check=True, cwd=ROOT)
    return path


def _generate(sensors: int, path: Path) -> None:
    enterprises = max(1, min(50, sensors // 2000))
    per_copy = build_registry(enterprises, 1, probes=1).sensors
    copies = max(1, round(sensors / per_copy))
    build_registry(enterprises, copies, probes=1).write(path)


def _fill(engine: RulesEngine, registry: Registry) -> tuple[int, float]:
    """Feed every sensor CAPACITY + 2 readings 10 s apart: every window full."""
    infos = list(registry.sensors.values())
    t0 = 1_795_312_800_000
    normal = []
    for info in infos:
        lo, hi = info.sensor.range
        lim = info.limits
        low = lim.low if lim is not None and lim.low is not None else lo
        high = lim.high if lim is not None and lim.high is not None else hi
        normal.append(((low + high) / 2, 1e-3 * (hi - lo)))
    states = [engine._by_id[id(info)] for info in infos]
    t_fill = time.monotonic()
    evaluated = 0
    for k in range(CAPACITY + 2):
        ts = t0 + k * SPACING_MS
        # The first round and the last three go through the engine (every rule runs and
        # fits); the rounds between only fill the windows, with the engine's own call.
        through_engine = k == 0 or k >= CAPACITY - 1
        for i, info in enumerate(infos):
            mid, amp = normal[i]
            value = mid + ((i + k) % 7 - 3) * amp
            if through_engine:
                engine.evaluate(Reading(info, ts, value))
                evaluated += 1
            else:
                window = states[i].window
                if window is not None:
                    window.add(ts, value)
                states[i].last_ts = ts
    return evaluated, time.monotonic() - t_fill


def measure(sensors: int) -> dict[str, Any]:
    me = os.getpid()
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(sensors, Path(tmp) / "registry.yaml")
        # Warm-up on a small registry first, so that what every process pays once (modules
        # imported on first use, numpy's first fits, caches) is in the base and the figures
        # are the cost that grows with the number of sensors.
        small = load_registry(_write(1, Path(tmp) / "small.yaml"))
        _fill(RulesEngine(small), small)
        del small
        gc.collect()
        base = rss_kib(me)
        # The service's own path: read the file, parse, validate, index (the file's text
        # and parse tree are freed by the time it returns).
        t_load = time.monotonic()
        registry = load_registry(path)
        load_s = time.monotonic() - t_load
        load_peak = rss_kib(me, "VmHWM")  # the warm-up's peak is far below
    gc.collect()
    after_registry = rss_kib(me)
    engine = RulesEngine(registry)
    gc.collect()
    after_engine = rss_kib(me)
    evaluated, fill_s = _fill(engine, registry)
    n = len(registry.sensors)
    windows = sum(1 for st in engine._sensors.values() if st.window is not None)
    full = sum(1 for st in engine._sensors.values()
               if st.window is not None and len(st.window) == CAPACITY)
    gc.collect()
    filled = rss_kib(me)
    return {
        "sensors": n,
        "windows": windows,
        "windows_full": full,
        "readings_fed": evaluated,
        "load_s": round(load_s, 1),
        "fill_s": round(fill_s, 1),
        "rss_base_kib": base,
        "rss_load_peak_kib": load_peak,
        "rss_registry_kib": after_registry,
        "rss_engine_kib": after_engine,
        "rss_filled_kib": filled,
        "registry_b_per_sensor": (after_registry - base) * 1024 / n,
        "rules_b_per_sensor": (filled - after_registry) * 1024 / n,
        "total_b_per_sensor": (filled - base) * 1024 / n,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sensors", type=int, required=True)
    p.add_argument("--write", type=Path, help="only write the registry file there")
    args = p.parse_args(argv)
    if args.write is not None:
        _generate(args.sensors, args.write)
        return 0
    sys.stdout.write(orjson.dumps(measure(args.sensors)).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
