"""Profile hazmon under end-to-end load with py-spy (installed into .venv for this).

    .venv/bin/python -m bench.profile --batch 1 --messages 30000 --out b1.txt

Starts Mosquitto and InfluxDB, runs hazmon under `py-spy record` while the load is
published, and prints the functions with the most samples (own and cumulative).
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import e2e
from bench.common import build_registry
from bench.raw import mosquitto_pubs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--messages", type=int, default=30_000)
    p.add_argument("--out", type=Path,
                   default=Path(tempfile.gettempdir()) / "hazmon-profile.txt")
    p.add_argument("--top", type=int, default=35)
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="hazmon-prof-"))
    with e2e.servers(work, build_registry(8, 30, 10)) as ctx:
        files, total = e2e.write_files(ctx, "prof", args.batch, args.messages)
        svc = ctx.service("prof").start()
        # py-spy beside this Python (.venv/bin), whether or not .venv/bin is on PATH
        spy_bin = str(Path(sys.executable).with_name("py-spy"))
        spy = subprocess.Popen([spy_bin, "record", "--pid", str(svc.pid), "--format", "raw",
                                "--rate", "200", "--output", str(args.out), "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        t0 = time.monotonic()
        pubs = mosquitto_pubs(ctx.mqtt_port, files, name="prof")
        end = e2e._wait_stored(svc, total)
        for q in pubs:
            q.wait(60)
        print(f"{total / (end - t0):,.0f} readings/s under py-spy", file=sys.stderr)
        spy.send_signal(2)
        spy.wait(60)
        svc.stop()
    own: collections.Counter[str] = collections.Counter()
    cum: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in args.out.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        count = int(n)
        frames = stack.split(";")
        samples += count
        own[frames[-1]] += count
        for f in set(frames):
            cum[f] += count
    print(f"{samples} samples; own time:")
    for f, n in own.most_common(args.top):
        print(f"  {n / samples:6.1%}  {f}")
    print("cumulative:")
    for f, n in cum.most_common(args.top):
        print(f"  {n / samples:6.1%}  {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
