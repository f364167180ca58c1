"""End-to-end throughput and hazmon CPU per reading only, for before/after comparisons:

    BENCH_HAZMON_SRC=/path/to/other/checkout .venv/bin/python -m bench.ab --batch 1 100
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import e2e
from bench.common import build_registry


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, nargs="+", default=[1, 100])
    p.add_argument("--readings", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="hazmon-ab-"))
    with e2e.servers(work, build_registry(8, 30, 10)) as ctx:
        for i in range(args.repeat):
            for b in args.batch:
                r = e2e.throughput(ctx, b, max(1, args.readings // b) // (2 if b == 1 else 1),
                                   tag=f"_r{i}")
                print(f"batch {b:3d}: {r['rate']:9,.0f} readings/s, "
                      f"{r['cpu_per_reading_us']:6.1f} µs CPU/reading, lost {r['lost']}",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
