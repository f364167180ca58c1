"""CPU per reading of hazmon's own per-message work, in process, stage by stage.

No MQTT, no writer, no HTTP: decode (JSON + validation), sequence tracking, line protocol
and the rules engine, each timed with `time.process_time` around it, on one plant of the
benchmark registry (every rule on; readings 1 s apart per sensor, so the 600 s trend
window takes a new slot every 10th reading of a sensor and the 60 s rate window is fit
then too). The end-to-end figure (MQTT, asyncio, writer included) is `bench.e2e`.

    .venv/bin/python -m bench.hotpath [--batch 1 10 100] [--readings 200000]

It also says whether the compiled (mypyc) modules were loaded, since that is the first
thing to know about a figure from it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.common import build_registry, now_ms, payloads
from hazmon.domain.registry import load_registry
from hazmon.ingest.decode import Decoder
from hazmon.ingest.lineproto import LineEncoder
from hazmon.ingest.sequence import SequenceTracker
from hazmon.rules.engine import RulesEngine

STAGES = ("decode", "sequence", "lineproto", "rules")


def compiled_modules() -> list[str]:
    """hazmon modules loaded from a compiled extension rather than their .py file."""
    return sorted(name for name, mod in sys.modules.items()
                  if name.startswith("hazmon.")
                  and (getattr(mod, "__file__", None) or "").endswith(".so"))


def measure(batch: int, readings: int, work: Path) -> dict[str, float]:
    """µs of CPU per reading for each stage (and in all) at `batch` readings a message."""
    br = build_registry(4, 30, 10)
    reg = load_registry(br.write(work / f"r{batch}.yaml"))
    ent = br.load[0]
    msgs = max(1, readings // batch)
    t0 = now_ms() - 10 * 86_400_000
    pl = payloads(ent, batch, msgs, t0, 1000)
    dec = Decoder(reg, max_bytes=1 << 20, max_readings=10_000, future_tolerance_ms=10**12)
    seqs = SequenceTracker()
    enc = LineEncoder()
    eng = RulesEngine(reg)
    spent = dict.fromkeys(STAGES, 0.0)
    clock = time.process_time
    now = now_ms()
    n = 0
    for p in pl:
        a = clock()
        r = dec.decode(ent.region, ent.code, p, now)
        b = clock()
        seqs.observe(ent.code, r.seq, r.readings, now, r.newest_ms)
        c = clock()
        enc.encode(r.readings)
        d = clock()
        eng.evaluate_many(r.readings)
        e = clock()
        spent["decode"] += b - a
        spent["sequence"] += c - b
        spent["lineproto"] += d - c
        spent["rules"] += e - d
        n += len(r.readings)
    out = {k: v / n * 1e6 for k, v in spent.items()}
    out["total"] = sum(out.values())
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, nargs="+", default=[1, 10, 100])
    p.add_argument("--readings", type=int, default=200_000)
    args = p.parse_args(argv)
    native = compiled_modules()
    print(f"compiled modules: {', '.join(native) if native else 'none (pure Python)'}")
    with tempfile.TemporaryDirectory(prefix="hazmon-hotpath-") as tmp:
        for batch in args.batch:
            readings = args.readings if batch > 1 else args.readings // 4
            r = measure(batch, readings, Path(tmp))
            stages = "  ".join(f"{k} {r[k]:5.2f}" for k in STAGES)
            print(f"batch {batch:3d}: {r['total']:6.2f} µs CPU/reading = {stages}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
