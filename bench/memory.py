"""RSS per sensor: registry + rules engine with every sample window filled.

Run in its own process (`python -m bench.memory --sensors N`, one JSON line out) so the
figure is that process's RSS and nothing else's.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from typing import Any

import orjson

from bench.common import build_registry, rss_kib
from hazmon.domain.reading import Reading
from hazmon.domain.registry import _index, validate_file
from hazmon.domain.sharing import Sharer
from hazmon.rules import RulesEngine
from hazmon.rules.window import CAPACITY

SPACING_MS = 10_000  # trend window 600 s / 60 slots: each reading takes a new slot


def measure(sensors: int) -> dict[str, Any]:
    me = os.getpid()
    enterprises = max(1, min(50, sensors // 2000))
    per_copy = build_registry(enterprises, 1, probes=1).sensors
    copies = max(1, round(sensors / per_copy))
    reg = build_registry(enterprises, copies, probes=1)
    raw = orjson.dumps(reg.data)  # what a process gets from its file
    del reg
    gc.collect()
    base = rss_kib(me)
    sharer = Sharer()
    registry = _index(validate_file(orjson.loads(raw), sharer), {}, "bench", sharer)
    del sharer
    del raw
    gc.collect()
    after_registry = rss_kib(me)
    engine = RulesEngine(registry)
    gc.collect()
    after_engine = rss_kib(me)
    infos = list(registry.sensors.values())
    n = len(infos)
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
    fill_s = time.monotonic() - t_fill
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
        "fill_s": round(fill_s, 1),
        "rss_base_kib": base,
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
    args = p.parse_args(argv)
    sys.stdout.write(orjson.dumps(measure(args.sensors)).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
